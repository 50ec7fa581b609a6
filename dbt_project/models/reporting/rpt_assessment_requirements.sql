-- The intelligence requirements: the settings' rule table (assessment.intelligence_requirements)
-- applied to the measured gaps (rpt_assessment_gaps): a gap that holds anything and whose share
-- is at least the rule's raises its requirement, quoting the gap as its evidence. Largest share
-- first, then the rule's place.
{% set rule_table = setting('assessment')['intelligence_requirements'] %}
with

gaps as (
    select * from {{ ref('rpt_assessment_gaps') }}
),

rules as (
    {% if rule_table %}
        select
            rules.rule_order,
            rules.gap,
            rules.min_share,
            rules.requirement
        from (
            values
            {%- for rule in rule_table %}
                (
                    {{ loop.index }},
                    '{{ rule.gap }}',
                    cast({{ rule.min_share }} as double),
                    '{{ rule.requirement | replace("'", "''") }}'
                ){{ ',' if not loop.last }}
            {%- endfor %}
        ) as rules (rule_order, gap, min_share, requirement)
    {% else %}
        select
            cast(null as integer) as rule_order,
            cast(null as varchar) as gap,
            cast(null as double) as min_share,
            cast(null as varchar) as requirement
        where false
    {% endif %}
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
