with

source as (
    select * from {{ source('raw', 'intelligence') }}
),

renamed as (
    select
        intel_id,
        submitted_date,
        {{ quarter_of('submitted_date') }} as submitted_quarter,
        grading,
        subject_person_id,
        subject_forename,
        subject_surname,
        subject_date_of_birth,
        victim_person_id,
        crime_id,
        is_stalking_related,
        is_online,
        latitude,
        longitude
    from source
)

select * from renamed
