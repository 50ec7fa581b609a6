-- What a profile section's captions and texts name besides the compared quarters, one row per
-- quarter (pipelines.report.sections fills a declared {placeholder} from the quarter's row):
-- the twelve months the orders' tables cover, the cohorts of the order-effectiveness table and
-- whether a partnership lookup names the districts' community safety partnerships; and, for
-- the information gaps, whether the delivery holds any crime of the universe and any located
-- one.
with

quarters as (
    select quarter from {{ ref('int_quarters') }}
),

funnel as (
    select
        quarter,
        any_value(window_first_quarter) as window_first_quarter
    from {{ ref('rpt_orders_spo_funnel') }}
    group by quarter
),

cohort_per_followup as (
    select
        quarter,
        followup_months,
        any_value(cohort_label) as cohort_label
    from {{ ref('rpt_orders_effectiveness') }}
    group by quarter, followup_months
),

cohorts as (
    select
        quarter,
        string_agg(
            cast(followup_months as varchar) || ' months ' || cohort_label, '; '
            order by followup_months
        ) as order_cohorts
    from cohort_per_followup
    group by quarter
),

districts as (
    select
        quarter,
        bool_or(csp <> '') as has_csp
    from {{ ref('rpt_profile_districts') }}
    group by quarter
),

delivery as (
    select coalesce(sum(crimes), 0) > 0 as has_crimes
    from {{ ref('rpt_profile_demand_by_quarter') }}
),

located as (
    select coalesce(sum(located_crimes), 0) > 0 as has_located_crimes
    from {{ ref('rpt_hotspots_by_quarter') }}
),

final as (
    select
        quarters.quarter,
        coalesce(funnel.window_first_quarter, quarters.quarter)
        || ' to ' || quarters.quarter as orders_window,
        coalesce(cohorts.order_cohorts, '') as order_cohorts,
        coalesce(districts.has_csp, false) as has_csp,
        delivery.has_crimes,
        located.has_located_crimes
    from quarters
    cross join delivery
    cross join located
    left join funnel on quarters.quarter = funnel.quarter
    left join cohorts on quarters.quarter = cohorts.quarter
    left join districts on quarters.quarter = districts.quarter
)

select * from final
