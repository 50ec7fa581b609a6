-- The area column of the tasking pack, in one place so that it can be switched to a district
-- lookup when one exists. The extracts carry no district: until the location of offending is
-- joined to district boundaries, the area is the postcode district (outward code) of the
-- subject's best recorded home postcode (resolution's dim_persons), and area_basis says so.
with

persons as (
    select * from {{ source('resolution', 'dim_persons') }}
),

final as (
    select
        person_key,
        coalesce(
            nullif(split_part(upper(trim(postcode)), ' ', 1), ''), 'not recorded'
        ) as area,
        case
            when nullif(trim(postcode), '') is null then 'no home postcode recorded'
            else 'home postcode district'
        end as area_basis
    from persons
)

select * from final
