with

source as (
    select * from {{ source('raw', 'crime_persons') }}
),

renamed as (
    select
        crime_id,
        person_id,
        lower(role) as role,
        forename,
        surname,
        date_of_birth,
        upper(sex) as sex,
        upper(postcode) as postcode,
        lower(relationship_to_victim) as relationship_to_victim,
        crime_id || '|' || person_id as crime_person_key,
        _source_row
    from source
)

select * from renamed
