-- The ranking back-test as the pack and the profile print it: per profiled quarter, follow-up,
-- list length and method, the latest ranking old enough to check (is_mean false) and the mean
-- over every ranking checked (is_mean true; re-offenders summed over the rankings).
with

backtest as (
    select * from {{ ref('rpt_tasking_backtest') }}
),

latest as (
    select
        backtest.*,
        max(backtest.origin_quarter) over (partition by backtest.quarter) as latest_origin
    from backtest
),

latest_ranking as (
    select
        quarter,
        false as is_mean,
        origin_quarter as ranking_of,
        cast(1 as bigint) as rankings,
        horizon_quarters,
        list_length,
        method,
        listed,
        listed_reoffending,
        precision_at_k,
        recall_of_harm,
        auc
    from latest
    where origin_quarter = latest_origin
),

mean_of_rankings as (
    select
        quarter,
        true as is_mean,
        'mean of ' || count(distinct origin_quarter) || ' rankings' as ranking_of,
        count(distinct origin_quarter) as rankings,
        horizon_quarters,
        list_length,
        method,
        cast(sum(listed) as bigint) as listed,
        cast(sum(listed_reoffending) as bigint) as listed_reoffending,
        -- exact means (decimal sums): a mean on a rounding tie, e.g. 0.1925, must not print
        -- up or down depending on the order the doubles were added in
        cast(avg(cast(precision_at_k as decimal(18, 9))) as double) as precision_at_k,
        cast(avg(cast(recall_of_harm as decimal(18, 9))) as double) as recall_of_harm,
        cast(avg(cast(auc as decimal(18, 9))) as double) as auc
    from backtest
    group by quarter, horizon_quarters, list_length, method
),

both_views as (
    select * from latest_ranking
    union all
    select * from mean_of_rankings
)

select
    *,
    -- of how many: a mean row's re-offenders are summed over its rankings' lists
    listed_reoffending || ' of ' || listed as reoffending_of_listed,
    case method
        when 'rfgv' then 'RFGV score'
        when 'crime_count_12m' then 'Baseline: crimes in 12 months'
        when 'most_recent' then 'Baseline: most recent offending'
    end as method_label
from both_views
