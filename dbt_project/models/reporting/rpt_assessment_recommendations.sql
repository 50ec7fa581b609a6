-- The 4P recommendations: the settings' rule table (assessment.recommendations) applied to the
-- judgments that open the profile (rpt_assessment_judgments.is_shown): a rule whose signal and
-- direction match a judgment recommends its action under its area. In 4P order (Prevent,
-- Pursue, Protect, Prepare), then the judgment's rank, then the rule's place in the table.
{% set rules = setting('assessment')['recommendations'] %}
with

judgments as (
    select * from {{ ref('rpt_assessment_judgments') }}
    where is_shown
),

rules as (
    {{ rule_table(rules, {'signal': 'varchar', 'direction': 'varchar', 'area': 'varchar', 'action': 'varchar'}) }}
),

final as (
    select
        judgments.quarter,
        judgments.signal,
        judgments.comparison,
        rules.area,
        rules.action,
        cast(row_number() over (
            partition by judgments.quarter
            order by
                case rules.area when 'Prevent' then 1 when 'Pursue' then 2 when 'Protect' then 3 else 4 end,
                judgments.judgment_rank,
                rules.rule_order
        ) as integer) as recommendation_order
    from judgments
    inner join rules
        on judgments.signal = rules.signal and judgments.direction = rules.direction
)

select * from final
