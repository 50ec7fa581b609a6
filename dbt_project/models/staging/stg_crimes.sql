with

source as (
    select * from {{ source('raw', 'crimes') }}
),

renamed as (
    select
        -- ids
        crime_id,
        -- classification
        upper(trim(offence_code)) as offence_code,
        offence_description,
        included_offence_codes,
        -- dates
        reported_date,
        offence_start,
        offence_end,
        outcome_date,
        needs_assessment_date,
        support_referral_date,
        {{ quarter_of('reported_date') }} as reported_quarter,
        -- flags
        is_domestic_abuse,
        is_online,
        right_to_review_informed,
        spo_considered,
        -- place
        latitude,
        longitude,
        location_type,
        -- outcome and risk
        outcome_code,
        spo_not_pursued_reason,
        lower(risk_level) as risk_level
    from source
)

select * from renamed
