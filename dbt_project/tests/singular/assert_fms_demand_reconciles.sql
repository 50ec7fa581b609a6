-- One set of demand figures: in every month, recorded or forecast, the parts of each split
-- forecast in full (domestic abuse / not, online / offline) add up to all stalking-universe
-- crimes; the financial years and quarters are the sums of their months; and the recorded
-- months equal the demand series the forecast was fitted to, and the recorded quarters equal
-- the demand section's counts (rpt_crimes_by_category).
with

months as (
    select * from {{ ref('rpt_fms_monthly') }}
),

totals as (
    select
        period_start,
        value
    from months
    where series = 'all_stalking'
),

splits as (
    select
        series_family,
        period_start,
        sum(value) as value
    from months
    where series_family in ('domestic_abuse', 'online')
    group by series_family, period_start
    having count(*) = 2
),

split_mismatches as (
    select
        splits.period_start,
        'parts of ' || splits.series_family || ' do not add up to all crimes' as rule
    from splits
    inner join totals
        on splits.period_start = totals.period_start
    where abs(splits.value - totals.value) > 1e-6
),

years as (
    select
        series,
        financial_year_start,
        sum(value) as value
    from months
    group by series, financial_year_start
),

year_mismatches as (
    select
        make_date(fy.financial_year_start, 4, 1) as period_start,
        'financial year of ' || fy.series || ' is not the sum of its months' as rule
    from {{ ref('rpt_fms_financial_years') }} as fy
    inner join years
        on fy.series = years.series and fy.financial_year_start = years.financial_year_start
    where abs(fy.value - years.value) > 1e-6
),

quarter_sums as (
    select
        series,
        quarter,
        sum(value) as value
    from months
    group by series, quarter
),

quarter_mismatches as (
    select
        q.quarter_start as period_start,
        'quarter of ' || q.series || ' is not the sum of its months' as rule
    from {{ ref('rpt_fms_quarters') }} as q
    inner join quarter_sums
        on q.series = quarter_sums.series and q.quarter = quarter_sums.quarter
    where abs(q.value - quarter_sums.value) > 1e-6
),

recorded_mismatches as (
    select
        months.period_start,
        'recorded ' || months.series || ' differs from the demand series' as rule
    from months
    inner join {{ ref('demand_series') }} as demand
        on
            months.series = demand.series
            and demand.period = 'month'
            and months.period_start = demand.period_start
    where months.kind = 'actual' and months.value <> demand.value
),

section_counts as (
    select
        quarter,
        case
            when breakdown = 'domestic_abuse' and category = 'domestic_abuse' then 'domestic_abuse'
            when breakdown = 'domestic_abuse' then 'non_domestic_abuse'
            when category = 'online' then 'online'
            else 'offline'
        end as series,
        crimes
    from {{ ref('rpt_crimes_by_category') }}
    where breakdown in ('domestic_abuse', 'online')
    union all
    select
        quarter,
        'all_stalking' as series,
        sum(crimes) as crimes
    from {{ ref('rpt_crimes_by_category') }}
    where breakdown = 'domestic_abuse'
    group by quarter
),

section_mismatches as (
    select
        q.quarter_start as period_start,
        'recorded quarter of ' || q.series || ' differs from the demand section' as rule
    from {{ ref('rpt_fms_quarters') }} as q
    left join section_counts
        on q.series = section_counts.series and q.quarter = section_counts.quarter
    where
        q.kind = 'recorded'
        and q.series in ('all_stalking', 'domestic_abuse', 'non_domestic_abuse', 'online', 'offline')
        and q.value <> coalesce(section_counts.crimes, 0)
)

select * from split_mismatches
union all
select * from section_mismatches
union all
select * from year_mismatches
union all
select * from quarter_mismatches
union all
select * from recorded_mismatches
