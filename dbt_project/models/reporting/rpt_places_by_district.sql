-- Stalking-universe crimes and their victims per quarter and district (and community safety
-- partnership where a lookup is configured): crimes, domestic-abuse and online crimes, distinct
-- victims. Crimes with a location outside every district, and crimes with no location, are
-- rows of their own, so the districts add up to the universe.
with

crimes as (
    select * from {{ ref('stalking_crimes') }}
),

districts as (
    select * from {{ source('places', 'crime_districts') }}
),

victims as (
    select * from {{ ref('int_victimisations') }}
),

placed as (
    select
        crimes.quarter,
        crimes.crime_id,
        crimes.is_domestic_abuse,
        crimes.is_online,
        case
            when crimes.latitude is null then 'No location recorded'
            else coalesce(districts.district, 'Outside the districts')
        end as district,
        coalesce(districts.csp, '') as csp,
        case
            when crimes.latitude is null then 3
            when districts.district is null then 2
            else 1
        end as district_order
    from crimes
    left join districts on crimes.crime_id = districts.crime_id
),

final as (
    select
        placed.quarter,
        placed.district,
        any_value(placed.csp) as csp,
        cast(min(placed.district_order) as integer) as district_order,
        count(distinct placed.crime_id) as crimes,
        count(distinct placed.crime_id) filter (where placed.is_domestic_abuse) as crimes_domestic_abuse,
        count(distinct placed.crime_id) filter (where placed.is_online) as crimes_online,
        count(distinct victims.person_key) as victims
    from placed
    left join victims on placed.crime_id = victims.crime_id
    group by placed.quarter, placed.district
)

select * from final
