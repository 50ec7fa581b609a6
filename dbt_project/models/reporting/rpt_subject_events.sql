-- OFFICIAL-SENSITIVE. The timeline of every subject on a quarter's tasking list up to that
-- quarter's end: their crimes as suspect or offender (one row per victim), intelligence about
-- them, orders against them and breaches of those orders, each with the printed detail and
-- the victim's person_key (the pack pseudonymises victims as Victim A, B, ...).
with

subjects as (
    select
        tasking.quarter,
        tasking.person_key,
        quarters.q_end
    from {{ ref('rpt_tasking_list') }} as tasking
    inner join {{ ref('int_quarters') }} as quarters on tasking.quarter = quarters.quarter
),

-- everyone ever on a list: the events are built for them only (the final join keeps no one
-- else), not for every suspect in the force's history
subject_keys as (
    select distinct person_key
    from subjects
),

crime_persons as (
    select * from {{ ref('int_crime_persons_resolved') }}
),

crimes as (
    select * from {{ ref('stg_crimes') }}
),

universe as (
    select * from {{ ref('int_stalking_crimes') }}
),

outcome_codes as (
    select * from {{ ref('outcome_codes') }}
),

intelligence as (
    select * from {{ ref('int_intelligence_resolved') }}
),

orders as (
    select * from {{ ref('int_orders_resolved') }}
),

breaches as (
    select * from {{ ref('stg_breaches') }}
),

crime_events as (
    select
        subject_role.person_key,
        crimes.reported_date as event_date,
        'crime' as kind,
        crimes.crime_id as reference,
        concat_ws(
            ' · ',
            crimes.offence_description,
            subject_role.role || coalesce(' (' || replace(subject_role.relationship_to_victim, '_', '-') || ')', ''),
            case when crimes.is_domestic_abuse then 'DA' end,
            case when crimes.is_online then 'online' end,
            case when crimes.risk_level is not null then 'risk ' || crimes.risk_level end,
            case when universe.crime_id is not null then 'stalking universe (' || universe.identified_by || ')' end,
            coalesce('outcome: ' || coalesce(outcome_codes.outcome_name, crimes.outcome_code), 'no outcome yet')
        ) as detail,
        victim_role.person_key as victim_key
    from crime_persons as subject_role
    inner join crimes on subject_role.crime_id = crimes.crime_id
    left join universe on crimes.crime_id = universe.crime_id
    left join outcome_codes on crimes.outcome_code = outcome_codes.outcome_code
    left join crime_persons as victim_role
        on crimes.crime_id = victim_role.crime_id and victim_role.role_side = 'victim'
    where
        subject_role.role_side = 'perpetrator'
        and subject_role.person_key in (select subject_keys.person_key from subject_keys)
),

intelligence_events as (
    select
        subject_person_key as person_key,
        submitted_date as event_date,
        'intelligence' as kind,
        intel_id as reference,
        concat_ws(
            ' · ',
            case when is_stalking_related then 'stalking-related' else 'not stalking-related' end,
            case when is_online then 'online' end,
            'crime ' || crime_id
        ) as detail,
        victim_person_key as victim_key
    from intelligence
    where subject_person_key in (select subject_keys.person_key from subject_keys)
),

order_events as (
    select
        subject_person_key as person_key,
        coalesce(granted_date, applied_date) as event_date,
        'order' as kind,
        order_id as reference,
        concat_ws(
            ' · ',
            order_type || ' ' || status,
            'applied ' || strftime(applied_date, '%d %b %Y'),
            'granted ' || strftime(granted_date, '%d %b %Y'),
            'expires ' || strftime(expiry_date, '%d %b %Y')
        ) as detail,
        protected_person_key as victim_key
    from orders
    where subject_person_key in (select subject_keys.person_key from subject_keys)
),

breach_events as (
    select
        orders.subject_person_key as person_key,
        breaches.breach_date as event_date,
        'breach' as kind,
        breaches.breach_id as reference,
        concat_ws(
            ' · ',
            'of ' || orders.order_type || ' ' || orders.order_id,
            'action ' || replace(breaches.action_taken, '_', ' '),
            'crime ' || breaches.crime_id
        ) as detail,
        orders.protected_person_key as victim_key
    from breaches
    inner join orders on breaches.order_id = orders.order_id
    where orders.subject_person_key in (select subject_keys.person_key from subject_keys)
),

events as (
    select * from crime_events
    union all
    select * from intelligence_events
    union all
    select * from order_events
    union all
    select * from breach_events
),

final as (
    select
        subjects.quarter,
        subjects.person_key,
        events.event_date,
        events.kind,
        events.reference,
        events.detail,
        events.victim_key
    from subjects
    inner join events
        on subjects.person_key = events.person_key and subjects.q_end >= events.event_date
)

select * from final
