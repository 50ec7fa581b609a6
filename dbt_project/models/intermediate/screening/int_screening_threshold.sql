{%- set screening = setting('screening') -%}
-- The threshold screening runs with: the one the assurance asset chose from the returned review
-- samples (marts.screening_threshold: calibrated, an override or the configured one, with its
-- reason), else the configured one (the table empty: a run without the asset). One row.
with

chosen as (
    select * from {{ source('screening_calibration', 'screening_threshold') }}
),

final as (
    select
        cast(coalesce(max(chosen.threshold), {{ screening['threshold'] }}) as integer) as threshold,
        cast({{ screening['threshold'] }} as integer) as configured_threshold,
        coalesce(max(chosen.threshold_source), 'configured') as threshold_source
    from chosen
)

select * from final
