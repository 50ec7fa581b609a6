-- The area column of the tasking pack: the district where most of the subject's stalking-
-- universe offending was located (the district of each located crime: pipelines/places; a tie
-- goes to the district of the latest offence). A subject with no located offence falls back to
-- the postcode district (outward code) of the best recorded home postcode (dim_persons);
-- area_basis says which.
with

persons as (
    select * from {{ source('resolution', 'dim_persons') }}
),

perpetrations as (
    select * from {{ ref('int_perpetrations') }}
),

crime_districts as (
    select * from {{ source('places', 'crime_districts') }}
),

offending_districts as (
    select
        perpetrations.person_key,
        crime_districts.district,
        count(*) as crimes,
        max(perpetrations.reported_date) as latest
    from perpetrations
    inner join crime_districts on perpetrations.crime_id = crime_districts.crime_id
    where crime_districts.district is not null
    group by perpetrations.person_key, crime_districts.district
),

main_district as (
    select
        person_key,
        district
    from offending_districts
    qualify row_number() over (
        partition by person_key order by crimes desc, latest desc, district asc
    ) = 1
),

final as (
    select
        persons.person_key,
        coalesce(
            main_district.district,
            nullif(split_part(upper(trim(persons.postcode)), ' ', 1), ''),
            'not recorded'
        ) as area,
        case
            when main_district.district is not null then 'district of most offending'
            when nullif(trim(persons.postcode), '') is null then 'no location recorded'
            else 'home postcode district'
        end as area_basis
    from persons
    left join main_district on persons.person_key = main_district.person_key
)

select * from final
