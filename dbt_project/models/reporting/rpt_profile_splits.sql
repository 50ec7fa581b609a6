-- The profile's main measures split by the domestic-abuse flag and by the online flag, per
-- quarter: crimes, high-risk crimes, crimes charged or summonsed, crimes located at a
-- dwelling, victims and perpetrators (distinct resolved people; a person with crimes on both
-- sides counts on each side) and protective orders granted (by the flag of the order's crime;
-- an order with no crime on it, mostly a civil non-molestation order or injunction, is on neither
-- side: calling it not domestic abuse would put non-molestation orders there, and the profile says
-- so beside the table).
-- Every side of every measure is a row in every quarter, zero where nothing was recorded.
with

quarters as (
    select quarter from {{ ref('int_quarters') }}
),

crimes as (
    select * from {{ ref('stalking_crimes') }}
),

crime_persons as (
    select * from {{ ref('int_crime_persons_resolved') }}
),

orders as (
    select * from {{ ref('int_orders_resolved') }}
),

all_crimes as (
    select * from {{ ref('int_crimes_classified') }}
),

sides as (
    select
        named.split,
        named.side,
        named.side_label,
        named.side_order
    from (
        values
        ('domestic_abuse', true, 'Domestic abuse', 1),
        ('domestic_abuse', false, 'Not domestic abuse', 2),
        ('online', true, 'Online', 1),
        ('online', false, 'Not online', 2)
    ) as named (split, side, side_label, side_order)
),

measures as (
    select
        named.measure,
        named.measure_label,
        named.measure_order,
        named.window_label
    from (
        values
        ('crimes', 'Crimes', 1, 'quarter'),
        ('high_risk_crimes', 'Crimes graded high risk', 2, 'quarter'),
        ('charged_crimes', 'Crimes charged or summonsed (so far)', 3, 'quarter'),
        ('dwelling_crimes', 'Crimes at a dwelling', 4, 'quarter'),
        ('victims', 'Victims (people)', 5, 'quarter'),
        ('perpetrators', 'Suspects and offenders (people)', 6, 'quarter'),
        ('orders_granted', 'Protective orders granted', 7, 'quarter')
    ) as named (measure, measure_label, measure_order, window_label)
),

flagged_crimes as (
    select
        quarter,
        crime_id,
        risk_level,
        outcome_group,
        location_type,
        'domestic_abuse' as split,
        is_domestic_abuse as side
    from crimes
    union all
    select
        quarter,
        crime_id,
        risk_level,
        outcome_group,
        location_type,
        'online' as split,
        is_online as side
    from crimes
),

crime_measures as (
    select
        quarter,
        split,
        side,
        count(*) as crimes,
        count(*) filter (where risk_level = 'high') as high_risk_crimes,
        count(*) filter (where outcome_group = 'charge_summons') as charged_crimes,
        count(*) filter (where location_type = 'dwelling') as dwelling_crimes
    from flagged_crimes
    group by quarter, split, side
),

people as (
    select
        flagged_crimes.quarter,
        flagged_crimes.split,
        flagged_crimes.side,
        count(distinct crime_persons.person_key) filter (where crime_persons.role = 'victim') as victims,
        count(distinct crime_persons.person_key) filter (
            where crime_persons.role in ('suspect', 'offender') and crime_persons.is_resolved
        ) as perpetrators
    from flagged_crimes
    inner join crime_persons on flagged_crimes.crime_id = crime_persons.crime_id
    group by flagged_crimes.quarter, flagged_crimes.split, flagged_crimes.side
),

flagged_orders as (
    select
        {{ quarter_of('orders.granted_date') }} as quarter,
        'domestic_abuse' as split,
        all_crimes.is_domestic_abuse as side
    from orders
    inner join all_crimes on orders.crime_id = all_crimes.crime_id
    where orders.granted_date is not null
    union all
    select
        {{ quarter_of('orders.granted_date') }} as quarter,
        'online' as split,
        all_crimes.is_online as side
    from orders
    inner join all_crimes on orders.crime_id = all_crimes.crime_id
    where orders.granted_date is not null
),

granted as (
    select
        quarter,
        split,
        side,
        count(*) as orders_granted
    from flagged_orders
    group by quarter, split, side
),

wide as (
    select
        quarters.quarter,
        sides.split,
        sides.side,
        sides.side_label,
        sides.side_order,
        coalesce(crime_measures.crimes, 0) as crimes,
        coalesce(crime_measures.high_risk_crimes, 0) as high_risk_crimes,
        coalesce(crime_measures.charged_crimes, 0) as charged_crimes,
        coalesce(crime_measures.dwelling_crimes, 0) as dwelling_crimes,
        coalesce(people.victims, 0) as victims,
        coalesce(people.perpetrators, 0) as perpetrators,
        coalesce(granted.orders_granted, 0) as orders_granted
    from quarters
    cross join sides
    left join crime_measures
        on
            quarters.quarter = crime_measures.quarter
            and sides.split = crime_measures.split
            and sides.side = crime_measures.side
    left join people
        on quarters.quarter = people.quarter and sides.split = people.split and sides.side = people.side
    left join granted
        on quarters.quarter = granted.quarter and sides.split = granted.split and sides.side = granted.side
),

long as (
    unpivot wide
    on crimes, high_risk_crimes, charged_crimes, dwelling_crimes, victims, perpetrators, orders_granted
    into name measure value value
),

final as (
    select
        long.quarter,
        long.split,
        long.side_label,
        cast(long.side_order as integer) as side_order,
        long.measure,
        measures.measure_label,
        cast(measures.measure_order as integer) as measure_order,
        measures.window_label,
        cast(long.value as bigint) as value
    from long
    inner join measures on long.measure = measures.measure
)

select * from final
