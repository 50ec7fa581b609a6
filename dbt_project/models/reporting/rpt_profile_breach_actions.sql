-- The action-after-a-breach table as the profile prints it: per quarter and action, breaches in
-- the four quarters ending with it on each side of the domestic-abuse flag, of orders with no
-- linked crime (on neither side: the flag is the crime's) and in all (the "All" column is the
-- sum of the three, suppressed with them as one table).
with

actions as (
    select * from {{ ref('rpt_orders_breach_actions') }}
),

final as (
    select
        quarter,
        any_value(action_label) as action_label,
        any_value(action_order) as action_order,
        action,
        cast(coalesce(sum(breaches) filter (where da_group = 'domestic_abuse'), 0) as bigint)
            as breaches_domestic_abuse,
        cast(coalesce(sum(breaches) filter (where da_group = 'not_domestic_abuse'), 0) as bigint)
            as breaches_not_domestic_abuse,
        cast(coalesce(sum(breaches) filter (where da_group = 'no_crime'), 0) as bigint)
            as breaches_no_crime,
        cast(coalesce(sum(breaches) filter (where da_group <> 'all'), 0) as bigint) as breaches_all
    from actions
    group by quarter, action
)

select * from final
