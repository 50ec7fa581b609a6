{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where run_quarter = {{ profile_quarter() }}{% endif %}",
) }}
-- Keys that changed between the previous run (the latest earlier run quarter kept in
-- person_keys_by_run) and this run, matched on the mentions both runs hold. Kept across runs;
-- re-running a quarter replaces its rows. A key that kept all its mentions is not a row.
--   merged:  the current key now holds the mentions of two or more previous keys;
--   split:   the previous key's mentions now sit under two or more current keys;
--   rekeyed: one previous key became one different key (its earliest mention changed).
-- The tasking pack names these beside the movement, so a merged or split subject is followed
-- rather than silently leaving the list and reappearing as someone new.
with

this_run as (
    select cast({{ profile_quarter() }} as varchar) as run_quarter
),

previous_run as (
    select
        this_run.run_quarter,
        max(keys_by_run.run_quarter) as previous_run_quarter
    from this_run
    inner join {{ ref('person_keys_by_run') }} as keys_by_run
        on this_run.run_quarter > keys_by_run.run_quarter
    group by this_run.run_quarter
),

previous_keys as (
    select
        previous_run.run_quarter,
        previous_run.previous_run_quarter,
        keys_by_run.source,
        keys_by_run.record_key,
        keys_by_run.person_key
    from previous_run
    inner join {{ ref('person_keys_by_run') }} as keys_by_run
        on previous_run.previous_run_quarter = keys_by_run.run_quarter
),

current_keys as (
    select * from {{ source('resolution', 'person_records') }}
),

pairs as (
    select
        previous_keys.run_quarter,
        previous_keys.previous_run_quarter,
        previous_keys.person_key as previous_key,
        current_keys.person_key as current_key,
        count(*) as shared_mentions
    from previous_keys
    inner join current_keys
        on
            previous_keys.source = current_keys.source
            and previous_keys.record_key = current_keys.record_key
    group by all
),

fanned as (
    select
        *,
        count(*) over (partition by previous_key) as current_keys_of_previous,
        count(*) over (partition by current_key) as previous_keys_of_current
    from pairs
),

final as (
    select
        run_quarter,
        previous_run_quarter,
        previous_key,
        current_key,
        case
            when previous_keys_of_current > 1 then 'merged'
            when current_keys_of_previous > 1 then 'split'
            else 'rekeyed'
        end as change,
        shared_mentions
    from fanned
    where previous_key <> current_key
)

select * from final
