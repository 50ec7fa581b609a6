{%- set tasking = setting('tasking') -%}
-- Did the ranking predict what followed? For every quarter's ranking at least
-- backtest_min_age_quarters before the profiled quarter (so the follow-up is complete), over
-- each follow-up horizon (quarters after the ranking's quarter end) and list length k:
--   precision_at_k  share of the top k with a stalking-universe crime reported in the follow-up
--   recall_of_harm  share of all follow-up stalking harm (offence harm days, everyone who
--                   offended in the follow-up, ranked or not) committed by the top k
--   auc             chance that a subject who re-offended is ranked above one who did not
--                   (Mann-Whitney rank sum over average ranks: tied scores count half)
-- for the RFGV ranking beside two baselines: the plain count of crimes in the last 12 months
-- (ties: most recent first) and most recent offending (ties: more crimes first). Person keys
-- are this run's; each ranking uses only crimes reported by its quarter's end.
with

subjects as (
    select * from {{ ref('rpt_tasking_backtest_subjects') }}
),

list_lengths as (
    select unnest({{ tasking['backtest_list_lengths'] }}) as list_length
),

auc as (
    select
        quarter,
        origin_quarter,
        horizon_quarters,
        method,
        count(*) as subjects_ranked,
        count(*) filter (where reoffended) as subjects_reoffending,
        coalesce(any_value(harm_next_total), 0) as harm_next_total,
        case
            when count(*) filter (where reoffended) > 0 and count(*) filter (where not reoffended) > 0
                then (
                    sum(average_rank) filter (where reoffended)
                    - count(*) filter (where reoffended) * (count(*) filter (where reoffended) + 1) / 2.0
                ) / (count(*) filter (where reoffended) * count(*) filter (where not reoffended))
        end as auc
    from subjects
    group by quarter, origin_quarter, horizon_quarters, method
),

at_k as (
    select
        subjects.origin_quarter,
        subjects.horizon_quarters,
        subjects.method,
        list_lengths.list_length,
        count(*) as listed,
        count(*) filter (where subjects.reoffended) as listed_reoffending,
        sum(subjects.harm_next) as listed_harm_next
    from subjects
    inner join list_lengths
        on subjects.method_rank <= list_lengths.list_length
    group by subjects.origin_quarter, subjects.horizon_quarters, subjects.method, list_lengths.list_length
),

final as (
    select
        auc.quarter,
        auc.origin_quarter,
        auc.horizon_quarters,
        auc.method,
        at_k.list_length,
        auc.subjects_ranked,
        auc.subjects_reoffending,
        at_k.listed,
        at_k.listed_reoffending,
        round(at_k.listed_reoffending / at_k.listed, 4) as precision_at_k,
        cast(auc.harm_next_total as bigint) as harm_next_total,
        cast(at_k.listed_harm_next as bigint) as listed_harm_next,
        round(coalesce(at_k.listed_harm_next / nullif(auc.harm_next_total, 0), 0), 4) as recall_of_harm,
        round(auc.auc, 4) as auc
    from auc
    inner join at_k
        on
            auc.origin_quarter = at_k.origin_quarter
            and auc.horizon_quarters = at_k.horizon_quarters
            and auc.method = at_k.method
)

select * from final
