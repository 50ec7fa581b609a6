-- Every crime in the stalking universe, with the route that identified it (principal /
-- included / screened) and what analysts slice by. Located crimes feed the hotspot analysis.
with

stalking_crimes as (
    select * from {{ ref('int_stalking_crimes') }}
),

persons as (
    select * from {{ ref('int_crime_persons_resolved') }}
),

-- the people of the stalking universe's crimes only (every crime's, ~4.5 M at national scale,
-- would be grouped for a fifth of them to be read), each once per crime and side, then
-- counted: two distinct counts with filters cost DuckDB a grouping and a join back each
crime_sides as (
    select distinct
        crime_id,
        role_side,
        person_key
    from persons
    where crime_id in (select stalking_crimes.crime_id from stalking_crimes)
),

people as (
    select
        crime_id,
        count(person_key) filter (where role_side = 'victim') as victims,
        count(person_key) filter (where role_side = 'perpetrator') as suspects
    from crime_sides
    group by crime_id
),

final as (
    select
        stalking_crimes.crime_id,
        stalking_crimes.reported_quarter as quarter,
        stalking_crimes.identified_by,
        stalking_crimes.is_domestic_abuse,
        stalking_crimes.is_online,
        stalking_crimes.reported_date,
        stalking_crimes.reported_month,
        stalking_crimes.offence_code,
        stalking_crimes.offence_category,
        stalking_crimes.included_offence_codes,
        stalking_crimes.included_categories,
        stalking_crimes.harm_weight_days,
        stalking_crimes.latitude,
        stalking_crimes.longitude,
        stalking_crimes.location_type,
        stalking_crimes.risk_level,
        stalking_crimes.outcome_code_normalised as outcome_code,
        stalking_crimes.outcome_group,
        stalking_crimes.outcome_date,
        stalking_crimes.screening_score,
        stalking_crimes.screening_reasons,
        coalesce(people.victims, 0) as victims,
        coalesce(people.suspects, 0) as suspects
    from stalking_crimes
    left join people
        on stalking_crimes.crime_id = people.crime_id
)

select * from final
