-- Measured information gaps per quarter, each as a share (numerator over denominator): the
-- assessment turns a gap above its configured share into an intelligence requirement
-- (pipelines/assessment.py; the rule table is in the settings).
with

scope as (
    select * from {{ ref('rpt_data_scope') }}
),

relationships as (
    select
        quarter,
        sum(perpetrator_records) filter (where relationship = 'unknown') as unknown_records,
        sum(perpetrator_records) as records
    from {{ ref('rpt_perpetrator_relationships') }}
    group by quarter
),

-- the requirements ask for stalking intelligence to be graded, resolved and linked: their gaps
-- are measured on the stalking-related reports, not on every report whatever its subject
intelligence as (
    select
        quarter,
        sum(stalking_related_reports) filter (where breakdown = 'volume' and category = 'all') as reports,
        sum(stalking_related_reports) filter (
            where breakdown = 'source_evaluation' and category = 'none'
        ) as not_graded,
        sum(stalking_related_reports) filter (
            where breakdown = 'linkage' and category = 'subject_resolved'
        ) as subject_resolved,
        sum(stalking_related_reports) filter (where breakdown = 'linkage' and category = 'crime') as linked_to_crime
    from {{ ref('rpt_profile_intelligence') }}
    group by quarter
),

-- "record the date of birth of named suspects": the named ones, as the requirement says
ages as (
    select
        quarter,
        sum(named_perpetrators) filter (where category_label = 'Not recorded') as not_recorded,
        sum(named_perpetrators) as perpetrators
    from {{ ref('rpt_profile_perpetrator_demographics') }}
    where da_group = 'all' and dimension = 'age_band'
    group by quarter
),

final as (
    select
        quarter,
        'unnamed_suspects' as gap,
        cast(suspect_records_without_name as bigint) as numerator,
        cast(suspect_records as bigint) as denominator
    from scope
    union all
    select
        quarter,
        'crimes_without_location' as gap,
        cast(stalking_crimes_without_location as bigint) as numerator,
        cast(stalking_crimes as bigint) as denominator
    from scope
    union all
    select
        quarter,
        'relationship_unknown' as gap,
        cast(unknown_records as bigint) as numerator,
        cast(records as bigint) as denominator
    from relationships
    union all
    select
        quarter,
        'intelligence_not_graded' as gap,
        cast(not_graded as bigint) as numerator,
        cast(reports as bigint) as denominator
    from intelligence
    union all
    select
        quarter,
        'intelligence_subject_unresolved' as gap,
        cast(reports - subject_resolved as bigint) as numerator,
        cast(reports as bigint) as denominator
    from intelligence
    union all
    select
        quarter,
        'intelligence_not_linked_to_crime' as gap,
        cast(reports - linked_to_crime as bigint) as numerator,
        cast(reports as bigint) as denominator
    from intelligence
    union all
    select
        quarter,
        'perpetrator_age_not_recorded' as gap,
        cast(not_recorded as bigint) as numerator,
        cast(perpetrators as bigint) as denominator
    from ages
)

-- How an intelligence requirement quotes its gap: the share with the counts behind it, each
-- printed under its column's rule (pipelines.disclosure.sentences).
select
    quarter,
    gap,
    numerator,
    denominator,
    numerator as gap_share,
    '{gap_share?} ({numerator?} of {denominator?}) this quarter' as evidence_template
from final
