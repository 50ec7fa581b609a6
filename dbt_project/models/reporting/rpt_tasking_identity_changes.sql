-- How identity held between consecutive runs kept in the warehouse: of the people (previous
-- run's person keys) with mentions in both runs, how many kept their key for every one of
-- those mentions, and the merges, splits and re-keyings of person_key_lineage.
with

keys_by_run as (
    select * from {{ ref('person_keys_by_run') }}
),

runs as (
    select
        run_quarter,
        lag(run_quarter) over (order by run_quarter) as previous_run_quarter
    from (select distinct run_quarter from keys_by_run) as run_quarters
),

pairs as (
    select
        runs.run_quarter,
        runs.previous_run_quarter,
        previous.person_key as previous_key,
        bool_and(previous.person_key = current.person_key) as kept_key,
        bool_or(previous.role_side = 'perpetrator') as is_perpetrator_side,
        count(*) as mentions,
        count(*) filter (where previous.person_key = current.person_key) as mentions_kept
    from runs
    inner join keys_by_run as previous
        on runs.previous_run_quarter = previous.run_quarter
    inner join keys_by_run as current
        on
            runs.run_quarter = current.run_quarter
            and previous.source = current.source
            and previous.record_key = current.record_key
    group by runs.run_quarter, runs.previous_run_quarter, previous.person_key
),

people as (
    select
        run_quarter,
        any_value(previous_run_quarter) as previous_run_quarter,
        count(*) as persons_in_both,
        count(*) filter (where kept_key) as persons_keeping_key,
        count(*) filter (where is_perpetrator_side) as perpetrators_in_both,
        count(*) filter (where is_perpetrator_side and kept_key) as perpetrators_keeping_key,
        sum(mentions) as mentions_in_both,
        sum(mentions_kept) as mentions_keeping_key
    from pairs
    group by run_quarter
),

changes as (
    select
        run_quarter,
        count(*) filter (where change = 'merged') as keys_merged,
        count(*) filter (where change = 'split') as keys_split,
        count(*) filter (where change = 'rekeyed') as keys_rekeyed
    from {{ ref('person_key_lineage') }}
    group by run_quarter
),

final as (
    select
        people.run_quarter,
        people.previous_run_quarter,
        people.persons_in_both,
        people.persons_keeping_key,
        round(people.persons_keeping_key / people.persons_in_both, 6) as share_keeping_key,
        people.perpetrators_in_both,
        people.perpetrators_keeping_key,
        cast(people.mentions_in_both as bigint) as mentions_in_both,
        cast(people.mentions_keeping_key as bigint) as mentions_keeping_key,
        coalesce(changes.keys_merged, 0) as keys_merged,
        coalesce(changes.keys_split, 0) as keys_split,
        coalesce(changes.keys_rekeyed, 0) as keys_rekeyed
    from people
    left join changes on people.run_quarter = changes.run_quarter
)

-- the pack's sentence on identity
select
    *,
    'Identity since the ' || previous_run_quarter || ' run: '
    || format('{:,}', persons_keeping_key) || ' of ' || format('{:,}', persons_in_both)
    || ' people in both runs kept their key; ' || keys_merged || ' key(s) merged, '
    || keys_split || ' split, ' || keys_rekeyed
    || ' re-keyed (named in the list''s last columns).' as headline
from final
