-- What the assessment looked at, per quarter: the signals measured and the comparisons tested
-- (marts.assessment_tests), the figures the section's method note prints.
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

final as (
    select
        signals.quarter,
        cast(signals.signals as bigint) as signals,
        cast(coalesce(tests.tests, 0) as bigint) as tests
    from signals
    left join tests on signals.quarter = tests.quarter
)

select * from final
