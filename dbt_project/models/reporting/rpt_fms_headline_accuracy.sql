-- The back-test figures fms/demand.csv carries on every row: per back-test dataset, the chosen
-- model's one-year-ahead MASE and 80% interval coverage (rpt_fms_backtest), to three decimals
-- (half to even, as Python rounds), each under its CSV column name
-- (backtest_<dataset>_mase_1y, backtest_<dataset>_coverage80; ':' in a dataset name read '_').
with

one_year_ahead as (
    select * from {{ ref('rpt_fms_backtest') }}
    where horizon_years = 1
),

figures as (
    select
        dataset,
        1 as figure_order,
        'backtest_' || replace(dataset, ':', '_') || '_mase_1y' as column_name,
        round_even(mase, 3) as value
    from one_year_ahead
    union all
    select
        dataset,
        2 as figure_order,
        'backtest_' || replace(dataset, ':', '_') || '_coverage80' as column_name,
        round_even(coverage80, 3) as value
    from one_year_ahead
),

final as (
    select
        cast(row_number() over (order by dataset, figure_order) as integer) as column_order,
        column_name,
        value
    from figures
)

select * from final
