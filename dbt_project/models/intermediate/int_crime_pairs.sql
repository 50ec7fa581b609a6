-- One row per crime, resolved suspect/offender and resolved victim: the edges of offending.
-- A person recorded as both suspect and victim of one crime (counter-allegation) is never
-- paired with themselves.
with

crimes as (
    select * from {{ ref('int_crimes_classified') }}
),

persons as (
    select * from {{ ref('int_crime_persons_resolved') }}
),

victims as (
    select distinct
        crime_id,
        person_key
    from persons
    where role_side = 'victim'
),

suspects as (
    select distinct
        crime_id,
        person_key
    from persons
    where role_side = 'perpetrator'
),

paired as (
    select
        crimes.crime_id,
        suspects.person_key as suspect_person_key,
        victims.person_key as victim_person_key,
        crimes.reported_date,
        crimes.occasion_date,
        crimes.offence_category,
        crimes.harm_weight_days,
        crimes.is_online
    from crimes
    inner join victims
        on crimes.crime_id = victims.crime_id
    inner join suspects
        on crimes.crime_id = suspects.crime_id
    where suspects.person_key <> victims.person_key
)

select * from paired
