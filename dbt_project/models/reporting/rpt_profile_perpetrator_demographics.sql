-- Suspects and offenders of each quarter's stalking-universe crimes by sex and by age at
-- report (distinct people: resolved people once, an unresolved nominal once per record id),
-- overall and split by the domestic-abuse flag of their crimes (a person with crimes on both
-- sides counts on each side). Recorded as on the earliest-reported crime of the quarter.
-- named_perpetrators counts those recorded with a name there: the date-of-birth gap of the
-- intelligence requirements is about named suspects (an unnamed one has no date of birth to
-- record; the unnamed-suspects gap counts them).
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

mentions as (
    select
        crimes.quarter,
        crimes.crime_id,
        crimes.reported_date,
        crimes.is_domestic_abuse,
        crime_persons.sex,
        coalesce(resolved.person_key, 'id:' || crime_persons.person_id) as person_key,
        resolved.is_named,
        {{ age_at('crime_persons.date_of_birth', 'crimes.reported_date') }} as age
    from crimes
    inner join crime_persons on crimes.crime_id = crime_persons.crime_id
    left join resolved
        on
            crime_persons.crime_id = resolved.crime_id
            and crime_persons.person_id = resolved.person_id
            and crime_persons.role = resolved.role
    where crime_persons.role in ('suspect', 'offender')
),

groups as (
    select
        named.da_group,
        named.da_order
    from (values ('all', 1), ('domestic_abuse', 2), ('not_domestic_abuse', 3)) as named (da_group, da_order)
),

one_per_person as (
    select
        mentions.*,
        groups.da_group
    from mentions
    inner join groups
        on
            groups.da_group = 'all'
            or (groups.da_group = 'domestic_abuse' and mentions.is_domestic_abuse)
            or (groups.da_group = 'not_domestic_abuse' and not mentions.is_domestic_abuse)
    qualify row_number() over (
        partition by mentions.quarter, groups.da_group, mentions.person_key
        order by mentions.reported_date, mentions.crime_id, mentions.sex nulls last, mentions.age nulls last
    ) = 1
),

categories as (
    select * from {{ ref('demographic_categories') }}
),

labelled as (
    select
        quarter,
        da_group,
        {{ sex_label('sex') }} as sex,
        {{ age_band_label('age') }} as age_band,
        is_named
    from one_per_person
),

counts as (
    select
        quarter,
        da_group,
        'sex' as dimension,
        sex as category_label,
        count(*) as perpetrators,
        count(*) filter (where is_named) as named_perpetrators
    from labelled
    group by quarter, da_group, sex
    union all
    select
        quarter,
        da_group,
        'age_band' as dimension,
        age_band as category_label,
        count(*) as perpetrators,
        count(*) filter (where is_named) as named_perpetrators
    from labelled
    group by quarter, da_group, age_band
),

quarters as (
    select distinct quarter from crimes
),

final as (
    select
        quarters.quarter,
        groups.da_group,
        cast(groups.da_order as integer) as da_order,
        categories.dimension,
        categories.category_label,
        cast(categories.category_order as integer) as category_order,
        coalesce(counts.perpetrators, 0) as perpetrators,
        coalesce(counts.named_perpetrators, 0) as named_perpetrators
    from quarters
    cross join groups
    cross join categories
    left join counts
        on
            quarters.quarter = counts.quarter
            and groups.da_group = counts.da_group
            and categories.dimension = counts.dimension
            and categories.category_label = counts.category_label
)

select * from final
