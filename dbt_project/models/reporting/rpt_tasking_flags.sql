{%- set perp = setting('perpetrators') -%}
{%- set rfgv = setting('rfgv') -%}
{%- set window = setting('tasking')['escalation_window_months'] -%}
-- Rule-based flags for every high-harm subject of every quarter, each with its plain reason
-- (the numbers behind it), and the suggested action from the tasking_actions rule table:
--   order_not_working  a breach of their protective order while it was in force, last 12 months
--   escalation         more crimes, or a more harmful offence, in the last escalation window
--                      than in the window before (they offended in both)
--   new_victim         a victim whose first crime with this subject was reported this quarter
--   no_spo_considered  no crime in the look-back with an SPO recorded as considered, and no SPO
--                      or interim SPO ever applied for against them
--   serial / domestic_abuse / online_only (every crime in the look-back online)
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

listed as (
    select
        perpetrators.quarter,
        perpetrators.person_key,
        perpetrators.is_serial,
        perpetrators.distinct_victims_confident,
        coalesce(perpetrators.has_domestic_abuse, false) as has_domestic_abuse,
        quarters.q_start,
        quarters.q_end
    from {{ ref('perpetrators') }} as perpetrators
    inner join quarters on perpetrators.quarter = quarters.quarter
    where perpetrators.is_high_harm
),

perpetrations as (
    select
        perpetrations.*,
        coalesce(crimes.spo_considered, false) as spo_considered
    from {{ ref('int_perpetrations') }} as perpetrations
    inner join {{ ref('int_stalking_crimes') }} as crimes
        on perpetrations.crime_id = crimes.crime_id
),

orders as (
    select * from {{ ref('int_orders_resolved') }}
),

crime_facts as (
    select
        listed.quarter,
        listed.person_key,
        count(distinct perpetrations.crime_id) filter (
            where perpetrations.reported_date > listed.q_end - interval {{ window }} month
        ) as crimes_recent,
        count(distinct perpetrations.crime_id) filter (
            where
            perpetrations.reported_date <= listed.q_end - interval {{ window }} month
            and perpetrations.reported_date > listed.q_end - interval {{ 2 * window }} month
        ) as crimes_before,
        max(perpetrations.harm_weight_days) filter (
            where perpetrations.reported_date > listed.q_end - interval {{ window }} month
        ) as worst_harm_recent,
        max(perpetrations.harm_weight_days) filter (
            where perpetrations.reported_date <= listed.q_end - interval {{ window }} month
        ) as worst_harm_before,
        bool_and(coalesce(perpetrations.is_online, false)) as is_online_only,
        bool_or(perpetrations.spo_considered) as spo_considered
    from listed
    inner join perpetrations
        on
            listed.person_key = perpetrations.person_key
            and perpetrations.reported_date > listed.q_end - interval {{ perp['serial_lookback_years'] }} year
            and listed.q_end >= perpetrations.reported_date
    group by listed.quarter, listed.person_key
),

first_contact as (
    select
        suspect_person_key as person_key,
        victim_person_key,
        min(reported_date) as first_reported
    from {{ ref('int_crime_pairs') }}
    group by suspect_person_key, victim_person_key
),

new_victims as (
    select
        listed.quarter,
        listed.person_key,
        count(*) as new_victims
    from listed
    inner join first_contact
        on
            listed.person_key = first_contact.person_key
            and first_contact.first_reported between listed.q_start and listed.q_end
    group by listed.quarter, listed.person_key
),

breaches_in_force as (
    select
        listed.quarter,
        listed.person_key,
        count(distinct breaches.breach_id) as breaches_in_force_12m
    from listed
    inner join orders
        on listed.person_key = orders.subject_person_key
    inner join {{ ref('stg_breaches') }} as breaches
        on
            orders.order_id = breaches.order_id
            and breaches.breach_date between orders.granted_date
            and coalesce(orders.expiry_date, date '9999-12-31')
            and breaches.breach_date > listed.q_end - interval {{ rfgv['frequency_window_months'] }} month
            and listed.q_end >= breaches.breach_date
    group by listed.quarter, listed.person_key
),

spo_applied as (
    select distinct
        listed.quarter,
        listed.person_key
    from listed
    inner join orders
        on
            listed.person_key = orders.subject_person_key
            and orders.order_type in ('SPO', 'ISPO')
            and listed.q_end >= orders.application_date
),

facts as (
    select
        listed.quarter,
        listed.person_key,
        coalesce(breaches_in_force.breaches_in_force_12m, 0) as breaches_in_force_12m,
        coalesce(new_victims.new_victims, 0) as new_victims_in_quarter,
        coalesce(crime_facts.crimes_recent, 0) as crimes_recent,
        coalesce(crime_facts.crimes_before, 0) as crimes_before,
        crime_facts.worst_harm_recent,
        crime_facts.worst_harm_before,
        listed.is_serial,
        listed.distinct_victims_confident,
        listed.has_domestic_abuse,
        coalesce(crime_facts.is_online_only, false) as is_online_only,
        not coalesce(crime_facts.spo_considered, false) and spo_applied.person_key is null
            as no_spo_considered
    from listed
    left join crime_facts
        on listed.quarter = crime_facts.quarter and listed.person_key = crime_facts.person_key
    left join new_victims
        on listed.quarter = new_victims.quarter and listed.person_key = new_victims.person_key
    left join breaches_in_force
        on listed.quarter = breaches_in_force.quarter and listed.person_key = breaches_in_force.person_key
    left join spo_applied
        on listed.quarter = spo_applied.quarter and listed.person_key = spo_applied.person_key
),

flagged as (
    select
        *,
        breaches_in_force_12m > 0 as flag_order_not_working,
        crimes_before > 0
        and (
            crimes_recent > crimes_before
            or coalesce(worst_harm_recent > worst_harm_before, false)
        ) as flag_escalation,
        new_victims_in_quarter > 0 as flag_new_victim,
        no_spo_considered as flag_no_spo_considered,
        is_online_only as flag_online_only
    from facts
),

raised as (
    select
        flagged.quarter,
        flagged.person_key,
        raised_flags.flag,
        raised_flags.reason
    from flagged
    cross join
        lateral (
            values
            (
                'order_not_working',
                case
                    when flagged.flag_order_not_working then
                        'order not working: review (' || flagged.breaches_in_force_12m || ' breach'
                        || case when flagged.breaches_in_force_12m = 1 then '' else 'es' end
                        || ' of an order in force, last {{ rfgv["frequency_window_months"] }} months)'
                end
            ),
            (
                'escalation',
                case
                    when flagged.flag_escalation then
                        'escalating: ' || concat_ws(
                            ' and ',
                            case
                                when flagged.crimes_recent > flagged.crimes_before then
                                    flagged.crimes_recent || ' crimes in the last {{ window }} months against '
                                    || flagged.crimes_before || ' in the {{ window }} before'
                            end,
                            case
                                when coalesce(flagged.worst_harm_recent > flagged.worst_harm_before, false) then
                                    'a more harmful offence (' || flagged.worst_harm_recent || ' harm days against '
                                    || flagged.worst_harm_before || ')'
                            end
                        )
                end
            ),
            (
                'new_victim',
                case
                    when flagged.flag_new_victim then
                        flagged.new_victims_in_quarter || ' new victim'
                        || case when flagged.new_victims_in_quarter = 1 then '' else 's' end
                        || ' this quarter'
                end
            ),
            (
                'no_spo_considered',
                case
                    when flagged.flag_no_spo_considered then
                        'no SPO considered on any crime in the look-back, none applied for'
                end
            ),
            (
                'serial',
                case
                    when flagged.is_serial then
                        'serial: ' || flagged.distinct_victims_confident || ' distinct victims'
                end
            ),
            ('domestic_abuse', case when flagged.has_domestic_abuse then 'domestic abuse' end),
            ('online_only', case when flagged.flag_online_only then 'online-only conduct' end)
        ) as raised_flags (flag, reason)
    where raised_flags.reason is not null
),

actions as (
    select * from {{ ref('tasking_actions') }}
),

summarised as (
    select
        flagged.quarter,
        flagged.person_key,
        string_agg(raised.reason, '; ' order by actions.priority) as flag_reasons,
        coalesce(
            string_agg(actions.suggested_action, '; ' order by actions.priority),
            any_value(no_flag.suggested_action)
        ) as suggested_action
    from flagged
    left join raised
        on flagged.quarter = raised.quarter and flagged.person_key = raised.person_key
    left join actions
        on raised.flag = actions.flag
    left join actions as no_flag
        on no_flag.flag = 'none'
    group by flagged.quarter, flagged.person_key
),

final as (
    select
        flagged.quarter,
        flagged.person_key,
        flagged.flag_order_not_working,
        flagged.flag_escalation,
        flagged.flag_new_victim,
        flagged.flag_no_spo_considered,
        flagged.flag_online_only,
        flagged.breaches_in_force_12m,
        flagged.new_victims_in_quarter,
        flagged.crimes_recent,
        flagged.crimes_before,
        summarised.flag_reasons,
        summarised.suggested_action
    from flagged
    inner join summarised
        on flagged.quarter = summarised.quarter and flagged.person_key = summarised.person_key
)

select * from final
