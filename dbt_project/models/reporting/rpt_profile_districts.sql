-- The profile's district table: per quarter, every district with stalking crime in the quarter
-- or a year before it (in district order), its partnership, the quarter's crimes, domestic-abuse
-- and online crimes and victims, and its crimes a year before; zero where it had none.
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

by_district as (
    select * from {{ ref('rpt_places_by_district') }}
),

shown as (
    select distinct
        quarters.quarter,
        quarters.year_ago_quarter,
        by_district.district,
        by_district.district_order
    from quarters
    inner join by_district
        on by_district.quarter in (quarters.quarter, quarters.year_ago_quarter)
),

final as (
    select
        shown.quarter,
        shown.district,
        shown.district_order,
        coalesce(now.csp, '') as csp,
        coalesce(year_ago.crimes, 0) as crimes_year_ago,
        coalesce(now.crimes, 0) as crimes,
        coalesce(now.crimes_domestic_abuse, 0) as crimes_domestic_abuse,
        coalesce(now.crimes_online, 0) as crimes_online,
        coalesce(now.victims, 0) as victims
    from shown
    left join by_district as now
        on shown.district = now.district and shown.quarter = now.quarter
    left join by_district as year_ago
        on shown.district = year_ago.district and shown.year_ago_quarter = year_ago.quarter
)

select * from final
