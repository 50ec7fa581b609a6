-- Recorded breaches of protective orders per quarter (of the breach) and order type: how many,
-- of how many orders and subjects, how many were recorded as a crime, and the action taken.
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

order_types as (
    select * from {{ ref('order_types') }}
),

breaches as (
    select * from {{ ref('stg_breaches') }}
),

orders as (
    select * from {{ ref('int_orders_resolved') }}
),

grid as (
    select
        quarters.quarter,
        order_types.order_type
    from quarters
    cross join order_types
),

counted as (
    select
        breaches.breach_quarter as quarter,
        orders.order_type,
        count(*) as breaches,
        count(distinct breaches.order_id) as orders_breached,
        count(distinct orders.subject_person_key) as subjects,
        count(*) filter (where breaches.crime_id is not null) as recorded_as_crime,
        count(*) filter (where breaches.action_taken = 'arrest') as arrests,
        count(*) filter (where breaches.action_taken = 'charge') as charges,
        count(*) filter (where breaches.action_taken = 'caution') as cautions,
        count(*) filter (where breaches.action_taken = 'no_further_action') as no_further_action,
        count(*) filter (
            where breaches.action_taken is null
            or breaches.action_taken not in ('arrest', 'charge', 'caution', 'no_further_action')
        ) as other_action
    from breaches
    inner join orders
        on breaches.order_id = orders.order_id
    group by breaches.breach_quarter, orders.order_type
),

final as (
    select
        grid.quarter,
        grid.order_type,
        coalesce(counted.breaches, 0) as breaches,
        coalesce(counted.orders_breached, 0) as orders_breached,
        coalesce(counted.subjects, 0) as subjects,
        coalesce(counted.recorded_as_crime, 0) as recorded_as_crime,
        coalesce(counted.arrests, 0) as arrests,
        coalesce(counted.charges, 0) as charges,
        coalesce(counted.cautions, 0) as cautions,
        coalesce(counted.no_further_action, 0) as no_further_action,
        coalesce(counted.other_action, 0) as other_action
    from grid
    left join counted
        on
            grid.quarter = counted.quarter
            and grid.order_type = counted.order_type
)

select * from final
