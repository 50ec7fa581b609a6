with

source as (
    select * from {{ source('raw', 'orders') }}
),

renamed as (
    select
        order_id,
        upper(order_type) as order_type,
        lower(status) as status,
        subject_person_id,
        subject_forename,
        subject_surname,
        subject_date_of_birth,
        protected_person_id,
        applied_date,
        granted_date,
        expiry_date,
        crime_id
    from source
)

select * from renamed
