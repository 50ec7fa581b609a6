{%- set targets = setting('compliance') -%}
{%- set measures = [
    ('needs_assessment_completed', 'Victims\' Code needs assessment recorded'),
    ('needs_assessment_within_target', 'Needs assessment within ' ~ targets['needs_assessment_target_days'] ~ ' days of report'),
    ('support_referral_made', 'Victim referred to a support service'),
    ('support_referral_within_target', 'Support referral within ' ~ targets['support_referral_target_days'] ~ ' days of report'),
    ('risk_assessment_recorded', 'Risk grade (screening tool or DASH) recorded'),
    ('spo_considered', 'Stalking protection order considered'),
    ('spo_not_pursued_rationale_recorded', 'Reason recorded where an SPO was considered and not applied for'),
    ('right_to_review_informed', 'Victim told of the right to review on a no-further-action outcome'),
] -%}
-- Victims' Code and super-complaint compliance per quarter for the stalking universe, for all
-- crimes and split domestic abuse / non-domestic abuse (the *_da and *_non_da columns). Crimes
-- count in the quarter they were reported, except right to review, which counts crimes
-- finalised with a no-further-action outcome in the quarter. rate is null when nothing is due.
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

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
        {{ quarter_of('outcome_date') }} as quarter,
        is_domestic_abuse,
        'right_to_review_informed' as measure,
        coalesce(right_to_review_informed, false) as is_met
    from stalking_crimes
    where is_no_further_action and outcome_date is not null
),

due as (
    select
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
    {%- for name, description in measures %}
        select
            '{{ name }}' as measure,
            '{{ description | replace("'", "''") }}' as measure_description
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

grid as (
    select
        quarters.quarter,
        measures.measure,
        measures.measure_description
    from quarters
    cross join measures
),

counted as (
    select
        grid.quarter,
        grid.measure,
        grid.measure_description,
        count(due.measure) filter (where due.is_met) as numerator,
        count(due.measure) as denominator,
        count(due.measure) filter (where due.is_met and due.is_domestic_abuse) as numerator_da,
        count(due.measure) filter (where due.is_domestic_abuse) as denominator_da,
        count(due.measure) filter (where due.is_met and not due.is_domestic_abuse) as numerator_non_da,
        count(due.measure) filter (where not due.is_domestic_abuse) as denominator_non_da
    from grid
    left join due
        on
            grid.quarter = due.quarter
            and grid.measure = due.measure
    group by grid.quarter, grid.measure, grid.measure_description
),

final as (
    select
        quarter,
        measure,
        numerator,
        denominator,
        round(numerator / nullif(denominator, 0), 4) as rate,
        numerator_da,
        denominator_da,
        round(numerator_da / nullif(denominator_da, 0), 4) as rate_da,
        numerator_non_da,
        denominator_non_da,
        round(numerator_non_da / nullif(denominator_non_da, 0), 4) as rate_non_da,
        measure_description
    from counted
)

select * from final
