-- Unwanted (FOUR): contact the victim is protected from. A screened crime is unwanted contact
-- when it is a breach of an order, a breach record names it, or it happened while an order
-- protecting this victim from this suspect was in force. One row per such crime.
with

candidates as (
    select * from {{ ref('int_screening_candidates') }}
),

crime_pairs as (
    select * from {{ ref('int_crime_pairs') }}
),

orders as (
    select * from {{ ref('int_orders_resolved') }}
),

breaches as (
    select * from {{ ref('stg_breaches') }}
),

breach_category as (
    select crime_id
    from candidates
    where offence_category = 'breach_of_order'
),

breach_records as (
    select breaches.crime_id
    from breaches
    inner join candidates
        on breaches.crime_id = candidates.crime_id
),

-- contact while an order protecting the victim from this suspect was in force
order_contact as (
    select candidates.crime_id
    from candidates
    inner join crime_pairs
        on candidates.crime_id = crime_pairs.crime_id
    inner join orders
        on
            crime_pairs.suspect_person_key = orders.subject_person_key
            and crime_pairs.victim_person_key = orders.protected_person_key
    where
        orders.was_in_force
        and candidates.occasion_date >= orders.granted_date
        and candidates.occasion_date <= coalesce(orders.expiry_date, date '9999-12-31')
),

final as (
    select crime_id from breach_category
    union
    select crime_id from breach_records
    union
    select crime_id from order_contact
)

select
    crime_id,
    true as is_unwanted
from final
