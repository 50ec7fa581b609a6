-- The held-out back-test per horizon, as the profile and the FMS workbook put it in words: the
-- lowest and highest share of the time the 80% and 95% ranges held the actual, whether any test
-- called the forecast poor and whether any did no better than the naive forecast. Only the tests
-- of the ranges the FMS figures print (rpt_fms_backtest.tests_fms_figures).
with

held_out as (
    select * from {{ ref('rpt_fms_backtest') }}
    where is_held_out and tests_fms_figures
),

final as (
    select
        horizon_years,
        min(coverage80) as min_coverage80,
        max(coverage80) as max_coverage80,
        min(coverage95) as min_coverage95,
        max(coverage95) as max_coverage95,
        bool_or(is_poor) as any_poor,
        coalesce(bool_or(mase >= naive_mase), false) as any_no_better_than_naive
    from held_out
    group by horizon_years
)

select * from final
