-- Protective orders per quarter by event (applied for, granted, refused, breach recorded) and
-- order type, for the six order types the profile tables show; every type and event has a row
-- in every quarter with orders.
with

protective_orders as (
    select * from {{ ref('protective_orders') }}
),

order_breaches as (
    select * from {{ ref('order_breaches') }}
),

order_names as (
    select * from {{ ref('order_types') }}
),

events as (
    select
        quarter,
        order_type,
        'Applied for' as event,
        1 as event_order,
        applications as orders
    from protective_orders
    union all
    select
        quarter,
        order_type,
        'Granted' as event,
        2 as event_order,
        grants as orders
    from protective_orders
    union all
    select
        quarter,
        order_type,
        'Refused' as event,
        3 as event_order,
        refusals as orders
    from protective_orders
    union all
    select
        quarter,
        order_type,
        'Breaches recorded' as event,
        4 as event_order,
        breaches as orders
    from order_breaches
),

shown_types as (
    select
        named.order_type,
        named.order_type_order
    from (
        values ('SPO', 1), ('ISPO', 2), ('RO', 3), ('NMO', 4), ('DVPO', 5), ('IAH', 6)
    ) as named (order_type, order_type_order)
),

event_names as (
    select distinct
        event,
        event_order
    from events
),

quarters as (
    select distinct quarter from events
),

counts as (
    select
        quarter,
        event,
        order_type,
        sum(orders) as orders
    from events
    group by quarter, event, order_type
),

final as (
    select
        quarters.quarter,
        event_names.event,
        cast(event_names.event_order as integer) as event_order,
        shown_types.order_type,
        coalesce(order_names.order_name, shown_types.order_type) || ' (' || shown_types.order_type || ')'
            as order_type_label,
        cast(shown_types.order_type_order as integer) as order_type_order,
        cast(coalesce(counts.orders, 0) as bigint) as orders
    from quarters
    cross join event_names
    cross join shown_types
    left join order_names on shown_types.order_type = order_names.order_type
    left join counts
        on
            quarters.quarter = counts.quarter
            and event_names.event = counts.event
            and shown_types.order_type = counts.order_type
)

select * from final
