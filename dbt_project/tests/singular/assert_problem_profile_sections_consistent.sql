-- The problem-profile section models hold together: parts never exceed their whole (breaches
-- and re-offending within a cohort, the SPO funnel, applications, gap shares), the DA and
-- non-DA groups add up to "all", and the DA split of crimes adds up to the universe.
select 'orders_effectiveness' as failing, quarter
from {{ ref('rpt_orders_effectiveness') }}
where breached_within > orders_granted or reoffended_within > orders_granted
union all
select 'orders_effectiveness_groups', quarter
from {{ ref('rpt_orders_effectiveness') }}
group by quarter, order_type, followup_months
having
    sum(orders_granted) filter (where da_group = 'all')
    <> sum(orders_granted) filter (where da_group <> 'all')
union all
select 'spo_funnel', quarter
from {{ ref('rpt_orders_spo_funnel') }}
where spo_granted > spo_applied or spo_applied > stalking_crimes or spo_considered > stalking_crimes
union all
select 'orders_applications', quarter
from {{ ref('rpt_orders_applications') }}
where granted + refused > applications
union all
select 'breach_actions_groups', quarter
from {{ ref('rpt_orders_breach_actions') }}
group by quarter, action
having sum(breaches) filter (where da_group = 'all') <> sum(breaches) filter (where da_group <> 'all')
union all
select 'assessment_gaps', quarter
from {{ ref('rpt_assessment_gaps') }}
where numerator > denominator
union all
select 'splits_vs_universe', splits.quarter
from (
    select
        quarter,
        sum(value) as crimes
    from {{ ref('rpt_profile_splits') }}
    where split = 'domestic_abuse' and measure = 'crimes'
    group by quarter
) as splits
left join (
    select
        quarter,
        count(*) as crimes
    from {{ ref('stalking_crimes') }}
    group by quarter
) as universe on splits.quarter = universe.quarter
where splits.crimes <> coalesce(universe.crimes, 0)
union all
select 'districts_vs_universe', districts.quarter
from (
    select
        quarter,
        sum(crimes) as crimes
    from {{ ref('rpt_places_by_district') }}
    group by quarter
) as districts
left join (
    select
        quarter,
        count(*) as crimes
    from {{ ref('stalking_crimes') }}
    group by quarter
) as universe on districts.quarter = universe.quarter
where districts.crimes <> coalesce(universe.crimes, 0)
