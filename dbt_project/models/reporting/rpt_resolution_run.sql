-- OFFICIAL-SENSITIVE page, counts only: the person-resolution run as the restricted diagnostics
-- page prints it, three tables in long form (`part`): the run's counts, named as the page names
-- them (`run`; a count the run did not record is missing, printed "–"), the blocking rules with
-- the pairs each compared (`blocking`, in the order they ran) and the seconds per phase
-- (`timings`, in the order the phases run, the total last; a phase not listed here after them, in the run's order).
-- All from the run's counts (marts.resolution_model.stats_json, written by
-- pipelines.resolution.resolve_mentions).
with

stats as (
    select cast(stats_json as json) as stats
    from {{ source('resolution', 'resolution_model') }}
),

run_counts (row_order, json_path, measure) as (
    values
    (1, '$.mentions', 'Person mentions (records) read'),
    (2, '$.nodes', 'Distinct nodes (a nominal id with one set of details is one node)'),
    (3, '$.comparisons_scored', 'Pairs compared and scored by Splink'),
    (4, '$.clustering.edges_scored_above_threshold', 'Pairs at or above the match threshold'),
    (5, '$.clustering.nominal_edges', 'Joins by shared nominal id'),
    -- the two rule joins (no score), each counted
    (6, '$.clustering.second_ids_joined', 'Bare second ids joined by rule'),
    (
        7,
        '$.clustering.unknown_suspects_joined',
        'Unknown suspects of one victim joined by rule'
    ),
    (
        8,
        '$.clustering.edges_dropped_same_incident',
        'Joins refused: two sides of one incident'
    ),
    (
        9,
        '$.clustering.edges_rejected_by_constraints',
        'Joins refused by a constraint when re-clustering'
    ),
    (
        10,
        '$.clustering.components_reclustered',
        'Groups re-clustered under the constraints'
    ),
    (11, '$.persons', 'Resolved people'),
    (12, '$.multi_record_persons', 'People of two or more records'),
    (13, '$.training.em_sessions', 'Training sessions (expectation maximisation)')
),

-- resolve_mentions' phases in the order they run, the total last
phases as (
    select
        [
            'prepare_s', 'select_blocking_s', 'train_s', 'block_s', 'score_s', 'cluster_s',
            'outputs_s', 'total_s'
        ] as listed
),

blocking as (
    select
        unnest(cast(stats -> '$.blocking_rules' as json[])) as rule_json,
        generate_subscripts(cast(stats -> '$.blocking_rules' as json[]), 1) as run_order
    from stats
),

timing_keys as (
    select
        stats,
        unnest(json_keys(stats, '$.timings')) as phase_key,
        generate_subscripts(json_keys(stats, '$.timings'), 1) as key_order
    from stats
),

timings as (
    select
        timing_keys.phase_key,
        timing_keys.key_order,
        cast(timing_keys.stats -> '$.timings' ->> timing_keys.phase_key as double) as seconds,
        coalesce(list_position(phases.listed, timing_keys.phase_key), len(phases.listed) + 1)
            as listed_order
    from timing_keys
    cross join phases
)

select
    'run' as part,
    run_counts.row_order,
    run_counts.measure,
    cast(stats.stats ->> run_counts.json_path as bigint) as counted,
    cast(null as double) as seconds
from run_counts
cross join stats

union all

select
    'blocking' as part,
    cast(blocking.run_order as integer) as row_order,
    blocking.rule_json ->> '$.rule' as measure,
    cast(blocking.rule_json ->> '$.pairs' as bigint) as counted,
    cast(null as double) as seconds
from blocking

union all

select
    'timings' as part,
    cast(row_number() over (order by listed_order, key_order) as integer) as row_order,
    replace(regexp_replace(phase_key, '_s$', ''), '_', ' ') as measure,
    cast(null as bigint) as counted,
    seconds
from timings
