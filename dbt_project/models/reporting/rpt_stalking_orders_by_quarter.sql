-- Stalking protection orders (SPO, interim SPO) in force at each quarter's end, and the
-- follow-up of the stalking orders granted in each quarter (breached within followup_months).
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

orders as (
    select * from {{ ref('int_orders_resolved') }}
),

protective_orders as (
    select * from {{ ref('protective_orders') }}
),

in_force as (
    select
        quarters.quarter,
        count(orders.order_id) as spo_in_force
    from quarters
    left join orders
        on
            upper(orders.order_type) in ('SPO', 'ISPO')
            and quarters.q_end >= orders.granted_date
            and (orders.expiry_date is null or quarters.q_end < orders.expiry_date)
            and lower(orders.status) not in ('discharged', 'refused')
    group by quarters.quarter
),

followup as (
    select
        quarter,
        sum(grants_followed_up) as grants_followed_up,
        sum(breached_in_followup) as breached_in_followup,
        max(followup_months) as followup_months
    from protective_orders
    where is_stalking_order
    group by quarter
),

final as (
    select
        in_force.quarter,
        in_force.spo_in_force,
        cast(followup.grants_followed_up as bigint) as grants_followed_up,
        cast(followup.breached_in_followup as bigint) as breached_in_followup,
        followup.followup_months
    from in_force
    left join followup on in_force.quarter = followup.quarter
)

select * from final
