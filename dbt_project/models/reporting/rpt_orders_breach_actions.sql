-- What happened after each recorded breach of a protective order, over the rolling four
-- quarters ending with the quarter (by breach date), per domestic-abuse group of the order's
-- crime (an order with no linked crime is in a group of its own, order_da_group). Every action
-- is a row in every quarter and group, with zero where none was recorded.
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

breaches as (
    select * from {{ ref('stg_breaches') }}
),

orders as (
    select * from {{ ref('int_orders_resolved') }}
),

crimes as (
    select * from {{ ref('int_crimes_classified') }}
),

actions as (
    select
        named.action,
        named.action_label,
        named.action_order
    from (
        values
        ('arrest', 'Arrest', 1),
        ('charge', 'Charge', 2),
        ('caution', 'Caution', 3),
        ('no_further_action', 'No further action', 4),
        ('other', 'Other or not recorded', 5)
    ) as named (action, action_label, action_order)
),

groups as (
    select * from {{ ref('domestic_abuse_groups') }}
),

breach_rows as (
    select
        breaches.breach_date,
        case
            when breaches.action_taken in ('arrest', 'charge', 'caution', 'no_further_action')
                then breaches.action_taken
            else 'other'
        end as action,
        {{ order_da_group('crimes') }} as da_group
    from breaches
    inner join orders on breaches.order_id = orders.order_id
    left join crimes on orders.crime_id = crimes.crime_id
),

grid as (
    select
        quarters.quarter,
        quarters.q_end,
        actions.action,
        actions.action_label,
        actions.action_order,
        groups.da_group,
        groups.da_label,
        groups.da_order
    from quarters
    cross join actions
    cross join groups
),

final as (
    select
        grid.quarter,
        grid.action,
        grid.action_label,
        cast(grid.action_order as integer) as action_order,
        grid.da_group,
        grid.da_label,
        cast(grid.da_order as integer) as da_order,
        count(breach_rows.breach_date) as breaches
    from grid
    left join breach_rows
        on
            grid.action = breach_rows.action
            and breach_rows.breach_date > grid.q_end - interval 12 month
            and grid.q_end >= breach_rows.breach_date
            and grid.da_group in ('all', breach_rows.da_group)
    group by all
)

select * from final
