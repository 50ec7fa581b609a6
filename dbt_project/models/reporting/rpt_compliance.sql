-- Victims' Code and SPO compliance measures per quarter as the profile prints them: label,
-- description, numerator and denominator overall and split by domestic abuse.
with

compliance as (
    select * from {{ ref('compliance') }}
),

final as (
    select
        quarter,
        measure,
        replace(upper(left(measure, 1)) || lower(substr(replace(measure, '_', ' '), 2)), 'Spo ', 'SPO ')
            as measure_label,
        max(measure_description) over (partition by measure) as measure_description,
        numerator,
        denominator,
        numerator_da,
        denominator_da,
        numerator_non_da,
        denominator_non_da
    from compliance
)

select * from final
