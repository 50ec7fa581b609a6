-- One row per stalking-universe crime and resolved victim (a person named twice on one crime
-- counts once).
with

stalking_crimes as (
    select * from {{ ref('int_stalking_crimes') }}
),

persons as (
    select * from {{ ref('int_crime_persons_resolved') }}
),

final as (
    select distinct
        stalking_crimes.crime_id,
        persons.person_key,
        stalking_crimes.reported_date,
        stalking_crimes.is_domestic_abuse,
        stalking_crimes.is_online,
        stalking_crimes.identified_by
    from stalking_crimes
    inner join persons
        on stalking_crimes.crime_id = persons.crime_id
    where persons.role_side = 'victim'
)

select * from final
