{%- set targets = setting('compliance') -%}
-- Victims' Code and super-complaint measures per stalking-universe crime: one row per crime and
-- measure that applies to it, with the date it counts on (the reported date; for right to
-- review the no-further-action outcome date), its quarter and whether it was met. The quarterly
-- compliance mart and the monthly performance table aggregate these rows, so each measure is
-- defined once.
with

stalking_crimes as (
    select * from {{ ref('int_stalking_crimes') }}
),

spo_applications as (
    select distinct crime_id
    from {{ ref('int_orders_resolved') }}
    where is_stalking_order and crime_id is not null
),

-- one row per crime and measure that applies to it, with whether it was met
reported_measures as (
    select
        stalking_crimes.crime_id,
        stalking_crimes.reported_date as event_date,
        stalking_crimes.reported_quarter as quarter,
        stalking_crimes.is_domestic_abuse,
        stalking_crimes.needs_assessment_date is not null as needs_assessment_completed,
        coalesce(
            date_diff('day', stalking_crimes.reported_date, stalking_crimes.needs_assessment_date)
            <= {{ targets['needs_assessment_target_days'] }},
            false
        ) as needs_assessment_within_target,
        stalking_crimes.support_referral_date is not null as support_referral_made,
        coalesce(
            date_diff('day', stalking_crimes.reported_date, stalking_crimes.support_referral_date)
            <= {{ targets['support_referral_target_days'] }},
            false
        ) as support_referral_within_target,
        stalking_crimes.risk_level is not null as risk_assessment_recorded,
        coalesce(stalking_crimes.spo_considered, false) as spo_considered
    from stalking_crimes
),

unpivoted as (
    unpivot reported_measures
    on
    needs_assessment_completed,
    needs_assessment_within_target,
    support_referral_made,
    support_referral_within_target,
    risk_assessment_recorded,
    spo_considered
    into name measure value is_met
),

spo_rationale as (
    select
        stalking_crimes.crime_id,
        stalking_crimes.reported_date as event_date,
        stalking_crimes.reported_quarter as quarter,
        stalking_crimes.is_domestic_abuse,
        'spo_not_pursued_rationale_recorded' as measure,
        nullif(trim(stalking_crimes.spo_not_pursued_reason), '') is not null as is_met
    from stalking_crimes
    left join spo_applications
        on stalking_crimes.crime_id = spo_applications.crime_id
    where coalesce(stalking_crimes.spo_considered, false) and spo_applications.crime_id is null
),

right_to_review as (
    select
        crime_id,
        outcome_date as event_date,
        {{ quarter_of('outcome_date') }} as quarter,
        is_domestic_abuse,
        'right_to_review_informed' as measure,
        coalesce(right_to_review_informed, false) as is_met
    from stalking_crimes
    where is_no_further_action and outcome_date is not null
),

due as (
    select
        crime_id,
        event_date,
        quarter,
        is_domestic_abuse,
        measure,
        is_met
    from unpivoted
    union all
    select * from spo_rationale
    union all
    select * from right_to_review
),

measures as (
    {{ compliance_measures_rows() }}
),

final as (
    select
        due.crime_id,
        due.event_date,
        due.quarter,
        due.is_domestic_abuse,
        due.measure,
        measures.measure_description,
        due.is_met
    from due
    inner join measures
        on due.measure = measures.measure
)

select * from final
