-- The domestic-abuse and online split tables as the profile prints them: per quarter, split and
-- measure, each side's count a year before and in the quarter (zero where a quarter has no row).
-- The first side is the flagged one (domestic abuse, online), the second the rest.
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

splits as (
    select * from {{ ref('rpt_profile_splits') }}
),

paired as (
    select
        now.quarter,
        now.split,
        now.measure,
        now.measure_label,
        now.measure_order,
        now.side_order,
        now.value as value_now,
        coalesce(year_ago.value, 0) as value_year_ago
    from splits as now
    inner join quarters on now.quarter = quarters.quarter
    left join splits as year_ago
        on
            quarters.year_ago_quarter = year_ago.quarter
            and now.split = year_ago.split
            and now.measure = year_ago.measure
            and now.side_order = year_ago.side_order
),

final as (
    select
        quarter,
        split,
        measure,
        measure_label,
        measure_order,
        cast(coalesce(max(value_year_ago) filter (where side_order = 1), 0) as bigint)
            as first_side_year_ago,
        cast(coalesce(max(value_now) filter (where side_order = 1), 0) as bigint) as first_side_now,
        cast(coalesce(max(value_year_ago) filter (where side_order = 2), 0) as bigint)
            as second_side_year_ago,
        cast(coalesce(max(value_now) filter (where side_order = 2), 0) as bigint) as second_side_now
    from paired
    group by quarter, split, measure, measure_label, measure_order
)

select * from final
