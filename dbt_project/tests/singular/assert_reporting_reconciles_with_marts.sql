-- The reporting layer adds up to the marts it summarises: each breakdown of
-- rpt_crimes_by_category sums to the quarter's stalking-universe crimes; repeat victims split
-- by crime count sum to all repeat victims; every perpetrator subset fits inside its whole.
with

crimes as (
    select
        quarter,
        count(*) as crimes
    from {{ ref('stalking_crimes') }}
    group by quarter
),

breakdowns as (
    select
        quarter,
        breakdown,
        sum(crimes) as crimes
    from {{ ref('rpt_crimes_by_category') }}
    group by quarter, breakdown
),

breakdown_mismatches as (
    select
        breakdowns.quarter,
        'crimes by ' || breakdowns.breakdown as rule
    from breakdowns
    left join crimes on breakdowns.quarter = crimes.quarter
    where breakdowns.crimes is distinct from crimes.crimes
),

victim_mismatches as (
    select
        quarter,
        'repeat victims by crime count' as rule
    from {{ ref('rpt_victims_by_quarter') }}
    where
        repeat_victims_2_crimes + repeat_victims_3_to_4_crimes + repeat_victims_5_or_more_crimes
        <> repeat_victims
        or repeat_victims_with_crime_in_quarter > repeat_victims
),

perpetrator_mismatches as (
    select
        quarter,
        'perpetrator subset larger than its whole' as rule
    from {{ ref('rpt_perpetrators_by_quarter') }}
    where
        greatest(
            repeat_perpetrators, serial_perpetrators, high_harm_perpetrators, with_breach_12m,
            with_active_order
        ) > perpetrators
        or high_harm_without_order > high_harm_perpetrators
)

select * from breakdown_mismatches
union all
select * from victim_mismatches
union all
select * from perpetrator_mismatches
