{%- set perp = setting('perpetrators') -%}
{%- set link_cut = perp['distinct_victim_max_link_probability'] -%}
{#- the screening flag that establishes a screened victim (settings: screened_victim_course) -#}
{%- set screened_course_flag = {
    'stalking_course': 'has_stalking_course_on_this_victim',
    'course': 'has_course_on_this_victim',
}.get(perp['screened_victim_course']) -%}
{%- if not screened_course_flag -%}
    {{ exceptions.raise_compiler_error(
        "perpetrators.screened_victim_course must be stalking_course or course, not "
        ~ perp['screened_victim_course']
    ) }}
{%- endif -%}
-- The victims each perpetrator counts toward "serial" with, per quarter: one row per quarter,
-- resolved suspect and resolved victim of a stalking-universe crime reported in the serial
-- look-back up to the quarter's last day, with the evidence the marts.perpetrators serial
-- judgment reads:
--   is_recorded     a crime against this victim is recorded as stalking (principal, included);
--   is_established  recorded, or a screened crime with a course against this same victim that
--                   reads as stalking on what the records say of this pair
--                   (int_screening_scored.has_stalking_course_on_this_victim: the pair's
--                   stalking record, a stalking order between them, or 2+ occasions with a
--                   stalking marker on the pair's crime: linked stalking intelligence, an
--                   offence period of days, the ex-partner relationship, a high risk grading),
--                   or a screened crime with stalking-related intelligence naming this suspect
--                   and this victim (has_stalking_intelligence: a police record that calls the
--                   pair's conduct stalking, the intelligence counterpart of a recorded
--                   classification; it is often linked to the crime itself, so it adds no
--                   occasion to the course). Serial asks whether the subject stalked this
--                   victim too: the subject's stalking of someone else is what makes a crime
--                   against this victim worth screening, so it cannot also be the evidence that
--                   this victim was stalked, and two occasions alone are a course of conduct
--                   that harassment shows too. A screened crime with neither never establishes
--                   a victim, whatever the suspect's history. (Setting
--                   perpetrators.screened_victim_course: course counts any course of the pair,
--                   has_course_on_this_victim, outputs.md's wording);
--   best_link_probability  the highest match probability between this victim and another
--                   victim of the same perpetrator (null: none at or above the stored floor),
--                   i.e. how possibly the two are one person;
--   shares_home_postcode  another established victim of the same perpetrator has the same
--                   home postcode (dim_persons);
--   is_distinct_*   counted once: a victim linked at or above
--                   distinct_victim_max_link_probability to a lower-keyed victim of the same
--                   perpetrator with the same evidence may be that person, and one with the
--                   same home postcode may be that person or of that household, so only the
--                   group's lowest key counts;
--   victim_weakest_link_probability  the weakest link the victim's person rests on.
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

pairs as (
    select
        crime_pairs.crime_id,
        crime_pairs.reported_date,
        crime_pairs.suspect_person_key,
        crime_pairs.victim_person_key,
        coalesce(stalking_crimes.identified_by in ('principal', 'included'), false) as is_recorded,
        coalesce(screening.{{ screened_course_flag }}, false) as has_screened_course,
        coalesce(screening.has_pair_intelligence, false) as has_stalking_intelligence
    from {{ ref('int_crime_pairs') }} as crime_pairs
    inner join {{ ref('int_stalking_crimes') }} as stalking_crimes
        on crime_pairs.crime_id = stalking_crimes.crime_id
    left join {{ ref('int_screening_scored') }} as screening
        on crime_pairs.crime_id = screening.crime_id
),

links as (
    select
        person_key_l,
        person_key_r,
        match_probability
    from {{ source('resolution', 'person_links') }}
),

-- each victim's home postcode (dim_persons: the one most of the person's records hold)
victim_homes as (
    select
        person_key,
        postcode
    from {{ source('resolution', 'dim_persons') }}
    where
        postcode is not null
        and person_key in (select pairs.victim_person_key from pairs)
),

-- the weakest link of the pairs' victims only: grouping every resolved record (~11 M at
-- national scale, most of them nobody's victim here) was much of the model's work
victim_weakest as (
    select
        person_key,
        min(cluster_min_probability) as weakest
    from {{ source('resolution', 'person_records') }}
    where person_key in (select pairs.victim_person_key from pairs)
    group by person_key
),

victim_status as (
    select
        quarters.quarter,
        pairs.suspect_person_key as person_key,
        pairs.victim_person_key,
        -- the pairs are distinct (crime, suspect, victim) rows (int_crime_pairs' test), joined
        -- one to one: a row count, not a distinct count (DuckDB plans that as a grouping of
        -- its own joined back)
        count(pairs.crime_id) as crimes_against_victim,
        bool_or(pairs.is_recorded) as is_recorded,
        bool_or(pairs.has_screened_course) as has_screened_course,
        bool_or(pairs.has_stalking_intelligence) as has_stalking_intelligence,
        bool_or(pairs.is_recorded)
        or bool_or(pairs.has_screened_course)
        or bool_or(pairs.has_stalking_intelligence) as is_established
    from quarters
    inner join pairs
        on
            pairs.reported_date > quarters.q_end - interval {{ perp['serial_lookback_years'] }} year
            and quarters.q_end >= pairs.reported_date
    group by quarters.quarter, pairs.suspect_person_key, pairs.victim_person_key
),

-- two victims of the same perpetrator in the same quarter's look-back that may be one person or
-- one household: linked by resolution, or recorded at the same home postcode. Two victim
-- records at one address that resolution did not join are not confidently two people the
-- subject stalked apart: the same person recorded twice, or someone of the victim's household
-- drawn into the same course (a third party of it, not a second stalking)
victim_links as (
    select
        this_victim.quarter,
        this_victim.person_key,
        this_victim.victim_person_key,
        links.match_probability,
        coalesce(this_home.postcode = other_home.postcode, false) as shares_home_postcode,
        other_victim.victim_person_key < this_victim.victim_person_key
        and (
            coalesce(links.match_probability >= {{ link_cut }}, false)
            or coalesce(this_home.postcode = other_home.postcode, false)
        ) as is_shadowing,
        other_victim.is_established as other_established,
        other_victim.is_recorded as other_recorded
    from victim_status as this_victim
    inner join victim_status as other_victim
        on
            this_victim.quarter = other_victim.quarter
            and this_victim.person_key = other_victim.person_key
            and this_victim.victim_person_key <> other_victim.victim_person_key
    left join links
        on
            least(this_victim.victim_person_key, other_victim.victim_person_key) = links.person_key_l
            and greatest(this_victim.victim_person_key, other_victim.victim_person_key) = links.person_key_r
    left join victim_homes as this_home
        on this_victim.victim_person_key = this_home.person_key
    left join victim_homes as other_home
        on other_victim.victim_person_key = other_home.person_key
    where
        links.match_probability is not null
        or this_home.postcode = other_home.postcode
),

link_summary as (
    select
        quarter,
        person_key,
        victim_person_key,
        max(match_probability) as best_link_probability,
        coalesce(bool_or(shares_home_postcode and other_established), false) as shares_home_postcode,
        coalesce(bool_or(is_shadowing and other_established), false) as is_shadowed_established,
        coalesce(bool_or(is_shadowing and other_recorded), false) as is_shadowed_recorded
    from victim_links
    group by quarter, person_key, victim_person_key
),

final as (
    select
        victim_status.quarter,
        victim_status.person_key,
        victim_status.victim_person_key,
        victim_status.crimes_against_victim,
        victim_status.is_recorded,
        victim_status.has_screened_course,
        victim_status.has_stalking_intelligence,
        victim_status.is_established,
        link_summary.best_link_probability,
        coalesce(link_summary.shares_home_postcode, false) as shares_home_postcode,
        victim_status.is_recorded and not coalesce(link_summary.is_shadowed_recorded, false)
            as is_distinct_recorded,
        victim_status.is_established and not coalesce(link_summary.is_shadowed_established, false)
            as is_distinct_established,
        coalesce(victim_weakest.weakest, 1.0) as victim_weakest_link_probability
    from victim_status
    left join link_summary
        on
            victim_status.quarter = link_summary.quarter
            and victim_status.person_key = link_summary.person_key
            and victim_status.victim_person_key = link_summary.victim_person_key
    left join victim_weakest
        on victim_status.victim_person_key = victim_weakest.person_key
)

select * from final
