{%- set screening = setting('screening') -%}
{%- set window_days = screening['course_window_days'] -%}
{%- set intense_days = screening['intense_window_days'] -%}
-- The course of conduct against this victim (FOUR: Repeated, Obsessive, Fixated, plus
-- persistence, escalation, repeated online contact, stalking recorded or reported as
-- intelligence, occasions marked as a concern, a varied intense course, high risk with conduct
-- over periods): what the occasions of the same resolved suspect and victim around each
-- screened crime show. One row per screened crime with a resolved pair; a crime with several
-- pairs takes the strongest pair.
with

candidates as (
    select * from {{ ref('int_screening_candidates') }}
),

crime_pairs as (
    select * from {{ ref('int_crime_pairs') }}
),

occasions as (
    select * from {{ ref('int_screening_course_occasions') }}
),

stalking_orders as (
    select
        subject_person_key,
        protected_person_key,
        application_date
    from {{ ref('int_orders_resolved') }}
    where is_stalking_order
),

classified_stalking as (
    select crime_id
    from {{ ref('int_crimes_classified') }}
    where {{ is_classified_stalking() }}
),

-- a crime's own marks: stalking by classification, graded medium or high risk by the police
-- (a concern raised about the occasion), graded high, or recorded over a period (its offence
-- ends after it starts: conduct over hours or days, not one moment); one lookup per occasion
crime_marks as (
    select
        crime_id,
        coalesce({{ is_classified_stalking() }}, false) as is_classified_stalking,
        coalesce(risk_level in ('medium', 'high'), false) as is_risk_graded,
        coalesce(risk_level = 'high', false) as is_high_risk,
        coalesce(offence_end > offence_start, false) as is_over_period
    from {{ ref('int_crimes_classified') }}
    where
        {{ is_classified_stalking() }}
        or risk_level in ('medium', 'high')
        or offence_end > offence_start
),

candidate_pairs as (
    select
        candidates.crime_id,
        candidates.occasion_date,
        candidates.harm_weight_days,
        candidates.is_online,
        crime_pairs.suspect_person_key,
        crime_pairs.victim_person_key
    from candidates
    inner join crime_pairs
        on candidates.crime_id = crime_pairs.crime_id
),

-- each candidate pair numbered, so that the groupings below key on one integer rather than
-- three strings (a pair is one row: crimes are unique in candidates, and crime, suspect and
-- victim together in int_crime_pairs); the number only groups, it reaches no output
numbered_pairs as (
    select
        *,
        row_number() over () as pair_number
    from candidate_pairs
),

-- the pair's occasions around each candidate crime; an intelligence report linked to a crime
-- describes that crime's occasion, so it is counted once with it
pair_occasions as (
    select
        numbered_pairs.pair_number,
        numbered_pairs.crime_id,
        numbered_pairs.occasion_date as candidate_date,
        numbered_pairs.harm_weight_days as candidate_harm,
        numbered_pairs.is_online as candidate_online,
        occasions.occasion_kind,
        occasions.occasion_date,
        occasions.offence_category,
        occasions.harm_weight_days,
        occasions.is_online,
        occasions.is_stalking_intelligence,
        coalesce(crime_marks.is_classified_stalking, false) as is_classified_stalking,
        coalesce(crime_marks.is_risk_graded, false) as is_risk_graded,
        coalesce(crime_marks.is_high_risk, false) as is_high_risk,
        coalesce(crime_marks.is_over_period, false) as is_over_period,
        coalesce(occasions.crime_id, occasions.occasion_id) as occasion_key,
        abs(date_diff('day', numbered_pairs.occasion_date, occasions.occasion_date)) as days_apart
    from numbered_pairs
    inner join occasions
        on
            numbered_pairs.suspect_person_key = occasions.suspect_person_key
            and numbered_pairs.victim_person_key = occasions.victim_person_key
    left join crime_marks
        on
            occasions.crime_id = crime_marks.crime_id
            and occasions.occasion_kind = 'crime'
    where abs(date_diff('day', numbered_pairs.occasion_date, occasions.occasion_date)) <= {{ window_days }}
),

-- a crime recorded as stalking between the pair in the history window (a course that resumes
-- after a year or more is the same course: stalking is fixated on one person)
pair_recorded_history as (
    select distinct candidate_pairs.crime_id
    from candidate_pairs
    inner join crime_pairs
        on
            candidate_pairs.suspect_person_key = crime_pairs.suspect_person_key
            and candidate_pairs.victim_person_key = crime_pairs.victim_person_key
    inner join classified_stalking
        on crime_pairs.crime_id = classified_stalking.crime_id
    where
        abs(date_diff('day', candidate_pairs.occasion_date, crime_pairs.occasion_date))
        <= {{ screening['suspect_history_days'] }}
),

-- a stalking protection order applied for or granted between the pair in the history window:
-- the police (and, where granted, a court) have already judged this course to be stalking
pair_stalking_order as (
    select distinct candidate_pairs.crime_id
    from candidate_pairs
    inner join stalking_orders
        on
            candidate_pairs.suspect_person_key = stalking_orders.subject_person_key
            and candidate_pairs.victim_person_key = stalking_orders.protected_person_key
    where
        abs(date_diff('day', candidate_pairs.occasion_date, stalking_orders.application_date))
        <= {{ screening['suspect_history_days'] }}
),

-- each occasion of the pair once (an intelligence report linked to a crime shares its key),
-- then the pair's counts over its occasions: the same figures as distinct counts of the
-- occasion key with filters, which DuckDB would plan as a grouping of their own joined back
occasion_signals as (
    select
        pair_number,
        occasion_key,
        any_value(crime_id) as crime_id,
        min(occasion_date) as first_date,
        max(occasion_date) as last_date,
        bool_or(days_apart <= {{ intense_days }}) as is_intense,
        min(offence_category) as min_category,
        max(offence_category) as max_category,
        bool_or(is_online) as any_online,
        bool_or(not is_online) as any_offline,
        min(harm_weight_days) filter (
            where occasion_kind = 'crime' and occasion_date < candidate_date
        ) as earlier_min_harm,
        any_value(candidate_harm) as candidate_harm,
        any_value(candidate_online) as candidate_online,
        bool_or(is_stalking_intelligence) as has_pair_intelligence,
        bool_or(is_classified_stalking) as has_recorded_stalking,
        -- the police marked this occasion as a concern: graded medium or high risk, or
        -- reported as stalking-related intelligence
        bool_or(is_risk_graded or is_stalking_intelligence) as is_concern,
        bool_or(is_high_risk) as is_high_risk,
        bool_or(is_over_period) as is_over_period
    from pair_occasions
    group by pair_number, occasion_key
),

pair_signals as (
    select
        any_value(crime_id) as crime_id,
        count(occasion_key) as occasions_in_window,
        date_diff('day', min(first_date), max(last_date)) as span_days,
        count(occasion_key) filter (where is_intense) as occasions_intense,
        count(occasion_key) filter (where is_concern) as concern_occasions,
        -- an occasion is one crime (one category) or an intelligence report (none)
        count(distinct min_category) as categories,
        count(occasion_key) filter (where is_high_risk) as high_risk_crimes,
        count(occasion_key) filter (where is_over_period) as period_crimes,
        -- two or more distinct categories (nulls not counted) exactly when the least and the
        -- greatest differ: no list of categories to build per pair
        coalesce(min(min_category) <> max(max_category), false) as has_several_categories,
        coalesce(bool_or(any_online), false) and coalesce(bool_or(any_offline), false) as is_mixed_mode,
        count(occasion_key) filter (where any_online and occasion_key <> crime_id) as other_online,
        min(earlier_min_harm) as earlier_min_harm,
        any_value(candidate_harm) as candidate_harm,
        any_value(candidate_online) as candidate_online,
        coalesce(bool_or(has_pair_intelligence), false) as has_pair_intelligence,
        coalesce(bool_or(has_recorded_stalking), false) as has_recorded_stalking
    from occasion_signals
    group by pair_number
),

per_crime as (
    select
        crime_id,
        max(occasions_in_window) as occasions_in_window,
        max(occasions_intense) as occasions_intense,
        max(concern_occasions) as concern_occasions,
        bool_or(occasions_in_window >= {{ screening['course_min_occasions'] }}) as is_repeated,
        -- the same suspect and victim marked as a concern on several occasions: a course the
        -- police kept worrying about, where harassment is mostly one graded report among
        -- several ungraded ones
        bool_or(concern_occasions >= {{ screening['concern_min_occasions'] }}) as has_repeated_concern,
        bool_or(has_recorded_stalking) as has_recorded_stalking,
        bool_or(span_days >= {{ screening['persistent_min_days'] }}) as is_persistent,
        max(span_days) as course_span_days,
        bool_or(occasions_intense >= {{ screening['intense_min_occasions'] }}) as is_obsessive,
        bool_or(
            occasions_in_window >= 2
            and (is_mixed_mode or has_several_categories)
        ) as is_fixated,
        coalesce(bool_or(candidate_harm > earlier_min_harm), false) as is_escalating,
        bool_or(candidate_online and other_online >= 1) as is_online_repeated,
        bool_or(has_pair_intelligence) as has_pair_intelligence,
        -- many occasions close together, by many kinds of offence: fixation on this victim
        -- pursued by whatever means come to hand, where harassment repeats one kind of conduct
        bool_or(
            occasions_intense >= {{ screening['varied_course_min_occasions'] }}
            and categories >= {{ screening['varied_course_min_categories'] }}
        ) as is_varied_intense,
        -- the police graded one of the pair's crimes high risk and more than one was conduct
        -- over a period rather than a single incident
        bool_or(
            high_risk_crimes >= 1 and period_crimes >= {{ screening['period_min_crimes'] }}
        ) as has_high_risk_periods
    from pair_signals
    group by crime_id
),

final as (
    select
        per_crime.* exclude (has_recorded_stalking),
        per_crime.has_recorded_stalking or pair_recorded_history.crime_id is not null as has_recorded_stalking,
        pair_recorded_history.crime_id is not null as has_pair_stalking_history,
        pair_stalking_order.crime_id is not null as has_pair_stalking_order
    from per_crime
    left join pair_recorded_history
        on per_crime.crime_id = pair_recorded_history.crime_id
    left join pair_stalking_order
        on per_crime.crime_id = pair_stalking_order.crime_id
)

select * from final
