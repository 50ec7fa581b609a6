-- The intelligence requirements: the settings' rule table (assessment.intelligence_requirements)
-- applied to the measured gaps (rpt_assessment_gaps): a gap that holds anything and whose share
-- is at least the rule's raises its requirement, quoting the gap as its evidence. Largest share
-- first, then the rule's place.
{% set rules = setting('assessment')['intelligence_requirements'] %}
with

gaps as (
    select * from {{ ref('rpt_assessment_gaps') }}
),

rules as (
    {{ rule_table(rules, {'gap': 'varchar', 'min_share': 'double', 'requirement': 'varchar'}) }}
),

raised as (
    select
        gaps.quarter,
        gaps.gap,
        rules.requirement,
        rules.rule_order,
        gaps.numerator,
        gaps.denominator,
        gaps.gap_share,
        gaps.evidence_template,
        gaps.numerator / gaps.denominator as share
    from gaps
    inner join rules on gaps.gap = rules.gap
    where
        gaps.denominator > 0
        and gaps.numerator > 0
        and gaps.numerator / gaps.denominator >= rules.min_share
),

final as (
    select
        quarter,
        gap,
        requirement,
        cast(row_number() over (
            partition by quarter order by share desc, rule_order asc
        ) as integer) as requirement_order,
        numerator,
        denominator,
        gap_share,
        evidence_template
    from raised
)

select * from final
