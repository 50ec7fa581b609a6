-- A view, not a table: a union of projections of int_crime_pairs and the resolved
-- intelligence, cheaper for its two readers to compute as they read it than to write and
-- compress (~4.9 M rows at national scale, on the screening chain's critical path).
{{ config(materialized='view') }}

-- Every recorded occasion of contact between a resolved suspect and a resolved victim: each
-- crime pair, and each intelligence report naming both a subject and a victim. Course of
-- conduct ("conduct on at least two occasions") is counted over these.
with

crime_pairs as (
    select * from {{ ref('int_crime_pairs') }}
),

intelligence as (
    select * from {{ ref('int_intelligence_resolved') }}
),

from_crimes as (
    select
        'crime' as occasion_kind,
        crime_id as occasion_id,
        crime_id,
        suspect_person_key,
        victim_person_key,
        occasion_date,
        offence_category,
        harm_weight_days,
        is_online,
        false as is_stalking_intelligence
    from crime_pairs
),

from_intelligence as (
    select
        'intelligence' as occasion_kind,
        intel_id as occasion_id,
        crime_id,
        subject_person_key as suspect_person_key,
        victim_person_key,
        submitted_date as occasion_date,
        cast(null as varchar) as offence_category,
        0 as harm_weight_days,
        is_online,
        is_stalking_related as is_stalking_intelligence
    from intelligence
    where
        subject_person_key is not null
        and victim_person_key is not null
        and subject_person_key <> victim_person_key
),

unioned as (
    select * from from_crimes
    union all
    select * from from_intelligence
)

select * from unioned
