{%- set screening = setting('screening') -%}
-- The suspect's history with other victims (Stalking Screening Tool: prior harassment of this
-- or other victims; prior stalking): it raises attention but never by itself brings a crime
-- against someone else into the stalking universe (int_screening_scored). One row per screened
-- crime with a resolved suspect who has other victims in the course window or a crime recorded
-- as stalking against another victim within the history window (the pair's own stalking record
-- is the course against this victim, counted once, in int_screening_pair_course).
with

candidates as (
    select * from {{ ref('int_screening_candidates') }}
),

crime_pairs as (
    select * from {{ ref('int_crime_pairs') }}
),

occasions as (
    select * from {{ ref('int_contact_occasions') }}
),

classified_stalking as (
    select crime_id
    from {{ ref('int_crimes_classified') }}
    where {{ is_classified_stalking() }}
),

candidate_suspects as (
    select distinct
        candidates.crime_id,
        candidates.occasion_date,
        crime_pairs.suspect_person_key,
        crime_pairs.victim_person_key
    from candidates
    inner join crime_pairs
        on candidates.crime_id = crime_pairs.crime_id
),

-- suspects with other victims in the course window (prior harassment of other victims)
suspect_victims as (
    select
        candidate_suspects.crime_id,
        count(distinct occasions.victim_person_key) as victims_in_window
    from candidate_suspects
    inner join occasions
        on candidate_suspects.suspect_person_key = occasions.suspect_person_key
    where
        abs(date_diff('day', candidate_suspects.occasion_date, occasions.occasion_date))
        <= {{ screening['course_window_days'] }}
    group by candidate_suspects.crime_id
),

-- the suspect has a crime recorded as stalking against another victim within the history
-- window: stalking behaviour already recognised in this person (SST: prior stalking). A record
-- against this crime's victim is not history with others: counted here too it would score the
-- pair's own record twice (recorded_stalking and suspect_stalking)
suspect_stalking as (
    select
        candidate_suspects.crime_id,
        count(distinct crime_pairs.crime_id) as suspect_stalking_crimes
    from candidate_suspects
    inner join crime_pairs
        on candidate_suspects.suspect_person_key = crime_pairs.suspect_person_key
    inner join classified_stalking
        on crime_pairs.crime_id = classified_stalking.crime_id
    where
        crime_pairs.crime_id <> candidate_suspects.crime_id
        and crime_pairs.victim_person_key <> candidate_suspects.victim_person_key
        and abs(date_diff('day', candidate_suspects.occasion_date, crime_pairs.occasion_date))
        <= {{ screening['suspect_history_days'] }}
    group by candidate_suspects.crime_id
),

final as (
    select
        coalesce(suspect_victims.crime_id, suspect_stalking.crime_id) as crime_id,
        coalesce(suspect_victims.victims_in_window, 0) >= 2 as has_other_victims,
        coalesce(suspect_stalking.suspect_stalking_crimes, 0) >= 1 as has_suspect_stalking_history
    from suspect_victims
    full outer join suspect_stalking
        on suspect_victims.crime_id = suspect_stalking.crime_id
)

select * from final
