-- The FMS figures' plain-words sentences, printed by the profile's forecast section and the
-- workbook's README alike: the back-test warning and coverage (from the held-out back-test per
-- horizon, on the tests of the printed financial-year ranges; other tests that fell short are
-- said beside them), the series not forecast, and the early warning (every series' latest quarter
-- against the range forecast a quarter earlier). One row per sentence; a kind with nothing to
-- say has no row.
with

horizons as (
    select * from {{ ref('rpt_fms_backtest_horizons') }}
),

tracking as (
    select * from {{ ref('rpt_fms_tracking') }}
),

not_forecast as (
    select * from {{ ref('rpt_fms_not_forecast') }}
),

backtest_warning as (
    select
        'backtest_warning' as sentence_kind,
        1 as sentence_order,
        'Warning: the forecast did poorly when tested. On police forces it had never seen, '
        -- only the horizons that fell short: a horizon that held is not a warning
        || coalesce(
            string_agg(
                'for ' || {{ years_ahead_words('horizon_years') }} || ' the 80% range '
                -- to a tenth: a whole percent can round a shortfall onto the tolerance (74.5%
                -- printed as 75% beside a limit of 75% read as no shortfall at all)
                || 'held the actual number ' || printf('%.1f%%', 100 * min_coverage80)
                || ' of the time and the 95% range ' || printf('%.1f%%', 100 * min_coverage95),
                '; ' order by horizon_years
            ) filter (where any_poor and min_coverage80 is not null),
            'the ranges held the actual number less often than they claim'
        )
        || ' (they should hold it about 80% and 95% of the time; more than '
        || '{{ (100 * setting('fms')['poor_coverage_tolerance']) | round | int }} points below '
        || 'is a shortfall)'
        || case
            when bool_or(any_no_better_than_naive)
                then
                    ', and in some tests the forecast was no more accurate than simply '
                    || 'repeating the last year''s figure'
            else ''
        end
        || '. Read the central figures as a rough guide, treat the ranges as too narrow, and '
        || 'plan for demand outside them.' as sentence
    from horizons
    having coalesce(bool_or(any_poor), false)
),

furthest as (
    select max(horizon_years) as horizon_years from horizons
),

coverage as (
    select
        'coverage' as sentence_kind,
        1 as sentence_order,
        -- horizon 1 is a total ending within 12 months of the last recorded month: the current
        -- financial year's (years_ahead 0 in the Projection sheet), not the year after it
        'Tested on police forces the method had never seen, financial-year totals ending within '
        || 'a year of the last recorded month (as the current year''s does): the 80% range held the actual number '
        || {{ percent_range('horizons.min_coverage80', 'horizons.max_coverage80') }}
        || ' of the time, the 95% range '
        || {{ percent_range('horizons.min_coverage95', 'horizons.max_coverage95') }}
        || '. The ranges were tested up to years ahead ' || (furthest.horizon_years - 1)
        || ' (years ahead counted from the current year, 0, as on the Projection sheet); beyond '
        || 'that they are untested and likely too narrow.' as sentence
    from horizons
    cross join furthest
    where horizons.horizon_years = 1
),

-- Held-out tests of ranges other than the financial-year ones (e.g. forecasts from annual figures
-- alone) that fell short: not the printed ranges' verdict, but said, never left to the Testing
-- sheet alone.
other_tests as (
    select
        'coverage' as sentence_kind,
        2 as sentence_order,
        'Other tests on forces the method had never seen fell short of the 80% and 95% their '
        || 'ranges claim: '
        || string_agg(
            dataset_label || ', ' || {{ years_ahead_words('horizon_years') }} || ': the 80% range held '
            || 'the actual number ' || printf('%.1f%%', 100 * coverage80)
            || ' of the time and the 95% range ' || printf('%.1f%%', 100 * coverage95)
            || case when mase >= naive_mase then ', no more accurate than the naive forecast' else '' end,
            '; ' order by dataset_label, horizon_years
        )
        || '. They are not tests of the financial-year ranges printed here; every test is on the '
        || 'FMS workbook''s Testing sheet.' as sentence
    from {{ ref('rpt_fms_backtest') }}
    where is_held_out and not tests_fms_figures and is_poor
    having count(*) > 0
),

series_not_forecast as (
    select
        'not_forecast' as sentence_kind,
        1 as sentence_order,
        'Not forecast (not enough history: the delivery holds too few periods to fit and '
        || 'test a model): ' || string_agg(series_label, ', ' order by series_label) || '.'
            as sentence
    from not_forecast
    having count(*) > 0
),

nothing_to_check as (
    select
        'early_warning' as sentence_kind,
        1 as sentence_order,
        'Early warning: no series had a complete quarter to check this time.' as sentence
    from (select count(*) as series from tracking) as checked
    where checked.series = 0
),

all_within as (
    select
        'early_warning' as sentence_kind,
        1 as sentence_order,
        'Early warning: every series'' total for ' || arg_min(quarter, series)
        || ' fell inside the 80% range forecast a quarter earlier.' as sentence
    from tracking
    having count(*) > 0 and not bool_or(outside_interval)
),

outside as (
    select
        'early_warning' as sentence_kind,
        row_number() over (order by series) as sentence_order,
        'Early warning: ' || lower(series_label) || ' in ' || quarter || ' came in '
        || direction || ' the 80% range forecast a quarter earlier; check for a change in '
        || 'demand or in recording before relying on the forecast.' as sentence
    from tracking
    where outside_interval
),

final as (
    select * from backtest_warning
    union all
    select * from coverage
    union all
    select * from other_tests
    union all
    select * from series_not_forecast
    union all
    select * from nothing_to_check
    union all
    select * from all_within
    union all
    select * from outside
)

select * from final
where sentence is not null
