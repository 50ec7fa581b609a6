{%- set lookback_years = setting('perpetrators')['serial_lookback_years'] -%}
-- The restricted tasking list (OFFICIAL-SENSITIVE): every quarter's high-harm perpetrators in
-- rank order with the facts the pack prints beside the RFGV score: best name and date of birth
-- (resolution), orders in force at the quarter's end with their expiry, and whether any of
-- their stalking-universe crimes in the serial look-back was flagged online.
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

perpetrators as (
    select * from {{ ref('perpetrators') }}
    where is_high_harm
),

persons as (
    select * from {{ source('resolution', 'dim_persons') }}
),

orders as (
    select * from {{ ref('int_orders_resolved') }}
),

perpetrations as (
    select * from {{ ref('int_perpetrations') }}
),

listed as (
    select
        perpetrators.*,
        quarters.q_end
    from perpetrators
    inner join quarters on perpetrators.quarter = quarters.quarter
),

active_orders as (
    select
        listed.quarter,
        listed.person_key,
        string_agg(
            case
                when orders.expiry_date is not null
                    then orders.order_type || ' to ' || strftime(orders.expiry_date, '%d %b %Y')
                else orders.order_type || ' (no expiry)'
            end,
            '; '
            order by orders.expiry_date nulls last, orders.order_type
        ) as active_orders
    from listed
    inner join orders
        on
            listed.person_key = orders.subject_person_key
            and orders.was_in_force
            and listed.q_end >= orders.granted_date
            and coalesce(orders.expiry_date, date '9999-12-31') >= listed.q_end
    group by listed.quarter, listed.person_key
),

online as (
    select
        listed.quarter,
        listed.person_key,
        bool_or(coalesce(perpetrations.is_online, false)) as is_online
    from listed
    inner join perpetrations
        on
            listed.person_key = perpetrations.person_key
            and perpetrations.reported_date > listed.q_end - interval {{ lookback_years }} year
            and listed.q_end >= perpetrations.reported_date
    group by listed.quarter, listed.person_key
),

final as (
    select
        listed.quarter,
        listed.rank,
        listed.person_key,
        nullif(trim(concat_ws(' ', persons.forename, upper(persons.surname))), '') as best_name,
        persons.date_of_birth,
        listed.rfgv_score,
        listed.recency_score,
        listed.frequency_score,
        listed.gravity_score,
        listed.victims_score,
        listed.victims_total,
        listed.crimes_total,
        listed.crimes_12m,
        listed.breaches_12m,
        listed.has_active_order,
        active_orders.active_orders,
        listed.last_reported_date as last_offence_date,
        listed.risk_level,
        listed.highest_recorded_risk_12m,
        listed.has_domestic_abuse,
        online.is_online,
        listed.is_repeat,
        listed.is_serial
    from listed
    left join persons on listed.person_key = persons.person_key
    left join active_orders on listed.quarter = active_orders.quarter and listed.person_key = active_orders.person_key
    left join online on listed.quarter = online.quarter and listed.person_key = online.person_key
)

select * from final
