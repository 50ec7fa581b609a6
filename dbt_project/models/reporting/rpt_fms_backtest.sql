{%- set fms = setting('fms') -%}
-- The measured back-test of the published forecast (marts.forecast_accuracy, loaded from
-- docs/evaluation/forecast_backtest.json): the chosen model per dataset and horizon, its MASE
-- beside the naive forecast's and how often its 80% and 95% ranges held the actual. is_poor
-- when the ranges held the actual clearly less often than they claim (by more than the
-- configured tolerance) or the model did no better than the naive forecast: the plain-words
-- warning of the profile and the FMS workbook. tests_fms_figures marks the tests of the ranges the
-- FMS workbook and the profile's financial-year table print (financial-year totals; every test
-- where the back-test has none): the warning is judged on those alone, since a shortfall of
-- ranges that are never printed (forecasts from annual figures, for `spp forecast`) says nothing
-- about the printed ones; it is reported beside them in words.
with

accuracy as (
    select * from {{ source('forecasting', 'forecast_accuracy') }}
    where starts_with(source, 'backtest:') and coalesce(is_chosen, false)
),

final as (
    select
        substr(source, 10) as dataset,
        replace(
            replace(replace(split(substr(source, 10), ':')[1], 'ho_', 'Home Office '), 'fms_', 'FMS '), '_', ' '
        ) as dataset_label,
        case
            when source like '%held_out%' then 'held out (never tuned on)'
            when source like '%held_in%' then 'held in (methods chosen on these)'
            else 'generated demo force'
        end as split_label,
        source like '%held_out%' as is_held_out,
        horizon,
        cast(regexp_extract(horizon, '^([0-9]+)', 1) as integer) as horizon_years,
        -- the Projection sheet's years ahead (0: the current financial year): a total ending
        -- within N years of the last recorded month is the total of the year N - 1 after the
        -- current one (the current year's ends within a year), one convention on every sheet
        cast(regexp_extract(horizon, '^([0-9]+)', 1) as integer) - 1 as years_ahead,
        mase,
        naive_mase,
        -- MASE scales the error by the series' average one-period change in training (a month,
        -- a quarter or a year), so a total years ahead reads 8 to 128: the share of the naive
        -- forecast's error is scale-free
        mase / nullif(naive_mase, 0) as mase_vs_naive,
        coverage80,
        coverage95,
        coalesce(
            coverage80 < 0.80 - {{ fms['poor_coverage_tolerance'] }}
            or coverage95 < 0.95 - {{ fms['poor_coverage_tolerance'] }}
            or mase >= naive_mase,
            false
        ) as is_poor
    from accuracy
    where regexp_matches(horizon, '^[0-9]+y$')
)

select
    *,
    case when is_poor then 'poor: see README' else 'acceptable' end as verdict,
    starts_with(dataset, 'fms_annual_totals')
    or not bool_or(starts_with(dataset, 'fms_annual_totals')) over () as tests_fms_figures
from final
