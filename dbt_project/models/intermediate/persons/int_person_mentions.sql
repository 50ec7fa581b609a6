{{ config(materialized='table', tags=['before_resolution']) }}

-- Every person mention in the extracts, one row each: the input to person resolution.
-- role_side puts each role on one side of an incident (victim or perpetrator) so that
-- resolution can keep the victim and the suspect of the same crime apart.

with

crime_persons as (
    select
        cp.crime_person_key as record_key,
        cp.person_id,
        cp.forename,
        cp.surname,
        cp.date_of_birth,
        cp.sex,
        cp.postcode,
        cp.role,
        cp.crime_id,
        cp.crime_id as event_key,
        c.reported_date as event_date,
        'crime_persons' as source,
        case when cp.role = 'victim' then 'victim' else 'perpetrator' end as role_side
    from {{ ref('stg_crime_persons') }} as cp
    left join {{ ref('stg_crimes') }} as c
        on cp.crime_id = c.crime_id
),

intelligence_subjects as (
    select
        intel_id as record_key,
        subject_person_id as person_id,
        subject_forename as forename,
        subject_surname as surname,
        subject_date_of_birth as date_of_birth,
        null::varchar as sex,
        null::varchar as postcode,
        'subject' as role,
        crime_id,
        intel_id as event_key,
        submitted_date as event_date,
        'intelligence_subject' as source,
        'perpetrator' as role_side
    from {{ ref('stg_intelligence') }}
    -- a subject with neither an id nor a name identifies nobody
    where
        subject_person_id is not null
        or subject_forename is not null
        or subject_surname is not null
),

intelligence_victims as (
    select
        intel_id as record_key,
        victim_person_id as person_id,
        null::varchar as forename,
        null::varchar as surname,
        null::date as date_of_birth,
        null::varchar as sex,
        null::varchar as postcode,
        'victim' as role,
        crime_id,
        intel_id as event_key,
        submitted_date as event_date,
        'intelligence_victim' as source,
        'victim' as role_side
    from {{ ref('stg_intelligence') }}
    where victim_person_id is not null
),

order_subjects as (
    select
        order_id as record_key,
        subject_person_id as person_id,
        subject_forename as forename,
        subject_surname as surname,
        subject_date_of_birth::date as date_of_birth,
        null::varchar as sex,
        null::varchar as postcode,
        'subject' as role,
        crime_id,
        order_id as event_key,
        coalesce(applied_date, granted_date) as event_date,
        'order_subject' as source,
        'perpetrator' as role_side
    from {{ ref('stg_orders') }}
    where
        subject_person_id is not null
        or subject_forename is not null
        or subject_surname is not null
),

order_protected as (
    select
        order_id as record_key,
        protected_person_id as person_id,
        null::varchar as forename,
        null::varchar as surname,
        null::date as date_of_birth,
        null::varchar as sex,
        null::varchar as postcode,
        'protected' as role,
        crime_id,
        order_id as event_key,
        coalesce(applied_date, granted_date) as event_date,
        'order_protected' as source,
        'victim' as role_side
    from {{ ref('stg_orders') }}
    -- empty where the order protects the public at large: nobody to resolve
    where protected_person_id is not null
),

unioned as (
    select * from crime_persons
    union all by name
    select * from intelligence_subjects
    union all by name
    select * from intelligence_victims
    union all by name
    select * from order_subjects
    union all by name
    select * from order_protected
),

final as (
    select
        source || ':' || record_key as mention_id,
        source,
        record_key,
        person_id,
        nullif(trim(forename), '') as forename,
        nullif(trim(surname), '') as surname,
        date_of_birth,
        nullif(upper(trim(sex)), '') as sex,
        nullif(upper(trim(postcode)), '') as postcode,
        role,
        role_side,
        crime_id,
        event_key,
        event_date
    from unioned
)

select * from final
