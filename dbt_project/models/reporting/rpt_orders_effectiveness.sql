-- Protective-order effectiveness on rolling four-quarter cohorts, per order type and
-- domestic-abuse group: of the orders granted in the four quarters ending `followup_months`
-- before the quarter's end (so every one has had its full follow-up by then), how many were
-- breached, and how many subjects re-offended (a stalking-universe crime as suspect or
-- offender), within 3, 6 and 12 months of the grant. Pooling four quarters keeps the counts
-- above the disclosure threshold more often than one quarter's grants would. The flag lives on
-- the crime: orders with no linked crime are a group of their own (order_da_group), so the
-- domestic-abuse and not-domestic-abuse cohorts hold only orders whose flag was recorded.
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

order_types as (
    select * from {{ ref('order_types') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

crimes as (
    select * from {{ ref('int_crimes_classified') }}
),

windows as (
    select named.followup_months
    from (values (3), (6), (12)) as named (followup_months)
),

granted as (
    select
        orders.order_id,
        orders.order_type,
        orders.granted_date,
        orders.first_breach_date,
        orders.first_reoffence_date,
        {{ order_da_group('crimes') }} as da_group
    from orders
    left join crimes on orders.crime_id = crimes.crime_id
    where orders.granted_date is not null
),

-- the grants counted once per follow-up window, grant day, order type and domestic-abuse group:
-- the cohorts below are ranges of grant days, so counting each day's grants here lets the
-- range join match a few thousand days per cohort instead of every order granted in it
granted_days as (
    select
        windows.followup_months,
        granted.order_type,
        granted.da_group,
        granted.granted_date,
        count(granted.order_id) as orders_granted,
        count(granted.order_id) filter (
            where granted.first_breach_date
            <= granted.granted_date + to_months(windows.followup_months)
        ) as breached_within,
        count(granted.order_id) filter (
            where granted.first_reoffence_date
            <= granted.granted_date + to_months(windows.followup_months)
        ) as reoffended_within
    from granted
    cross join windows
    group by
        windows.followup_months,
        granted.order_type,
        granted.da_group,
        granted.granted_date
),

groups as (
    select * from {{ ref('domestic_abuse_groups') }}
),

types as (
    select
        order_type,
        order_name as order_type_label,
        cast(row_number() over (order by is_stalking_order desc, order_type asc) as integer) as order_type_order
    from order_types
    union all
    select
        'ALL' as order_type,
        'All order types' as order_type_label,
        99 as order_type_order
),

grid as (
    select
        quarters.quarter,
        quarters.q_end,
        windows.followup_months,
        cast(quarters.q_end - to_months(windows.followup_months) as date) as cohort_end,
        types.order_type,
        types.order_type_label,
        types.order_type_order,
        groups.da_group,
        groups.da_label,
        groups.da_order
    from quarters
    cross join windows
    cross join types
    cross join groups
),

final as (
    select
        grid.quarter,
        grid.order_type,
        grid.order_type_label,
        grid.order_type_order,
        grid.da_group,
        grid.da_label,
        cast(grid.da_order as integer) as da_order,
        cast(grid.followup_months as integer) as followup_months,
        {{ quarter_of('cast(grid.cohort_end - interval 12 month + interval 1 day as date)') }} as cohort_first_quarter,
        {{ quarter_of('grid.cohort_end') }} as cohort_last_quarter,
        cast(coalesce(sum(granted_days.orders_granted), 0) as bigint) as orders_granted,
        cast(coalesce(sum(granted_days.breached_within), 0) as bigint) as breached_within,
        cast(coalesce(sum(granted_days.reoffended_within), 0) as bigint) as reoffended_within
    from grid
    left join granted_days
        on
            grid.followup_months = granted_days.followup_months
            and granted_days.granted_date > grid.cohort_end - interval 12 month
            and grid.cohort_end >= granted_days.granted_date
            and (grid.order_type = 'ALL' or grid.order_type = granted_days.order_type)
            and grid.da_group in ('all', granted_days.da_group)
    group by all
)

select
    *,
    cohort_first_quarter || ' to ' || cohort_last_quarter as cohort_label
from final
