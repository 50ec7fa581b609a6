-- Crimes recorded under a lower-level classification that screening flags as possible hidden
-- stalking (score at or above setting('screening')['threshold']), over all quarters, with the
-- indicators behind each score in words, for a reviewing officer to confirm or reject.
with

scored as (
    select * from {{ ref('int_screening_scored') }}
),

final as (
    select
        crime_id,
        reported_quarter as quarter,
        score,
        score_on_this_victim,
        reasons,
        reported_date,
        offence_category,
        occasions_in_window,
        is_repeated,
        is_obsessive,
        is_fixated,
        is_unwanted,
        is_escalating,
        is_online_repeated,
        is_persistent,
        course_span_days,
        has_recorded_stalking,
        has_pair_stalking_order,
        is_long_course,
        has_linked_intelligence,
        has_pair_intelligence,
        is_high_risk,
        is_medium_risk,
        is_ex_partner,
        has_other_victims,
        has_suspect_stalking_history,
        has_victim_intelligence,
        is_repeat_victim,
        is_sustained,
        has_unnamed_suspect_course,
        has_victim_recorded_stalking,
        has_repeated_concern,
        is_varied_intense,
        has_harassment_intelligence,
        has_high_risk_periods,
        has_course_on_this_victim
    from scored
    where is_flagged
)

select * from final
