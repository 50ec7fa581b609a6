-- Per complete recorded financial year: the stalking universe, the screened-in crimes among
-- them (the hidden-demand scenario's share), applications for stalking protection orders
-- and victims referred to support, each per crime (the workload conversion's measured
-- starting rates). Months are those of rpt_fms_monthly's all-crimes series, so the universe
-- here is the history's figure; orders and referrals count by quarter (their marts' grain),
-- the quarters of the year April-June to January-March. Orders are delivered apart from crimes,
-- so a quarter of the year whose crimes were not delivered (a delivery gap) still holds its
-- applications: the applications per crime are measured over the year's quarters whose every
-- month was delivered, orders and crimes alike, so a gap does not inflate the rate.
with

years as (
    select * from {{ ref('rpt_fms_financial_years') }}
    where series = 'all_stalking' and status = 'recorded'
),

months as (
    select
        period_start,
        value,
        is_delivery_gap
    from {{ ref('rpt_fms_monthly') }}
    where series = 'all_stalking' and kind = 'actual'
),

screened as (
    select
        {{ financial_year_of('series.period_start') }} as financial_year_start,
        cast(sum(series.value) as double) as screened_crimes
    from {{ ref('demand_series') }} as series
    inner join months
        on series.period_start = months.period_start
    where series.series = 'identified_screened' and series.period = 'month'
    group by 1
),

quarter_years as (
    select
        quarter,
        q_start,
        {{ financial_year_of('q_start') }} as financial_year_start
    from {{ ref('int_quarters') }}
),

-- the year's quarters whose three months were all delivered, with their universe crimes
delivered_quarters as (
    select
        quarter_years.quarter,
        sum(months.value) as universe_crimes
    from quarter_years
    inner join months
        on
            quarter_years.q_start <= months.period_start
            and quarter_years.q_start + interval 3 month > months.period_start
    group by 1
    having count(*) = 3 and not bool_or(months.is_delivery_gap)
),

orders as (
    select
        quarter_years.financial_year_start,
        sum(orders.applications) as stalking_order_applications,
        sum(orders.applications) filter (
            where delivered_quarters.quarter is not null
        ) as delivered_quarter_applications
    from {{ ref('protective_orders') }} as orders
    inner join quarter_years
        on orders.quarter = quarter_years.quarter
    left join delivered_quarters
        on orders.quarter = delivered_quarters.quarter
    where orders.is_stalking_order
    group by 1
),

delivered_years as (
    select
        quarter_years.financial_year_start,
        sum(delivered_quarters.universe_crimes) as universe_crimes,
        count(*) as quarters_delivered
    from delivered_quarters
    inner join quarter_years
        on delivered_quarters.quarter = quarter_years.quarter
    group by 1
),

referrals as (
    select
        quarter_years.financial_year_start,
        sum(compliance.numerator) as support_referrals,
        sum(compliance.denominator) as crimes_due_referral
    from {{ ref('compliance') }} as compliance
    inner join quarter_years
        on compliance.quarter = quarter_years.quarter
    where compliance.measure = 'support_referral_made'
    group by 1
),

final as (
    select
        years.financial_year_start,
        years.financial_year,
        years.is_baseline,
        years.value as universe_crimes,
        coalesce(screened.screened_crimes, 0) as screened_crimes,
        coalesce(screened.screened_crimes, 0) / nullif(years.value, 0) as screened_share,
        cast(coalesce(orders.stalking_order_applications, 0) as bigint) as stalking_order_applications,
        coalesce(orders.delivered_quarter_applications, 0) / nullif(delivered_years.universe_crimes, 0)
            as stalking_order_applications_per_crime,
        cast(coalesce(delivered_years.quarters_delivered, 0) as integer) as quarters_delivered,
        cast(coalesce(referrals.support_referrals, 0) as bigint) as support_referrals,
        coalesce(referrals.support_referrals, 0) / nullif(referrals.crimes_due_referral, 0) as support_referral_share
    from years
    left join screened
        on years.financial_year_start = screened.financial_year_start
    left join orders
        on years.financial_year_start = orders.financial_year_start
    left join delivered_years
        on years.financial_year_start = delivered_years.financial_year_start
    left join referrals
        on years.financial_year_start = referrals.financial_year_start
)

select * from final
