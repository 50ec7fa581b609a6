-- Every person linked to a crime with their resolved identity (person_key). People are
-- counted by person_key, never by nominal id: one real person can hold several ids. A mention
-- that resolution did not return keeps a key of its own nominal id, so nobody is dropped.
with

crime_persons as (
    select * from {{ ref('stg_crime_persons') }}
),

person_records as (
    select
        record_key,
        cast(person_key as varchar) as person_key
    from {{ source('resolution', 'person_records') }}
    where source = 'crime_persons'
),

resolved as (
    select
        crime_persons.crime_id,
        crime_persons.person_id,
        crime_persons.role,
        crime_persons.relationship_to_victim,
        crime_persons.date_of_birth,
        crime_persons.crime_person_key,
        coalesce(person_records.person_key, 'unresolved:' || crime_persons.person_id) as person_key,
        person_records.person_key is not null as is_resolved,
        -- a row with neither forename nor surname ("unknown online suspect") names nobody
        nullif(trim(crime_persons.forename), '') is not null
        or nullif(trim(crime_persons.surname), '') is not null as is_named,
        case when crime_persons.role = 'victim' then 'victim' else 'perpetrator' end as role_side
    from crime_persons
    left join person_records
        on crime_persons.crime_person_key = person_records.record_key
)

select * from resolved
