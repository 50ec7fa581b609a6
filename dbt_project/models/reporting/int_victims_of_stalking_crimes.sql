{{ config(materialized="ephemeral", contract={"enforced": false}) }}
-- One row per victim mention on a stalking-universe crime: the crime's quarter and report
-- date, the victim's resolved person_key (null without a nominal id), sex and age at report.
with

crimes as (
    select * from {{ ref('stalking_crimes') }}
),

crime_persons as (
    select * from {{ ref('stg_crime_persons') }}
),

resolved as (
    select * from {{ ref('int_crime_persons_resolved') }}
),

final as (
    select
        crimes.quarter,
        crimes.crime_id,
        crimes.reported_date,
        crime_persons.sex,
        coalesce(resolved.person_key, 'id:' || crime_persons.person_id) as person_key,
        {{ age_at('crime_persons.date_of_birth', 'crimes.reported_date') }} as age
    from crimes
    inner join crime_persons on crimes.crime_id = crime_persons.crime_id
    left join resolved
        on
            crime_persons.crime_id = resolved.crime_id
            and crime_persons.person_id = resolved.person_id
            and crime_persons.role = resolved.role
    where crime_persons.role = 'victim'
)

select * from final
