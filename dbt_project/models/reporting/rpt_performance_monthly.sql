{%- set performance = setting('performance') -%}
{%- set repeat = setting('repeat_victim') -%}
{%- set compliance_shown = [
    'needs_assessment_completed', 'needs_assessment_within_target', 'support_referral_made',
    'support_referral_within_target', 'spo_considered'
] -%}
-- The monthly performance table between profiles (Force Performance Framework): for each of the
-- last N months to the end of the profiled quarter, stalking-universe crimes, the Victims'
-- Code and referral measures and SPO considered (int_compliance_due: the compliance mart's
-- definitions, counted by month instead of quarter), and repeat incidents: crimes whose victim
-- had another stalking-universe crime in the window before it. All crimes and split domestic
-- abuse / not. Counts before disclosure control.
with

run_quarter as (
    select {{ profile_quarter() }} as quarter
),

bounds as (
    select
        cast({{ quarter_start_date('quarter') }} + interval 3 month as date) as next_start
    from run_quarter
),

months as (
    select cast(series.month_start as date) as month_start
    from bounds
    cross join generate_series(
        bounds.next_start - interval {{ performance['months'] }} month,
        bounds.next_start - interval 1 month,
        interval 1 month
    ) as series (month_start)
),

measures as (
    select
        listed.measure,
        listed.measure_label,
        listed.measure_order,
        listed.kind
    from (
        values
        ('stalking_crimes', 'Stalking-universe crimes recorded', 1, 'count'),
        {%- for name, description in compliance_measures() if name in compliance_shown %}
            ('{{ name }}', '{{ description | replace("'", "''") }}', {{ loop.index + 1 }}, 'rate'),
        {%- endfor %}
        (
            'repeat_incident',
            'Repeat incidents: the victim had another stalking crime in the previous '
            || '{{ repeat["window_months"] }} months',
            {{ compliance_shown | length + 2 }},
            'rate'
        )
    ) as listed (measure, measure_label, measure_order, kind)
),

crimes as (
    select * from {{ ref('stalking_crimes') }}
),

victimisations as (
    select * from {{ ref('int_victimisations') }}
),

-- a crime is a repeat incident when one of its victims had an earlier stalking-universe crime
-- (reported before it) within the window
repeat_crimes as (
    select
        later.crime_id,
        bool_or(earlier.crime_id is not null) as is_repeat
    from victimisations as later
    left join victimisations as earlier
        on
            later.person_key = earlier.person_key
            and later.crime_id <> earlier.crime_id
            and later.reported_date >= earlier.reported_date
            and later.reported_date - interval {{ repeat['window_months'] }} month < earlier.reported_date
    group by later.crime_id
),

events as (
    select
        date_trunc('month', event_date) as month_start,
        is_domestic_abuse,
        measure,
        is_met
    from {{ ref('int_compliance_due') }}
    where measure in {{ sql_string_list(compliance_shown) }}
    union all
    select
        date_trunc('month', crimes.reported_date) as month_start,
        crimes.is_domestic_abuse,
        'repeat_incident' as measure,
        repeat_crimes.is_repeat as is_met
    from crimes
    inner join repeat_crimes
        on crimes.crime_id = repeat_crimes.crime_id
    union all
    select
        date_trunc('month', reported_date) as month_start,
        is_domestic_abuse,
        'stalking_crimes' as measure,
        true as is_met
    from crimes
),

counted as (
    select
        months.month_start,
        measures.measure,
        count(events.measure) filter (where events.is_met) as numerator,
        count(events.measure) as denominator,
        count(events.measure) filter (where events.is_met and events.is_domestic_abuse) as numerator_da,
        count(events.measure) filter (where events.is_domestic_abuse) as denominator_da,
        count(events.measure) filter (where events.is_met and not events.is_domestic_abuse) as numerator_non_da,
        count(events.measure) filter (where not events.is_domestic_abuse) as denominator_non_da
    from months
    cross join measures
    left join events
        on
            months.month_start = events.month_start
            and measures.measure = events.measure
    group by months.month_start, measures.measure
),

final as (
    select
        counted.month_start,
        strftime(counted.month_start, '%Y-%m') as month,
        counted.measure,
        measures.measure_label,
        cast(measures.measure_order as integer) as measure_order,
        measures.kind,
        counted.numerator,
        counted.denominator,
        counted.numerator_da,
        counted.denominator_da,
        counted.numerator_non_da,
        counted.denominator_non_da
    from counted
    inner join measures
        on counted.measure = measures.measure
)

select * from final
