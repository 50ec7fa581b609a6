-- The measures the assessment tests for real change, one row per quarter and signal: counts
-- of the quarter (compared by the report with the previous quarter and the same quarter last
-- year) and rates (numerator over denominator, compared with a standard or a year ago). The
-- rule that turns a tested change into a judgment is Python (pipelines/assessment.py);
-- every number it tests is here. A quarter holding a delivery gap (a month in which the
-- delivery has no crime of any kind, int_recording_months) is flagged: its counts are what was
-- delivered, not what happened, so it is neither tested nor compared with.
with

quarters as (
    select quarter from {{ ref('int_quarters') }}
),

crimes as (
    select * from {{ ref('stalking_crimes') }}
),

breaches as (
    select * from {{ ref('stg_breaches') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

intelligence as (
    select * from {{ ref('int_intelligence_resolved') }}
),

victims as (
    select * from {{ ref('rpt_victims_by_quarter') }}
),

compliance as (
    select * from {{ ref('rpt_compliance') }}
),

gap_quarters as (
    select distinct {{ quarter_of('month_start') }} as quarter
    from {{ ref('int_recording_months') }}
    where is_delivery_gap
),

crime_counts as (
    select
        quarter,
        count(*) as stalking_crimes,
        count(*) filter (where offence_category = 'breach_of_order') as breach_of_order_crimes,
        count(*) filter (where risk_level = 'high') as high_risk_crimes,
        count(*) filter (where is_domestic_abuse) as domestic_abuse_crimes,
        count(*) filter (where not is_domestic_abuse) as non_domestic_abuse_crimes,
        count(*) filter (where is_online) as online_crimes,
        count(*) filter (where identified_by = 'screened') as screened_crimes
    from crimes
    group by quarter
),

breach_counts as (
    select
        breach_quarter as quarter,
        count(*) as order_breaches
    from breaches
    group by breach_quarter
),

application_counts as (
    select
        {{ quarter_of('application_date') }} as quarter,
        count(*) filter (where is_stalking_order) as spo_applications
    from orders
    where application_date is not null
    group by {{ quarter_of('application_date') }}
),

intelligence_counts as (
    select
        submitted_quarter as quarter,
        count(*) filter (where is_stalking_related) as stalking_intelligence
    from intelligence
    group by submitted_quarter
),

counts_wide as (
    select
        quarters.quarter,
        coalesce(crime_counts.stalking_crimes, 0) as stalking_crimes,
        coalesce(breach_counts.order_breaches, 0) as order_breaches,
        coalesce(crime_counts.breach_of_order_crimes, 0) as breach_of_order_crimes,
        coalesce(crime_counts.high_risk_crimes, 0) as high_risk_crimes,
        coalesce(crime_counts.domestic_abuse_crimes, 0) as domestic_abuse_crimes,
        coalesce(crime_counts.non_domestic_abuse_crimes, 0) as non_domestic_abuse_crimes,
        coalesce(crime_counts.online_crimes, 0) as online_crimes,
        coalesce(crime_counts.screened_crimes, 0) as screened_crimes,
        coalesce(victims.repeat_victims, 0) as repeat_victims,
        coalesce(application_counts.spo_applications, 0) as spo_applications,
        coalesce(intelligence_counts.stalking_intelligence, 0) as stalking_intelligence
    from quarters
    left join crime_counts on quarters.quarter = crime_counts.quarter
    left join breach_counts on quarters.quarter = breach_counts.quarter
    left join victims on quarters.quarter = victims.quarter
    left join application_counts on quarters.quarter = application_counts.quarter
    left join intelligence_counts on quarters.quarter = intelligence_counts.quarter
),

count_signals as (
    unpivot counts_wide
    on
    stalking_crimes,
    order_breaches,
    breach_of_order_crimes,
    high_risk_crimes,
    domestic_abuse_crimes,
    non_domestic_abuse_crimes,
    online_crimes,
    screened_crimes,
    repeat_victims,
    spo_applications,
    stalking_intelligence
    into name signal value numerator
),

labels as (
    select
        named.signal,
        named.signal_label,
        named.window_label
    from (
        values
        ('stalking_crimes', 'crimes in the stalking universe', 'quarter'),
        ('order_breaches', 'recorded breaches of protective orders', 'quarter'),
        ('breach_of_order_crimes', 'stalking-universe crimes recorded as a breach of an order', 'quarter'),
        ('high_risk_crimes', 'stalking-universe crimes graded high risk', 'quarter'),
        ('domestic_abuse_crimes', 'domestic-abuse stalking crimes', 'quarter'),
        ('non_domestic_abuse_crimes', 'non-domestic stalking crimes', 'quarter'),
        ('online_crimes', 'online stalking crimes', 'quarter'),
        ('screened_crimes', 'possible hidden stalking crimes found by screening', 'quarter'),
        ('repeat_victims', 'repeat victims of stalking', '12 months to quarter end'),
        ('spo_applications', 'stalking protection order applications', 'quarter'),
        ('stalking_intelligence', 'stalking-related intelligence reports', 'quarter')
    ) as named (signal, signal_label, window_label)
),

signal_rows as (
    select
        count_signals.quarter,
        count_signals.signal,
        labels.signal_label,
        'count' as measure_kind,
        labels.window_label,
        cast(count_signals.numerator as bigint) as numerator,
        cast(null as bigint) as denominator
    from count_signals
    inner join labels on count_signals.signal = labels.signal
    union all
    select
        quarter,
        measure as signal,
        coalesce(measure_description, measure_label) as signal_label,
        'rate' as measure_kind,
        'quarter' as window_label,
        numerator,
        denominator
    from compliance
),

final as (
    select
        signal_rows.*,
        gap_quarters.quarter is not null as is_delivery_gap
    from signal_rows
    left join gap_quarters on signal_rows.quarter = gap_quarters.quarter
)

select * from final
