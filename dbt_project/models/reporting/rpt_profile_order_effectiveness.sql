-- The order-effectiveness table as the profile prints it: per quarter, order type and
-- domestic-abuse group (no_crime: orders with no linked crime), the orders of each follow-up
-- cohort (3, 6 and 12 months) and how many were breached or whose subject re-offended within
-- that time, one row per type and group.
with

effectiveness as (
    select * from {{ ref('rpt_orders_effectiveness') }}
),

final as (
    select
        quarter,
        order_type,
        order_type_label,
        order_type_order,
        da_group,
        da_label,
        da_order,
        cast(coalesce(max(orders_granted) filter (where followup_months = 3), 0) as bigint) as granted_3m,
        cast(coalesce(max(breached_within) filter (where followup_months = 3), 0) as bigint) as breached_3m,
        cast(coalesce(max(reoffended_within) filter (where followup_months = 3), 0) as bigint) as reoffended_3m,
        cast(coalesce(max(orders_granted) filter (where followup_months = 6), 0) as bigint) as granted_6m,
        cast(coalesce(max(breached_within) filter (where followup_months = 6), 0) as bigint) as breached_6m,
        cast(coalesce(max(reoffended_within) filter (where followup_months = 6), 0) as bigint) as reoffended_6m,
        cast(coalesce(max(orders_granted) filter (where followup_months = 12), 0) as bigint) as granted_12m,
        cast(coalesce(max(breached_within) filter (where followup_months = 12), 0) as bigint) as breached_12m,
        cast(coalesce(max(reoffended_within) filter (where followup_months = 12), 0) as bigint) as reoffended_12m
    from effectiveness
    group by quarter, order_type, order_type_label, order_type_order, da_group, da_label, da_order
)

select * from final
