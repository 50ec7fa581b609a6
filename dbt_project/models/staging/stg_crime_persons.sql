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
        -- the spec spells the values in snake case (ex_partner); a force's "Ex-partner" or
        -- "EX PARTNER" is the same relationship, not an unknown one
        regexp_replace(lower(relationship_to_victim), '[ -]+', '_', 'g') as relationship_to_victim,
        -- one key per row: crime_persons has no key, and the same nominal can stand on a
        -- crime twice (victim and suspect, or a repeated row); a repeat of a crime's nominal
        -- keeps its source row in its key
        crime_id || '|' || person_id
        || case
            when row_number() over (partition by crime_id, person_id order by _source_row) > 1
                then '|' || _source_row
            else ''
        end as crime_person_key,
        _source_row
    from source
)

select * from renamed
