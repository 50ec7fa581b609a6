-- The perpetrator counts the profile compares across quarters (resolved people, from the
-- perpetrators mart): one row per quarter.
with

perpetrators as (
    select * from {{ ref('perpetrators') }}
),

final as (
    select
        quarter,
        count(*) as perpetrators,
        count(*) filter (where is_repeat) as repeat_perpetrators,
        count(*) filter (where is_serial) as serial_perpetrators,
        count(*) filter (where is_high_harm) as high_harm_perpetrators,
        count(*) filter (where breaches_12m > 0) as with_breach_12m,
        count(*) filter (where has_active_order) as with_active_order,
        count(*) filter (where is_high_harm and not has_active_order) as high_harm_without_order
    from perpetrators
    group by quarter
)

select * from final
