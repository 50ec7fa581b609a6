-- Intelligence reports with the resolved subject and victim (null where nobody is named).
with

intelligence as (
    select * from {{ ref('stg_intelligence') }}
),

person_records as (
    select
        source,
        record_key,
        cast(person_key as varchar) as person_key
    from {{ source('resolution', 'person_records') }}
    where source in ('intelligence_subject', 'intelligence_victim')
),

resolved as (
    select
        intelligence.intel_id,
        intelligence.submitted_date,
        intelligence.submitted_quarter,
        intelligence.crime_id,
        intelligence.is_stalking_related,
        coalesce(intelligence.is_online, false) as is_online,
        subjects.person_key as subject_person_key,
        victims.person_key as victim_person_key
    from intelligence
    left join person_records as subjects
        on
            intelligence.intel_id = subjects.record_key
            and subjects.source = 'intelligence_subject'
    left join person_records as victims
        on
            intelligence.intel_id = victims.record_key
            and victims.source = 'intelligence_victim'
)

select * from resolved
