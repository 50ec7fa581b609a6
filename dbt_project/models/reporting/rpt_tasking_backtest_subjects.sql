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

by_method as (
    select
        ranked_population.run_quarter,
        ranked_population.origin_quarter,
        ranked_population.person_key,
        methods.method,
        methods.method_rank,
        methods.score
    from ranked_population
    cross join
        lateral (
            values
            ('rfgv', ranked_population.rank_rfgv, ranked_population.score_rfgv),
            (
                'crime_count_12m',
                ranked_population.rank_crime_count_12m,
                ranked_population.score_crime_count_12m
            ),
            ('most_recent', ranked_population.rank_most_recent, ranked_population.score_most_recent)
        ) as methods (method, method_rank, score)
),

-- average rank of each subject by score (ties share the mean of their ranks), for the AUC;
-- the same for every horizon. A tie group's ranks run from rank() (one more than those
-- scored lower) to the running count through its last member (count(*) over the same
-- ordering counts the ties too), so their mean is half the sum: one sort of the ~9 M rows at
-- national scale instead of two (the group's size by a second partition)
score_ranks as (
    select
        run_quarter,
        origin_quarter,
        method,
        person_key,
        method_rank,
        score,
        (
            rank() over by_score
            + count(*) over by_score
        ) / 2.0 as average_rank
    from by_method
    window by_score as (partition by origin_quarter, method order by score)
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
