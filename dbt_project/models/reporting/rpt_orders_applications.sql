-- Protective-order applications over the rolling four quarters ending with the quarter (by
-- application date), per order type and domestic-abuse group: applications, how many were
-- granted or refused, and the median days from the first report of the conduct to the
-- application (int_orders_enriched). Orders with no linked crime are a group of their own
-- (order_da_group): the flag lives on the crime.
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

groups as (
    select * from {{ ref('domestic_abuse_groups') }}
),

types as (
    select
        order_type,
        order_name as order_type_label,
        cast(row_number() over (order by is_stalking_order desc, order_type asc) as integer) as order_type_order
    from order_types
),

applications as (
    select
        orders.order_type,
        orders.application_date,
        orders.status,
        orders.granted_date,
        orders.days_report_to_application,
        {{ order_da_group('crimes') }} as da_group
    from orders
    left join crimes on orders.crime_id = crimes.crime_id
    where orders.application_date is not null
),

final as (
    select
        quarters.quarter,
        types.order_type,
        types.order_type_label,
        types.order_type_order,
        groups.da_group,
        groups.da_label,
        cast(groups.da_order as integer) as da_order,
        count(applications.application_date) as applications,
        count(applications.application_date) filter (where applications.granted_date is not null) as granted,
        count(applications.application_date) filter (where applications.status = 'refused') as refused,
        cast(median(applications.days_report_to_application) as double) as median_days_report_to_application
    from quarters
    cross join types
    cross join groups
    left join applications
        on
            types.order_type = applications.order_type
            and applications.application_date > quarters.q_end - interval 12 month
            and quarters.q_end >= applications.application_date
            and groups.da_group in ('all', applications.da_group)
    group by all
)

select * from final
