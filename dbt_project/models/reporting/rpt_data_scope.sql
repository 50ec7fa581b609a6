-- What the scope section and the information gaps state for every quarter of the spine: the span of the crimes
-- extract, the quarter's stalking-universe crimes without a usable location (absent from the
-- hotspot analysis) and its suspect/offender records that carry no name (cannot be linked).
with

loaded_crimes as (
    select
        min(reported_date) as first_reported_date,
        max(reported_date) as last_reported_date
    from {{ source('raw', 'crimes') }}
),

quarters as (
    select * from {{ ref('int_quarters') }}
),

crimes as (
    select * from {{ ref('stalking_crimes') }}
),

crime_persons as (
    select * from {{ ref('stg_crime_persons') }}
),

locations as (
    select
        quarter,
        count(*) as stalking_crimes,
        count(*) filter (where latitude is null) as stalking_crimes_without_location
    from crimes
    group by quarter
),

suspects as (
    select
        crimes.quarter,
        count(*) as suspect_records,
        count(*) filter (
            where crime_persons.forename is null and crime_persons.surname is null
        ) as suspect_records_without_name
    from crimes
    inner join crime_persons on crimes.crime_id = crime_persons.crime_id
    where crime_persons.role <> 'victim'
    group by crimes.quarter
),

final as (
    select
        quarters.quarter,
        loaded_crimes.first_reported_date,
        loaded_crimes.last_reported_date,
        coalesce(locations.stalking_crimes, 0) as stalking_crimes,
        coalesce(locations.stalking_crimes_without_location, 0) as stalking_crimes_without_location,
        -- the share the profile's caveat states (null when the quarter has no stalking crime)
        locations.stalking_crimes_without_location
        / nullif(locations.stalking_crimes, 0) as share_without_location,
        coalesce(suspects.suspect_records, 0) as suspect_records,
        coalesce(suspects.suspect_records_without_name, 0) as suspect_records_without_name
    from quarters
    cross join loaded_crimes
    left join locations on quarters.quarter = locations.quarter
    left join suspects on quarters.quarter = suspects.quarter
)

select * from final
