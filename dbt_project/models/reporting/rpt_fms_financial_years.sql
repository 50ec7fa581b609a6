-- Demand per series and financial year (April to March), summed from the reconciled months of
-- rpt_fms_monthly: complete recorded years (the history; the latest is the baseline), the
-- current year (months recorded so far plus the forecast of the rest) and the projection
-- years. A year's interval bounds are the recorded months plus the sums of the monthly bounds
-- (errors treated as perfectly correlated: the widest, most cautious reading). Beside each
-- forecast year, the interval coverage measured by the held-out back-test at that horizon
-- (the lowest over the held-out datasets; none beyond the horizons tested) and, on every
-- forecast year, whether that test calls the forecast poor.
with

months as (
    select * from {{ ref('rpt_fms_monthly') }}
),

coverage as (
    select * from {{ ref('rpt_fms_backtest') }}
    where is_held_out
),

coverage_by_horizon as (
    select
        horizon_years,
        min(coverage80) as measured_coverage80,
        min(coverage95) as measured_coverage95
    from coverage
    group by horizon_years
),

-- the warning applies to every forecast year (untested horizons are no better than tested)
verdict as (
    select coalesce(bool_or(is_poor), false) as backtest_is_poor
    from coverage
),

years as (
    select
        series,
        any_value(series_label) as series_label,
        any_value(series_family) as series_family,
        any_value(series_order) as series_order,
        financial_year_start,
        count(*) filter (where kind = 'actual') as months_recorded,
        count(*) filter (where kind = 'forecast') as months_forecast,
        coalesce(sum(value) filter (where kind = 'actual'), 0) as recorded,
        sum(value) as value,
        sum(case when kind = 'forecast' then lo80 else value end) as lo80,
        sum(case when kind = 'forecast' then hi80 else value end) as hi80,
        sum(case when kind = 'forecast' then lo95 else value end) as lo95,
        sum(case when kind = 'forecast' then hi95 else value end) as hi95,
        any_value(model) as model,
        any_value(reconciliation) filter (where kind = 'forecast') as reconciliation,
        any_value(cv_mase) as cv_mase,
        coalesce(any_value(break_applied), '') as break_applied
    from months
    group by series, financial_year_start
    -- a year the data or the horizon cover only in part is not a year to compare
    having count(*) = 12
),

current_year as (
    select min(financial_year_start) as first_forecast_year
    from years
    where months_forecast > 0
),

labelled as (
    select
        years.*,
        case
            when years.months_forecast = 0 then 'recorded'
            when years.months_recorded > 0 then 'current year (recorded to date + forecast)'
            else 'forecast'
        end as status,
        case
            when years.months_forecast > 0 then years.financial_year_start - current_year.first_forecast_year
        end as years_ahead,
        years.months_forecast = 0
        and years.financial_year_start = max(years.financial_year_start) filter (
            where years.months_forecast = 0
        ) over (partition by years.series) as is_baseline
    from years
    cross join current_year
),

final as (
    select
        labelled.series,
        labelled.series_label,
        labelled.series_family,
        labelled.series_order,
        labelled.financial_year_start,
        cast(labelled.financial_year_start as varchar) || '/'
        || right(cast(labelled.financial_year_start + 1 as varchar), 2) as financial_year,
        labelled.status,
        cast(labelled.years_ahead as integer) as years_ahead,
        coalesce(labelled.is_baseline, false) as is_baseline,
        cast(labelled.months_recorded as integer) as months_recorded,
        cast(labelled.months_forecast as integer) as months_forecast,
        labelled.recorded,
        labelled.value,
        labelled.lo80,
        labelled.hi80,
        labelled.lo95,
        labelled.hi95,
        labelled.model,
        coalesce(labelled.reconciliation, 'recorded') as reconciliation,
        labelled.cv_mase,
        labelled.break_applied,
        -- the current year is at most one year ahead: it is read at the 1-year horizon
        coverage_by_horizon.measured_coverage80,
        coverage_by_horizon.measured_coverage95,
        labelled.years_ahead is not null and verdict.backtest_is_poor as backtest_is_poor
    from labelled
    cross join verdict
    left join coverage_by_horizon
        on
            labelled.years_ahead is not null
            and greatest(labelled.years_ahead, 1) = coverage_by_horizon.horizon_years
)

select * from final
