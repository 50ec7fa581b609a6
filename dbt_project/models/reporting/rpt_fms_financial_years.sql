-- Demand per series and financial year (April to March), summed from the reconciled months of
-- rpt_fms_monthly: complete recorded years (the history; the latest is the baseline), the
-- current year (months recorded so far plus the forecast of the rest) and the projection
-- years. A forecast year's range is built directly from the shipped error pool
-- (marts.forecast_error_pool): the year's total x the pooled log-ratio bounds of a year's total
-- ending that many months after the last recorded month, never below what is already recorded.
-- Summing monthly bounds instead would compound month after month (a four-year range of
-- twenty times the forecast); it is kept only as the fallback when no pool is configured.
-- Beside each forecast year, the interval coverage the held-out back-test measured for
-- financial-year totals that far ahead (rpt_fms_backtest.tests_fms_figures) and, on every
-- forecast year, whether that test calls the forecast poor; and the naive forecast the
-- back-tests measure the method against, so an author sees what the model adds.
with

months as (
    select * from {{ ref('rpt_fms_monthly') }}
),

coverage as (
    select * from {{ ref('rpt_fms_backtest') }}
    where is_held_out and tests_fms_figures
),

coverage_by_horizon as (
    select
        horizon_years,
        min(coverage80) as measured_coverage80,
        min(coverage95) as measured_coverage95
    from coverage
    group by horizon_years
),

-- log-ratio bounds of a total ending `months_ahead` months after the last recorded month
pool as (
    select
        months_ahead,
        max(lower_log_ratio) filter (where level = 80) as lower80,
        max(upper_log_ratio) filter (where level = 80) as upper80,
        max(lower_log_ratio) filter (where level = 95) as lower95,
        max(upper_log_ratio) filter (where level = 95) as upper95
    from {{ source('forecasting', 'forecast_error_pool') }}
    where kind = 'rolling_year'
    group by months_ahead
),

last_recorded as (
    select
        series,
        max(period_start) as last_recorded_month
    from months
    where kind = 'actual'
    group by series
),

-- The naive forecast: the series' last 12 recorded months repeated (each forecast month takes
-- the count of the same calendar month in the last recorded year), the forecast the back-tests'
-- naive MASE scores. A month of the last year that is a gap in the delivery (no value) takes
-- its calendar month of the year before, so a gap does not read as no demand. A series
-- without each calendar month delivered in its last two years has none.
delivered_months as (
    select
        months.series,
        month(months.period_start) as calendar_month,
        months.value,
        row_number() over (
            partition by months.series, month(months.period_start)
            order by months.period_start desc
        ) as recency
    from months
    inner join last_recorded
        on months.series = last_recorded.series
    where
        months.kind = 'actual'
        and months.value is not null
        and months.period_start > last_recorded.last_recorded_month - interval 24 month
),

last_recorded_year as (
    select
        series,
        calendar_month,
        value
    from delivered_months
    where recency = 1
),

complete_last_year as (
    select series
    from last_recorded_year
    group by series
    having count(*) = 12
),

naive_years as (
    select
        months.series,
        months.financial_year_start,
        sum(case when months.kind = 'actual' then months.value else repeated.value end) as naive_value
    from months
    inner join complete_last_year
        on months.series = complete_last_year.series
    left join last_recorded_year as repeated
        on
            months.kind = 'forecast'
            and months.series = repeated.series
            and month(months.period_start) = repeated.calendar_month
    group by months.series, months.financial_year_start
),

-- the warning applies to every forecast year (untested horizons are no better than tested)
verdict as (
    select coalesce(bool_or(is_poor), false) as backtest_is_poor
    from coverage
),

model_labels as (
    select * from {{ ref('rpt_fms_model_labels') }}
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
        count(*) filter (where is_delivery_gap) as months_not_delivered,
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

-- the months from the last recorded month to the end (March) of each forecast year
years_ahead_of_data as (
    select
        years.*,
        case
            when years.months_forecast > 0
                then datediff(
                    'month',
                    last_recorded.last_recorded_month,
                    make_date(years.financial_year_start + 1, 3, 1)
                )
        end as months_ahead
    from years
    left join last_recorded
        on years.series = last_recorded.series
),

ranged as (
    select
        dated.* replace (
            coalesce(
                greatest(dated.recorded, (dated.value + 1) * exp(pool.lower80) - 1), dated.lo80
            ) as lo80,
            coalesce(
                greatest(dated.value, (dated.value + 1) * exp(pool.upper80) - 1), dated.hi80
            ) as hi80,
            coalesce(
                greatest(dated.recorded, (dated.value + 1) * exp(pool.lower95) - 1), dated.lo95
            ) as lo95,
            coalesce(
                greatest(dated.value, (dated.value + 1) * exp(pool.upper95) - 1), dated.hi95
            ) as hi95
        )
    from years_ahead_of_data as dated
    left join pool
        on dated.months_ahead = pool.months_ahead
),

current_year as (
    select min(financial_year_start) as first_forecast_year
    from years
    where months_forecast > 0
),

labelled as (
    select
        ranged.*,
        case
            when ranged.months_forecast = 0 then 'recorded'
            when ranged.months_recorded > 0 then 'current year (recorded to date + forecast)'
            else 'forecast'
        end as status,
        case
            when ranged.months_forecast > 0 then ranged.financial_year_start - current_year.first_forecast_year
        end as years_ahead,
        ranged.months_forecast = 0
        and ranged.financial_year_start = max(ranged.financial_year_start) filter (
            where ranged.months_forecast = 0
        ) over (partition by ranged.series) as is_baseline
    from ranged
    cross join current_year
),

-- the forecast table's columns are years: the first series' baseline year is headed as
-- recorded, every other year it shows (a baseline or forecast year) as expected
heading_baseline as (
    select financial_year_start
    from labelled
    where is_baseline
    order by series_order, series
    limit 1
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
        cast(labelled.months_ahead as integer) as months_ahead,
        cast(labelled.months_recorded + labelled.months_forecast as integer) as months_covered,
        cast(labelled.months_not_delivered as integer) as months_not_delivered,
        labelled.recorded,
        labelled.value,
        labelled.lo80,
        labelled.hi80,
        labelled.lo95,
        labelled.hi95,
        case when labelled.years_ahead is not null then naive_years.naive_value end as naive_value,
        labelled.model,
        case
            when nullif(labelled.model, '') is null then '–'
            else coalesce(model_labels.model_label, labelled.model)
        end as model_label,
        -- the Projection sheet's status: the baseline says what it is
        case
            when coalesce(labelled.is_baseline, false) then 'baseline: last complete financial year'
            else labelled.status
        end as projection_status,
        coalesce(labelled.reconciliation, 'recorded') as reconciliation,
        labelled.cv_mase,
        -- three decimals as pandas rounds (x 1000, half to even, / 1000): the CSV's figure
        round_even(labelled.cv_mase * 1000, 0) / 1000 as cv_mase_rounded,
        labelled.break_applied,
        -- a year's total ending m months after the last recorded month was scored in the
        -- back-test's ceil(m / 12)-th year ahead (the current year: the first)
        coverage_by_horizon.measured_coverage80,
        coverage_by_horizon.measured_coverage95,
        labelled.years_ahead is not null and verdict.backtest_is_poor as backtest_is_poor
    from labelled
    cross join verdict
    left join naive_years
        on
            labelled.series = naive_years.series
            and labelled.financial_year_start = naive_years.financial_year_start
    left join model_labels
        on labelled.model = model_labels.model
    left join coverage_by_horizon
        on
            labelled.months_ahead is not null
            and greatest(ceil(labelled.months_ahead / 12), 1) = coverage_by_horizon.horizon_years
),

headed as (
    select
        final.*,
        case
            when not final.is_baseline and final.years_ahead is null then null
            when final.financial_year_start = heading_baseline.financial_year_start
                then
                    final.financial_year || ' recorded (baseline'
                    || case when final.months_not_delivered > 0 then ', short by a delivery gap' else '' end
                    || ')'
            else final.financial_year || ' expected (80% range)'
        end as table_heading,
        -- the rows of the Projection sheet and the profile's table: baseline and ahead
        final.is_baseline or final.years_ahead is not null as is_projection_row,
        -- the History sheet's column of a recorded year, the same baseline named
        case
            when final.status = 'recorded'
                then final.financial_year || case
                    when final.financial_year_start = heading_baseline.financial_year_start
                        then ' (baseline)'
                    else ''
                end
                -- a year holding a delivery gap is short by it: said in its heading
                || case
                    when final.months_not_delivered = 1 then ' (1 month not delivered)'
                    when final.months_not_delivered > 1
                        then ' (' || final.months_not_delivered || ' months not delivered)'
                    else ''
                end
        end as history_heading
    from final
    left join heading_baseline on true
),

numbered as (
    select
        *,
        -- the row of the workbook's Projection sheet: a header, then the projection rows
        case
            when is_projection_row
                then cast(row_number() over (
                    partition by is_projection_row
                    order by series_order, series, financial_year_start
                ) + 1 as integer)
        end as projection_row
    from headed
)

select
    numbered.*,
    -- the Projection sheet's change on the series' baseline as a live formula on the central
    -- figures (column G), so the author sees the change if a figure is edited; none on the
    -- baseline itself or for a series without one
    '=IF(AND(ISNUMBER(G' || numbered.projection_row || '),ISNUMBER(G' || baseline.projection_row
    || '),G' || baseline.projection_row || '<>0),G' || numbered.projection_row || '/G'
    || baseline.projection_row || '-1,"")' as change_on_baseline_formula
from numbered
left join numbered as baseline
    on
        numbered.series = baseline.series
        and baseline.is_baseline
        and numbered.projection_row != baseline.projection_row
