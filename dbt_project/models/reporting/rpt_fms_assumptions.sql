-- The FMS workbook's editable assumptions, in sheet order: hours from the settings (starting
-- values the force agrees locally) and shares measured in the baseline year of
-- rpt_fms_baseline_rates (0 where there is no baseline year yet). The workbook's Workload and
-- Hidden demand formulas point at these rows by `assumption`. After them, for each forecast
-- financial year, how often its 80% and 95% ranges held the actual when tested on held-out
-- forces at that horizon (what the ranges assume; rpt_fms_financial_years). Before those, what
-- the ranges assume about recording practice, read from the errors the pool was built from
-- (marts.forecast_error_pool.regime; no row without a pool).
{%- set fms = setting('fms') %}
with

baseline as (
    -- an aggregate without a group: exactly one row, also when there is no baseline year
    select
        coalesce(any_value(financial_year), 'the baseline year') as financial_year,
        coalesce(round(any_value(stalking_order_applications_per_crime), 3), 0.0)
            as stalking_order_applications_per_crime,
        coalesce(round(any_value(support_referral_share), 3), 0.0) as support_referral_share,
        coalesce(round(any_value(screened_share), 3), 0.0) as screened_share,
        coalesce(any_value(quarters_delivered), 4) as quarters_delivered
    from {{ ref('rpt_fms_baseline_rates') }}
    where is_baseline
),

assumptions as (
    select
        listed.assumption_order,
        listed.assumption,
        listed.label,
        cast(listed.value as double) as value,
        listed.unit,
        case
            when listed.note = 'measured' then 'measured in ' || baseline.financial_year
            when listed.note like 'measured over %'
                then replace(listed.note, 'measured over', 'measured in ' || baseline.financial_year || ' over')
            else listed.note
        end as note
    from baseline
    cross join (
        values
        (
            1, 'hours_per_investigation', 'Hours per stalking investigation',
            {{ fms['hours_per_investigation'] }}, 'hours', 'starting value: agree locally'
        ),
        (
            2, 'stalking_order_applications_per_crime',
            'Stalking protection order applications per crime',
            baseline.stalking_order_applications_per_crime, 'share',
            -- a delivery gap's quarter is left out of this rate (rpt_fms_baseline_rates)
            case
                when baseline.quarters_delivered < 4
                    then 'measured over the ' || baseline.quarters_delivered || ' quarters delivered in full'
                else 'measured'
            end
        ),
        (
            3, 'hours_per_spo_application', 'Hours per stalking protection order application',
            {{ fms['hours_per_spo_application'] }}, 'hours', 'starting value: agree locally'
        ),
        (
            4, 'support_referral_share', 'Share of victims referred to a support service',
            baseline.support_referral_share, 'share', 'measured'
        ),
        (
            5, 'hours_per_support_referral', 'Hours per support referral',
            {{ fms['hours_per_support_referral'] }}, 'hours', 'starting value: agree locally'
        ),
        (
            6, 'hours_per_breach_investigation', 'Hours per breach investigation',
            {{ fms['hours_per_breach_investigation'] }}, 'hours', 'starting value: agree locally'
        ),
        (
            7, 'productive_hours_per_fte', 'Productive hours per full-time post per year',
            {{ fms['productive_hours_per_fte'] }}, 'hours', 'starting value: agree with HR'
        ),
        (
            8, 'screened_confirmation_share', 'Share of screened-in crimes that are stalking',
            {{ fms['screened_confirmation_share'] }}, 'share',
            'starting value: a returned dip sample measures it'
        ),
        (
            9, 'screened_share', 'Screened-in crimes as a share of all stalking crimes',
            baseline.screened_share, 'share', 'measured'
        )
    ) as listed (assumption_order, assumption, label, value, unit, note)
),

-- 1 = the ranges come from forecast errors made before the 2014-18 national rise in recorded
-- stalking and harassment (recording practice), so they assume no such change
recording_practice as (
    select
        10 as assumption_order,
        'ranges_assume_no_recording_change' as assumption,
        'The ranges assume no change in how crimes are recorded' as label,
        case when any_value(regime) = 'stable_recording' then 1.0 else 0.0 end as value,
        'yes = 1, no = 0' as unit,
        case
            when any_value(regime) = 'stable_recording'
                then
                    'built from forecast errors made before the 2014-18 national rise in '
                    || 'recorded stalking and harassment (a change in recording practice): a '
                    || 'change like it would take demand outside them'
            else
                'built from every forecast error, through the 2014-18 national rise in '
                || 'recorded stalking and harassment (a change in recording practice)'
        end as note
    from {{ source('forecasting', 'forecast_error_pool') }}
    having count(*) > 0
),

-- one row per forecast year and level (the coverage is the same for every series)
range_coverage as (
    select
        financial_year,
        any_value(years_ahead) as years_ahead,
        any_value(months_ahead) as months_ahead,
        any_value(measured_coverage80) as coverage80,
        any_value(measured_coverage95) as coverage95
    from {{ ref('rpt_fms_financial_years') }}
    where years_ahead is not null and measured_coverage80 is not null
    group by financial_year
),

coverage_rows as (
    select
        cast(
            11 + 2 * range_coverage.years_ahead + coverage_level.level_rank as integer
        ) as assumption_order,
        'range' || coverage_level.pct || '_held_' || replace(range_coverage.financial_year, '/', '_')
            as assumption,
        'How often the ' || coverage_level.pct || '% range of ' || range_coverage.financial_year
        || ' held the actual in testing' as label,
        round(
            case
                when coverage_level.pct = 80 then range_coverage.coverage80
                else range_coverage.coverage95
            end,
            3
        ) as value,
        'share' as unit,
        'measured: Home Office series of held-out forces, financial-year totals '
        || range_coverage.months_ahead || ' months ahead (docs/evaluation/forecast_backtest.md)'
            as note
    from range_coverage
    cross join (values (80, 0), (95, 1)) as coverage_level (pct, level_rank)
),

all_rows as (
    select * from assumptions
    union all
    select * from recording_practice
    union all
    select * from coverage_rows
)

-- how the workbook shows the editable value: a share as a percentage
select
    *,
    case when unit = 'share' then '0%' else '#,##0.0' end as number_format
from all_rows
