{%- set orders_settings = setting('orders') -%}
-- One row per protective order or application with what the orders section of the profile
-- asks: days from the first report to the application, whether the order was breached and
-- whether the subject re-offended (stalking universe) within the follow-up after the grant.
with

orders as (
    select * from {{ ref('int_orders_resolved') }}
),

crimes as (
    select * from {{ ref('int_crimes_classified') }}
),

stalking_pairs as (
    select crime_pairs.*
    from {{ ref('int_crime_pairs') }} as crime_pairs
    inner join {{ ref('int_stalking_crimes') }} as stalking_crimes
        on crime_pairs.crime_id = stalking_crimes.crime_id
),

perpetrations as (
    select * from {{ ref('int_perpetrations') }}
),

breaches as (
    select * from {{ ref('stg_breaches') }}
),

-- the first report of the conduct: the earliest crime between the subject and the protected
-- person before the application, else the crime the order arose from
first_reports as (
    select
        orders.order_id,
        min(stalking_pairs.reported_date) as first_pair_report
    from orders
    inner join stalking_pairs
        on
            orders.subject_person_key = stalking_pairs.suspect_person_key
            and orders.protected_person_key = stalking_pairs.victim_person_key
            and orders.application_date >= stalking_pairs.reported_date
    group by orders.order_id
),

breach_summary as (
    select
        breaches.order_id,
        count(*) as breaches_total,
        min(breaches.breach_date) as first_breach_date
    from breaches
    group by breaches.order_id
),

reoffending as (
    select
        orders.order_id,
        min(perpetrations.reported_date) as first_reoffence_date
    from orders
    inner join perpetrations
        on
            orders.subject_person_key = perpetrations.person_key
            and orders.granted_date < perpetrations.reported_date
    group by orders.order_id
),

final as (
    select
        orders.order_id,
        orders.order_type,
        orders.status,
        orders.is_stalking_order,
        orders.applied_date,
        orders.granted_date,
        orders.expiry_date,
        orders.application_date,
        orders.crime_id,
        orders.subject_person_key,
        orders.protected_person_key,
        coalesce(first_reports.first_pair_report, crimes.reported_date) as first_report_date,
        date_diff(
            'day', coalesce(first_reports.first_pair_report, crimes.reported_date), orders.application_date
        ) as days_report_to_application,
        coalesce(breach_summary.breaches_total, 0) as breaches_total,
        breach_summary.first_breach_date,
        coalesce(
            breach_summary.first_breach_date
            <= orders.granted_date + interval {{ orders_settings['breach_followup_months'] }} month,
            false
        ) as is_breached_in_followup,
        reoffending.first_reoffence_date,
        coalesce(
            reoffending.first_reoffence_date
            <= orders.granted_date + interval {{ orders_settings['reoffending_followup_months'] }} month,
            false
        ) as has_reoffended_in_followup,
        coalesce(
            orders.granted_date + interval {{ orders_settings['breach_followup_months'] }} month
            <= (select max(crimes_all.reported_date) from crimes as crimes_all),
            false
        ) as is_followup_complete
    from orders
    left join first_reports
        on orders.order_id = first_reports.order_id
    left join crimes
        on orders.crime_id = crimes.crime_id
    left join breach_summary
        on orders.order_id = breach_summary.order_id
    left join reoffending
        on orders.order_id = reoffending.order_id
)

select * from final
