{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where run_quarter = {{ profile_quarter() }}{% endif %}",
) }}
-- Every person mention's resolved key as each run left it, kept across runs (not replaced):
-- re-running a quarter replaces that quarter's rows (the pre-hook), so a run never duplicates.
-- person_key_lineage compares the previous run's keys with this run's.
with

person_records as (
    select * from {{ source('resolution', 'person_records') }}
),

final as (
    select
        cast({{ profile_quarter() }} as varchar) as run_quarter,
        source,
        record_key,
        person_key,
        role_side
    from person_records
)

select * from final
