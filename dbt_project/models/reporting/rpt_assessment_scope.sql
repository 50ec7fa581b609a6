-- What the assessment looked at, per quarter: the signals measured and the comparisons tested
-- (marts.assessment_tests), the figures the section's method note prints; and, where the
-- quarter or a quarter it is compared with holds a delivery gap (a month in which the delivery
-- has no crime of any kind, int_recording_months), the sentence saying what cannot be judged.
with

signals as (
    select
        quarter,
        count(distinct signal) as signals
    from {{ ref('rpt_assessment_signals') }}
    group by quarter
),

tests as (
    select
        quarter,
        count(*) as tests
    from {{ source('assessment', 'assessment_tests') }}
    group by quarter
),

quarters as (
    select * from {{ ref('int_quarters') }}
),

-- each quarter holding gap months, and those months in words
gap_quarters as (
    select
        {{ quarter_of('month_start') }} as quarter,
        strftime(min(month_start), '%B %Y')
        || case
            when count(*) > 1 then ' to ' || strftime(max(month_start), '%B %Y')
            else ''
        end as gap_words
    from {{ ref('int_recording_months') }}
    where is_delivery_gap
    group by {{ quarter_of('month_start') }}
),

noted as (
    select
        quarters.quarter,
        own.quarter is not null as is_delivery_gap,
        case
            when own.quarter is not null
                then
                    'The assessment cannot judge ' || quarters.quarter || ': the delivery holds no '
                    || 'crime of any kind reported in ' || own.gap_words || ', which is a gap in '
                    || 'the delivery, not a fall in crime. No measure of the quarter is compared '
                    || 'with another quarter; the figures the following sections print for it are '
                    || 'what was delivered, not what happened.'
            when previous.quarter is not null or year_ago.quarter is not null
                then
                    'Comparisons with '
                    || concat_ws(
                        ' and ',
                        previous.quarter || ' (the previous quarter)',
                        year_ago.quarter || ' (the same quarter last year)'
                    )
                    || ' are not made: the delivery holds no crime of any kind reported in '
                    || concat_ws(' and ', previous.gap_words, year_ago.gap_words)
                    || ', which is a gap in the delivery, not a fall in crime.'
        end as gap_note
    from quarters
    left join gap_quarters as own on quarters.quarter = own.quarter
    left join gap_quarters as previous on quarters.previous_quarter = previous.quarter
    left join gap_quarters as year_ago on quarters.year_ago_quarter = year_ago.quarter
),

final as (
    select
        signals.quarter,
        cast(signals.signals as bigint) as signals,
        cast(coalesce(tests.tests, 0) as bigint) as tests,
        coalesce(noted.is_delivery_gap, false) as is_delivery_gap,
        noted.gap_note
    from signals
    left join tests on signals.quarter = tests.quarter
    left join noted on signals.quarter = noted.quarter
)

select * from final
