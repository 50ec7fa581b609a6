-- Protective orders with the resolved subject and protected person and the order type's
-- reference data.
with

orders as (
    select * from {{ ref('stg_orders') }}
),

order_types as (
    select * from {{ ref('order_types') }}
),

person_records as (
    select
        source,
        record_key,
        cast(person_key as varchar) as person_key
    from {{ source('resolution', 'person_records') }}
    where source in ('order_subject', 'order_protected')
),

resolved as (
    select
        orders.order_id,
        orders.order_type,
        orders.status,
        orders.applied_date,
        orders.granted_date,
        orders.expiry_date,
        orders.crime_id,
        subjects.person_key as subject_person_key,
        protected.person_key as protected_person_key,
        coalesce(order_types.is_stalking_order, false) as is_stalking_order,
        coalesce(orders.applied_date, orders.granted_date) as application_date,
        -- no discharge date is delivered: a discharged order is treated as ended (conservative)
        orders.granted_date is not null and orders.status <> 'discharged' as was_in_force
    from orders
    left join order_types
        on orders.order_type = order_types.order_type
    left join person_records as subjects
        on
            orders.order_id = subjects.record_key
            and subjects.source = 'order_subject'
    left join person_records as protected
        on
            orders.order_id = protected.record_key
            and protected.source = 'order_protected'
)

select * from resolved
