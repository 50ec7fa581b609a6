{%- set window_days = setting('screening')['course_window_days'] -%}
-- The occasions a course against one victim is counted over: every recorded contact of a
-- resolved suspect and victim (int_contact_occasions), plus the records that name one side of
-- the pair only, given to the other side where the records leave one choice. An intelligence
-- report naming its subject but no victim, or a crime naming a suspect but no victim, goes to
-- the suspect's only victim in the course window; a crime or report naming the victim but no
-- suspect goes to the victim's only named suspect in the window. Where the named person has two
-- or more counterparts in the window nothing is given: it could be either (is_attributed marks
-- the given rows).
with

occasions as (
    select * from {{ ref('int_contact_occasions') }}
),

crimes as (
    select * from {{ ref('int_crimes_classified') }}
),

crime_persons as (
    select * from {{ ref('int_crime_persons_resolved') }}
),

intelligence as (
    select * from {{ ref('int_intelligence_resolved') }}
),

crimes_naming_suspect as (
    select distinct crime_id
    from crime_persons
    where role_side = 'perpetrator' and is_named
),

crime_sides as (
    select
        crime_id,
        bool_or(role_side = 'victim') as has_victim
    from crime_persons
    group by crime_id
),

-- the pairs a named person can be given to: contacts whose suspect is named
named_occasions as (
    select occasions.*
    from occasions
    left join crimes_naming_suspect
        on occasions.crime_id = crimes_naming_suspect.crime_id
    where
        occasions.occasion_kind = 'intelligence'
        or crimes_naming_suspect.crime_id is not null
),

suspect_only as (
    select
        'intelligence' as occasion_kind,
        intel_id as occasion_id,
        crime_id,
        subject_person_key as suspect_person_key,
        submitted_date as occasion_date,
        cast(null as varchar) as offence_category,
        0 as harm_weight_days,
        is_online,
        is_stalking_related as is_stalking_intelligence
    from intelligence
    where subject_person_key is not null and victim_person_key is null and crime_id is null
    union all
    select
        'crime' as occasion_kind,
        crimes.crime_id as occasion_id,
        crimes.crime_id,
        crime_persons.person_key as suspect_person_key,
        crimes.occasion_date,
        crimes.offence_category,
        crimes.harm_weight_days,
        crimes.is_online,
        false as is_stalking_intelligence
    from crimes
    inner join crime_sides
        on crimes.crime_id = crime_sides.crime_id
    inner join crime_persons
        on crimes.crime_id = crime_persons.crime_id
    inner join crimes_naming_suspect
        on crimes.crime_id = crimes_naming_suspect.crime_id
    where not crime_sides.has_victim and crime_persons.role_side = 'perpetrator'
),

victim_only as (
    select
        'intelligence' as occasion_kind,
        intel_id as occasion_id,
        crime_id,
        victim_person_key,
        submitted_date as occasion_date,
        cast(null as varchar) as offence_category,
        0 as harm_weight_days,
        is_online,
        is_stalking_related as is_stalking_intelligence
    from intelligence
    where victim_person_key is not null and subject_person_key is null and crime_id is null
    union all
    select
        'crime' as occasion_kind,
        crimes.crime_id as occasion_id,
        crimes.crime_id,
        crime_persons.person_key as victim_person_key,
        crimes.occasion_date,
        crimes.offence_category,
        crimes.harm_weight_days,
        crimes.is_online,
        false as is_stalking_intelligence
    from crimes
    inner join crime_persons
        on crimes.crime_id = crime_persons.crime_id
    left join crimes_naming_suspect
        on crimes.crime_id = crimes_naming_suspect.crime_id
    where crime_persons.role_side = 'victim' and crimes_naming_suspect.crime_id is null
),

suspect_only_given as (
    select
        suspect_only.*,
        any_value(named_occasions.victim_person_key) as victim_person_key
    from suspect_only
    inner join named_occasions
        on suspect_only.suspect_person_key = named_occasions.suspect_person_key
    where abs(date_diff('day', suspect_only.occasion_date, named_occasions.occasion_date)) <= {{ window_days }}
    group by all
    having count(distinct named_occasions.victim_person_key) = 1
),

-- the victim's only named suspect in the window
victim_only_to_named as (
    select
        victim_only.*,
        any_value(named_occasions.suspect_person_key) as suspect_person_key
    from victim_only
    inner join named_occasions
        on victim_only.victim_person_key = named_occasions.victim_person_key
    where abs(date_diff('day', victim_only.occasion_date, named_occasions.occasion_date)) <= {{ window_days }}
    group by all
    having count(distinct named_occasions.suspect_person_key) = 1
),

-- a victim nobody named in the window: every record naming no suspect is taken as the same
-- unknown person's, whatever key an unnamed suspect row was given
unnamed_occasions as (
    select occasions.*
    from occasions
    anti join named_occasions
        on
            occasions.victim_person_key = named_occasions.victim_person_key
            and abs(date_diff('day', occasions.occasion_date, named_occasions.occasion_date)) <= {{ window_days }}
    where occasions.occasion_kind = 'crime'
),

victim_only_to_unnamed as (
    select distinct
        victim_only.*,
        unnamed_occasions.suspect_person_key
    from victim_only
    inner join unnamed_occasions
        on victim_only.victim_person_key = unnamed_occasions.victim_person_key
    where
        victim_only.occasion_id <> unnamed_occasions.occasion_id
        and abs(date_diff('day', victim_only.occasion_date, unnamed_occasions.occasion_date)) <= {{ window_days }}
),

given as (
    select * from suspect_only_given
    union all by name
    select * from victim_only_to_named
    union all by name
    select * from victim_only_to_unnamed
),

final as (
    select
        *,
        false as is_attributed
    from occasions
    union all by name
    select
        *,
        true as is_attributed
    from given
    where suspect_person_key <> victim_person_key
)

select * from final
