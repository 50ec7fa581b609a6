-- OFFICIAL-SENSITIVE. The records resolution joined into each subject on any quarter's
-- tasking list, with the name and date of birth each record carries.
with

subjects as (
    select distinct person_key from {{ ref('rpt_tasking_list') }}
),

person_records as (
    select * from {{ source('resolution', 'person_records') }}
),

mentions as (
    select * from {{ ref('int_person_mentions') }}
),

final as (
    select
        person_records.person_key,
        person_records.source,
        person_records.record_key,
        person_records.person_id,
        person_records.role,
        person_records.event_date,
        nullif(trim(concat_ws(' ', mentions.forename, upper(mentions.surname))), '') as recorded_name,
        mentions.date_of_birth as recorded_date_of_birth
    from person_records
    inner join subjects on person_records.person_key = subjects.person_key
    left join mentions
        on person_records.source = mentions.source and person_records.record_key = mentions.record_key
)

select * from final
