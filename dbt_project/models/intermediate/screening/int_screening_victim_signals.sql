{%- set screening = setting('screening') -%}
{%- set window_days = screening['course_window_days'] -%}
-- What the records show about the victim, whoever (if anyone) is the recorded suspect: the
-- subject of intelligence is often unnamed or unresolved, and a victim's other crimes may carry
-- no suspect (counted apart: a course by someone no record names), or be recorded as stalking
-- (a crime naming no suspect against a recorded stalking victim is read as that course). One
-- row per screened crime with a resolved victim.
with

candidates as (
    select * from {{ ref('int_screening_candidates') }}
),

crimes as (
    select * from {{ ref('int_crimes_classified') }}
),

crime_persons as (
    select * from {{ ref('int_crime_persons_resolved') }}
),

crimes_naming_suspect as (
    select distinct crime_id
    from crime_persons
    where role_side = 'perpetrator' and is_named
),

intelligence as (
    select * from {{ ref('int_intelligence_resolved') }}
),

candidate_victims as (
    select distinct
        candidates.crime_id,
        candidates.occasion_date,
        persons.person_key as victim_person_key
    from candidates
    inner join crime_persons as persons
        on candidates.crime_id = persons.crime_id
    where persons.role_side = 'victim'
),

-- stalking-related intelligence naming this victim in the window, whoever the subject
victim_intelligence as (
    select distinct candidate_victims.crime_id
    from candidate_victims
    inner join intelligence
        on candidate_victims.victim_person_key = intelligence.victim_person_key
    where
        intelligence.is_stalking_related
        and abs(date_diff('day', candidate_victims.occasion_date, intelligence.submitted_date)) <= {{ window_days }}
),

-- the victim's other crimes in the window, whoever (if anyone) is recorded as suspect: those
-- naming no suspect, and those recorded as stalking (principal or included). Each other crime
-- is taken once per screened crime (a crime with two victims, or a victim recorded twice on
-- the other crime, meets it more than once) before counting: the same counts as three distinct
-- counts with filters, which DuckDB would plan as three groupings joined back
victim_other_crimes as (
    select
        candidate_victims.crime_id,
        other_crimes.crime_id as other_crime_id,
        bool_or(crimes_naming_suspect.crime_id is null) as names_no_suspect,
        bool_or({{ is_classified_stalking('other_crimes') }}) as is_recorded_stalking
    from candidate_victims
    inner join crime_persons as other_victims
        on
            candidate_victims.victim_person_key = other_victims.person_key
            and other_victims.role_side = 'victim'
            and candidate_victims.crime_id <> other_victims.crime_id
    inner join crimes as other_crimes
        on other_victims.crime_id = other_crimes.crime_id
    left join crimes_naming_suspect
        on other_crimes.crime_id = crimes_naming_suspect.crime_id
    where abs(date_diff('day', candidate_victims.occasion_date, other_crimes.occasion_date)) <= {{ window_days }}
    group by candidate_victims.crime_id, other_crimes.crime_id
),

victim_crimes as (
    select
        crime_id,
        count(other_crime_id) as victim_other_crimes,
        count(other_crime_id) filter (where names_no_suspect) as victim_unnamed_suspect_crimes,
        count(other_crime_id) filter (where is_recorded_stalking) as victim_recorded_stalking_crimes
    from victim_other_crimes
    group by crime_id
),

final as (
    select
        candidate_crimes.crime_id,
        victim_intelligence.crime_id is not null as has_victim_intelligence,
        coalesce(victim_crimes.victim_other_crimes, 0) as victim_other_crimes,
        coalesce(victim_crimes.victim_other_crimes, 0) >= {{ screening['victim_min_other_crimes'] }}
            as is_repeat_victim,
        coalesce(victim_crimes.victim_unnamed_suspect_crimes, 0) as victim_unnamed_suspect_crimes,
        -- a course against this victim by someone no record names: the same unknown person
        -- (an anonymous online account, a figure seen outside the house) cannot be resolved.
        -- Only where this crime names nobody either: beside a named suspect, a crime naming
        -- no one is as likely someone else, and on records where many crimes name no suspect
        -- the signal would otherwise fire for any victim with two crimes.
        candidate_naming.crime_id is null
        and coalesce(victim_crimes.victim_unnamed_suspect_crimes, 0) >= 1 as has_unnamed_suspect_course,
        -- a crime naming no suspect against someone already recorded as stalked in the window:
        -- stalking is fixated on one person, and the later report often leaves the known
        -- stalker off the record (the victim says "he's messaging again"; the officer records
        -- malicious communications with the suspect unknown). Beside a named suspect the
        -- crime's own pair decides (recorded_stalking): a different named person is someone else.
        candidate_naming.crime_id is null
        and coalesce(victim_crimes.victim_recorded_stalking_crimes, 0) >= 1 as has_victim_recorded_stalking
    from (select distinct crime_id from candidate_victims) as candidate_crimes
    left join victim_intelligence
        on candidate_crimes.crime_id = victim_intelligence.crime_id
    left join victim_crimes
        on candidate_crimes.crime_id = victim_crimes.crime_id
    left join crimes_naming_suspect as candidate_naming
        on candidate_crimes.crime_id = candidate_naming.crime_id
)

select * from final
