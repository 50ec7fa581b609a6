{%- set gravity_points = setting('rfgv')['gravity_band_points'] -%}
{%- set listed = setting('tasking')['backtest_list_lengths'] | max -%}
{%- set horizon = setting('tasking')['backtest_horizons_quarters'] | min -%}
-- The tasking pack's headline per quarter: how many were scored, above the high-harm cut-off
-- and listed (tasking.list_length), the movement counts, who dropped off, and how many sit at
-- the maximum gravity points (the check that gravity still discriminates), and the pack's
-- opening sentences (counts, movement, identity changes since the previous run; one sentence
-- saying so when nothing was scored; how the RFGV ranking fared against the plain rankings in
-- the back-test, saying so plainly when a plain ranking did better).
with

perpetrators as (
    select * from {{ ref('perpetrators') }}
),

movement as (
    select
        quarter,
        count(*) filter (where movement = 'new') as subjects_new,
        count(*) filter (where movement = 'returning') as subjects_returning,
        count(*) filter (where movement = 'up') as subjects_up,
        count(*) filter (where movement = 'down') as subjects_down,
        count(*) filter (where movement = 'same') as subjects_same
    from {{ ref('rpt_tasking_movement') }}
    group by quarter
),

dropped as (
    select
        quarter,
        count(*) as subjects_dropped_off
    from {{ ref('rpt_tasking_dropped_off') }}
    group by quarter
),

identity as (
    select * from {{ ref('rpt_tasking_identity_changes') }}
),

-- the subjects at or above the cut-off that the list's length leaves out: named by their
-- references, so the meeting knows who they are without a second list
beyond_list as (
    select
        quarter,
        count(*) as subjects_beyond_list,
        string_agg(
            subject_reference || ' ' || coalesce(best_name, '(no name recorded)') || ' (rank '
            || rank || ', score ' || format('{:.1f}', rfgv_score) || ')',
            ', ' order by rank
        ) as beyond_list_references
    from {{ ref('rpt_tasking_list') }}
    where not is_on_tasking_list
    group by quarter
),

-- the back-test over every ranking old enough to check, at the longest list and the shortest
-- follow-up (the figures the profile's sentence quotes): RFGV and the best plain ranking
backtest as (
    select
        quarter,
        any_value(rankings) as rankings,
        max(precision_at_k) filter (where method = 'rfgv') as rfgv_precision,
        max(auc) filter (where method = 'rfgv') as rfgv_auc,
        arg_max(method_label, precision_at_k) filter (where method <> 'rfgv') as best_plain_label,
        max(precision_at_k) filter (where method <> 'rfgv') as best_plain_precision,
        arg_max(auc, precision_at_k) filter (where method <> 'rfgv') as best_plain_auc
    from {{ ref('rpt_tasking_backtest_summary') }}
    where
        is_mean
        and list_length = {{ listed }}
        and horizon_quarters = {{ horizon }}
    group by quarter
),

-- every quarter scored, and the profiled quarter even when nothing was scored in it (its
-- pack still opens with a sentence saying so)
quarters as (
    select quarter from perpetrators
    union
    select {{ profile_quarter() }} as quarter
),

scored as (
    select
        quarters.quarter,
        count(perpetrators.quarter) as subjects_scored,
        count(*) filter (where perpetrators.is_high_harm) as subjects_above_cutoff,
        count(*) filter (where perpetrators.is_on_tasking_list) as subjects_listed,
        count(*) filter (
            where perpetrators.gravity_score >= {{ gravity_points | max }}
        ) as scored_at_max_gravity,
        count(*) filter (
            where perpetrators.is_high_harm
            and perpetrators.gravity_score >= {{ gravity_points | max }}
        ) as above_cutoff_at_max_gravity,
        count(*) filter (
            where perpetrators.is_on_tasking_list
            and perpetrators.gravity_score >= {{ gravity_points | max }}
        ) as listed_at_max_gravity
    from quarters
    left join perpetrators on quarters.quarter = perpetrators.quarter
    where quarters.quarter is not null
    group by quarters.quarter
),

final as (
    select
        scored.quarter,
        scored.subjects_scored,
        scored.subjects_above_cutoff,
        scored.subjects_listed,
        {{ setting('tasking')['list_length'] }} as list_length,
        cast({{ setting('high_harm')['min_rfgv_score'] }} as double) as cutoff_score,
        coalesce(movement.subjects_new, 0) as subjects_new,
        coalesce(movement.subjects_returning, 0) as subjects_returning,
        coalesce(movement.subjects_up, 0) as subjects_up,
        coalesce(movement.subjects_down, 0) as subjects_down,
        coalesce(movement.subjects_same, 0) as subjects_same,
        coalesce(dropped.subjects_dropped_off, 0) as subjects_dropped_off,
        scored.scored_at_max_gravity,
        scored.above_cutoff_at_max_gravity,
        scored.listed_at_max_gravity,
        case
            when scored.subjects_scored > 0
                then coalesce(
                    identity.headline,
                    'No earlier run is kept in this warehouse, so no identity change can be '
                    || 'shown; movement compares both quarters on this delivery''s person keys.'
                )
        end as headline_identity,
        case
            when backtest.rfgv_precision is null then null
            when backtest.best_plain_precision > backtest.rfgv_precision
                then
                    'Back-test (' || backtest.rankings || ' rankings at least a year old, below): '
                    || cast(round(100 * backtest.rfgv_precision) as integer) || '% of the RFGV top {{ listed }} '
                    || 'had a further stalking crime within {{ 3 * horizon }} months; ranking by '
                    || lower(replace(backtest.best_plain_label, 'Baseline: ', '')) || ' alone '
                    || 'did better (' || cast(round(100 * backtest.best_plain_precision) as integer)
                    || '%; AUC ' || printf('%.2f', backtest.best_plain_auc) || ' against '
                    || printf('%.2f', backtest.rfgv_auc) || '). The score also weighs harm and '
                    || 'victims: read Last offence reported beside it.'
            else
                'Back-test (' || backtest.rankings || ' rankings at least a year old, below): '
                || cast(round(100 * backtest.rfgv_precision) as integer) || '% of the RFGV top {{ listed }} had '
                || 'a further stalking crime within {{ 3 * horizon }} months, against '
                || cast(round(100 * backtest.best_plain_precision) as integer) || '% for the best plain ranking ('
                || lower(replace(backtest.best_plain_label, 'Baseline: ', '')) || ').'
        end as headline_backtest,
        case
            when beyond_list.subjects_beyond_list > 0
                then
                    'Also at or above the cut-off but beyond the list of '
                    || {{ setting('tasking')['list_length'] }} || ': '
                    || beyond_list.beyond_list_references
                    || ' (tasking.list_length sets how many are listed).'
        end as headline_beyond_list
    from scored
    left join movement on scored.quarter = movement.quarter
    left join dropped on scored.quarter = dropped.quarter
    left join identity on scored.quarter = identity.run_quarter
    left join backtest on scored.quarter = backtest.quarter
    left join beyond_list on scored.quarter = beyond_list.quarter
)

-- the pack's opening sentences (one when nothing was scored)
select
    *,
    case
        when subjects_scored = 0 then 'No subject was scored for ' || quarter || '.'
        else
            subjects_above_cutoff || ' subject(s) at or above the high-harm cut-off (RFGV '
            || format('{:g}', cutoff_score) || ') of ' || subjects_scored || ' scored; the top '
            || subjects_listed || ' are listed (list length ' || list_length || ').'
    end as headline_counts,
    case
        when subjects_scored > 0
            then
                'Since the previous quarter: ' || subjects_new || ' new, ' || subjects_returning
                || ' returning, ' || subjects_up || ' up the list, ' || subjects_down
                || ' down the list, ' || subjects_same || ' at the same rank; '
                || subjects_dropped_off || ' dropped off (below).'
    end as headline_movement
from final
