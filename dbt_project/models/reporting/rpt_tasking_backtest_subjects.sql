{%- set tasking = setting('tasking') -%}
-- The ranking back-test subject by subject (restricted detail; rpt_tasking_backtest aggregates
-- it and says what the figures mean): every subject of every quarter's ranking at least
-- backtest_min_age_quarters before the profiled quarter (so the follow-up is complete), per
-- follow-up horizon (quarters after the ranking's quarter end) and method (the RFGV rank; the
-- plain count of crimes in 12 months, ties most recent first; most recent offending, ties more
-- crimes first), with the rank, the score, the average rank by score (ties share it, for the
-- AUC), whether they had a further stalking-universe crime in the follow-up and its harm.
-- Person keys are this run's; each ranking uses only crimes reported by its quarter's end.
with

quarters as (
    select
        quarter,
        q_start,
        q_end,
        row_number() over (order by q_start) as quarter_number
    from {{ ref('int_quarters') }}
),

run_quarter as (
    select
        quarter,
        q_end,
        quarter_number
    from quarters
    qualify quarter = max(quarter) filter (where quarter <= {{ profile_quarter() }}) over ()
),

horizons as (
    select unnest({{ tasking['backtest_horizons_quarters'] }}) as horizon_quarters
),

origins as (
    select
        run_quarter.quarter as run_quarter,
        origin.quarter as origin_quarter,
        origin.q_start as origin_start,
        origin.q_end as origin_end,
        horizons.horizon_quarters
    from run_quarter
    inner join quarters as origin
        on origin.quarter_number <= run_quarter.quarter_number - {{ tasking['backtest_min_age_quarters'] }}
    cross join horizons
),

perpetrations as (
    select * from {{ ref('int_perpetrations') }}
),

follow_up as (
    select
        origins.origin_quarter,
        origins.horizon_quarters,
        perpetrations.person_key,
        cast(sum(perpetrations.harm_weight_days) as bigint) as harm_next
    from origins
    inner join perpetrations
        on
            origins.origin_end < perpetrations.reported_date
            and perpetrations.reported_date
            <= origins.origin_end + to_months(3 * origins.horizon_quarters)
    group by origins.origin_quarter, origins.horizon_quarters, perpetrations.person_key
),

harm_in_follow_up as (
    select
        origin_quarter,
        horizon_quarters,
        cast(sum(harm_next) as bigint) as harm_next_total,
        count(*) as offenders_next
    from follow_up
    group by origin_quarter, horizon_quarters
),

-- the ranked population of each ranking's quarter: who is ranked, their ranks and scores do
-- not depend on the follow-up horizon, so they are computed once per quarter (at national
-- scale ~3 M subject-quarters) and only then set beside each horizon's follow-up
ranking_quarters as (
    select distinct
        run_quarter,
        origin_quarter
    from origins
),

ranked_population as (
    select
        ranking_quarters.run_quarter,
        ranking_quarters.origin_quarter,
        perpetrators.person_key,
        perpetrators.rank as rank_rfgv,
        row_number() over (
            partition by ranking_quarters.origin_quarter
            order by
                perpetrators.crimes_12m desc, perpetrators.last_reported_date desc,
                perpetrators.person_key asc
        ) as rank_crime_count_12m,
        row_number() over (
            partition by ranking_quarters.origin_quarter
            order by
                perpetrators.last_reported_date desc, perpetrators.crimes_12m desc,
                perpetrators.person_key asc
        ) as rank_most_recent,
        perpetrators.rfgv_score as score_rfgv,
        cast(perpetrators.crimes_12m as double) as score_crime_count_12m,
        -1.0 * perpetrators.days_since_last_crime as score_most_recent
    from ranking_quarters
    inner join {{ ref('perpetrators') }} as perpetrators
        on ranking_quarters.origin_quarter = perpetrators.quarter
),

-- each subject once per method: three projections of the ranked population (a lateral VALUES
-- list would be planned as a join of every row with its own three, on all of its columns)
by_method as (
    {%- for method in ['rfgv', 'crime_count_12m', 'most_recent'] %}
        {%- if not loop.first %}
            union all
        {%- endif %}
        select
            run_quarter,
            origin_quarter,
            person_key,
            '{{ method }}' as method,
            rank_{{ method }} as method_rank,
            score_{{ method }} as score
        from ranked_population
    {%- endfor %}
),

-- average rank of each subject by score (ties share the mean of their ranks), for the AUC;
-- the same for every horizon. Worked out once per distinct score (a few thousand per ranking)
-- rather than by a window over every subject (~9 M rows at national scale): a tie group of
-- `tied` subjects runs from rank `through - tied + 1` to `through` (the count up to its score)
score_ties as (
    select
        origin_quarter,
        method,
        score,
        count(*) as tied
    from by_method
    group by origin_quarter, method, score
),

score_positions as (
    select
        origin_quarter,
        method,
        score,
        tied,
        cast(sum(tied) over (
            partition by origin_quarter, method
            order by score
            rows between unbounded preceding and current row
        ) as bigint) as through
    from score_ties
),

score_average_ranks as (
    select
        origin_quarter,
        method,
        score,
        -- rank() + (ties - 1) / 2.0, as a window over every subject would give it
        through - tied + 1 + (tied - 1) / 2.0 as average_rank
    from score_positions
),

score_ranks as (
    select
        by_method.run_quarter,
        by_method.origin_quarter,
        by_method.method,
        by_method.person_key,
        by_method.method_rank,
        by_method.score,
        score_average_ranks.average_rank
    from by_method
    inner join score_average_ranks
        on
            by_method.origin_quarter = score_average_ranks.origin_quarter
            and by_method.method = score_average_ranks.method
            and by_method.score is not distinct from score_average_ranks.score
)

select
    score_ranks.run_quarter as quarter,
    score_ranks.origin_quarter,
    origins.horizon_quarters,
    score_ranks.method,
    score_ranks.person_key,
    score_ranks.method_rank,
    score_ranks.score,
    follow_up.person_key is not null as reoffended,
    coalesce(follow_up.harm_next, 0) as harm_next,
    score_ranks.average_rank,
    -- nobody offended in the follow-up (a quarter with no crimes after the ranking):
    -- everyone's follow-up harm is nothing, not unknown
    coalesce(harm_in_follow_up.harm_next_total, 0) as harm_next_total
from score_ranks
inner join origins
    on score_ranks.origin_quarter = origins.origin_quarter
left join follow_up
    on
        origins.origin_quarter = follow_up.origin_quarter
        and origins.horizon_quarters = follow_up.horizon_quarters
        and score_ranks.person_key = follow_up.person_key
left join harm_in_follow_up
    on
        origins.origin_quarter = harm_in_follow_up.origin_quarter
        and origins.horizon_quarters = harm_in_follow_up.horizon_quarters
