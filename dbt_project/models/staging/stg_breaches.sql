with

source as (
    select * from {{ source('raw', 'breaches') }}
),

renamed as (
    select
        breach_id,
        order_id,
        breach_date,
        {{ quarter_of('breach_date') }} as breach_quarter,
        crime_id,
        lower(action_taken) as action_taken
    from source
)

select * from renamed
