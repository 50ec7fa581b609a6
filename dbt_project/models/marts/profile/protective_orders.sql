{%- set orders_settings = setting('orders') -%}
-- Protective orders per quarter and order type: applications, grants and refusals, days
-- from the first report to the application, and for orders granted in the quarter whether the
-- order was breached, or the subject re-offended, within the follow-up after the grant.
-- Follow-up rates are over grants whose follow-up has fully elapsed in the data.
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

grid as (
    select
        quarters.quarter,
        order_types.order_type,
        order_types.is_stalking_order
    from quarters
    cross join order_types
),

applied as (
    select
        {{ quarter_of('application_date') }} as quarter,
        order_type,
        count(*) as applications,
        count(*) filter (where status = 'refused') as refusals,
        median(days_report_to_application) as median_days_report_to_application,
        avg(days_report_to_application) as mean_days_report_to_application
    from orders
    where application_date is not null
    group by {{ quarter_of('application_date') }}, order_type
),

granted as (
    select
        {{ quarter_of('granted_date') }} as quarter,
        order_type,
        count(*) as grants,
        count(*) filter (where is_followup_complete) as grants_followed_up,
        count(*) filter (where is_followup_complete and is_breached_in_followup) as breached_in_followup,
        count(*) filter (where is_followup_complete and has_reoffended_in_followup) as reoffended_in_followup
    from orders
    where granted_date is not null
    group by {{ quarter_of('granted_date') }}, order_type
),

final as (
    select
        grid.quarter,
        grid.order_type,
        grid.is_stalking_order,
        coalesce(applied.applications, 0) as applications,
        coalesce(granted.grants, 0) as grants,
        coalesce(applied.refusals, 0) as refusals,
        cast(applied.median_days_report_to_application as double) as median_days_report_to_application,
        round(applied.mean_days_report_to_application, 1) as mean_days_report_to_application,
        coalesce(granted.grants_followed_up, 0) as grants_followed_up,
        coalesce(granted.breached_in_followup, 0) as breached_in_followup,
        round(granted.breached_in_followup / nullif(granted.grants_followed_up, 0), 4) as breach_rate,
        coalesce(granted.reoffended_in_followup, 0) as reoffended_in_followup,
        round(granted.reoffended_in_followup / nullif(granted.grants_followed_up, 0), 4) as reoffending_rate,
        {{ orders_settings['breach_followup_months'] }} as followup_months
    from grid
    left join applied
        on
            grid.quarter = applied.quarter
            and grid.order_type = applied.order_type
    left join granted
        on
            grid.quarter = granted.quarter
            and grid.order_type = granted.order_type
)

select * from final
