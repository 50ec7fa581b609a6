-- The assessment's words: for every signal, quarter and comparison the assessment can test,
-- the judgment's headline, its evidence and its cell in the threat/harm/risk ranking, as
-- sentence templates beside the figures they print (pipelines/disclosure/sentences.py; a
-- figure's rule is its column's meta in the YAML). Variant 1 prints the change; the next
-- variant, for when a count or rate it rests on is hidden, withholds it. Which comparisons
-- become judgments is decided by the exact tests in pipelines/assessment.py (SciPy); a judged
-- comparison's probability phrase and test result come from rpt_assessment_judgments (so
-- this model is built in the assessment step, after the tests).
{#- The rates held to a standard (settings assessment.rate_standards). -#}
{% set standards = setting('assessment')['rate_standards'] %}
with

quarters as (
    select
        quarter,
        previous_quarter,
        year_ago_quarter
    from {{ ref('int_quarters') }}
),

signals as (
    select * from {{ ref('rpt_assessment_signals') }}
),

judgments as (
    select * from {{ ref('rpt_assessment_judgments') }}
),

crimes_by_category as (
    select * from {{ ref('rpt_crimes_by_category') }}
),

intelligence as (
    select * from {{ ref('rpt_profile_intelligence') }}
),

category_labels as (
    select distinct
        breakdown,
        category,
        category_label
    from crimes_by_category
    union
    select distinct
        breakdown,
        category,
        category_label
    from intelligence
),

-- The profile table each count is also printed in (a comparison table: its cells are
-- suppressed with their column's total), so the assessment prints it as that table does.
printed_in as (
    select
        named.signal,
        named.table_model,
        named.table_name,
        coalesce(labels.category_label, named.category) as table_category
    from (
        values
        ('stalking_crimes', 'rpt_crimes_by_category', 'domestic_abuse', 'Total'),
        ('domestic_abuse_crimes', 'rpt_crimes_by_category', 'domestic_abuse', 'domestic_abuse'),
        ('non_domestic_abuse_crimes', 'rpt_crimes_by_category', 'domestic_abuse', 'not_domestic_abuse'),
        ('online_crimes', 'rpt_crimes_by_category', 'online', 'online'),
        ('screened_crimes', 'rpt_crimes_by_category', 'identification_route', 'screened'),
        ('high_risk_crimes', 'rpt_crimes_by_category', 'risk_level', 'high'),
        ('breach_of_order_crimes', 'rpt_crimes_by_category', 'offence_category', 'breach_of_order'),
        ('stalking_intelligence', 'rpt_profile_intelligence', 'volume', 'stalking_related')
    ) as named (signal, table_model, table_name, category)
    left join category_labels as labels
        on named.table_name = labels.breakdown and named.category = labels.category
),

-- Each signal at its quarter, the previous one and a year ago (null where it has no row or
-- the quarter is a delivery gap).
compared as (
    select
        signals.quarter,
        signals.signal,
        signals.signal_label,
        -- the rest as written: labels hold proper nouns and initialisms (SPO, Victims' Code)
        upper(left(signals.signal_label, 1)) || substr(signals.signal_label, 2) as signal_label_opening,
        signals.measure_kind,
        case signals.window_label
            when 'quarter' then 'in the quarter'
            when '12 months to quarter end' then 'in the 12 months to the quarter''s end'
            else signals.window_label
        end as window_words,
        quarters.previous_quarter,
        quarters.year_ago_quarter,
        signals.numerator as now_numerator,
        signals.denominator as now_denominator,
        -- a quarter of a delivery gap is no figure to compare with (rpt_assessment_signals)
        case when not coalesce(previous.is_delivery_gap, false) then previous.numerator end as previous_numerator,
        case when not coalesce(year_ago.is_delivery_gap, false) then year_ago.numerator end as year_ago_numerator,
        case when not coalesce(year_ago.is_delivery_gap, false) then year_ago.denominator end as year_ago_denominator
    from signals
    inner join quarters on signals.quarter = quarters.quarter
    left join signals as previous
        on signals.signal = previous.signal and quarters.previous_quarter = previous.quarter
    left join signals as year_ago
        on signals.signal = year_ago.signal and quarters.year_ago_quarter = year_ago.quarter
),

-- Counts against the previous quarter and a year ago; rates against their standard (a
-- setting) or a year ago.
comparisons as (
    select
        compared.*,
        tested.comparison,
        case
            when tested.comparison = 'previous quarter' then compared.previous_numerator
            else compared.year_ago_numerator
        end as before_numerator,
        {% if standards %}
            case compared.signal
                {% for signal, standard in standards.items() %}
                    when '{{ signal }}' then cast({{ standard }} as double)
                {% endfor %}
            end
        {% else %}
            cast(null as double)
        {% endif %} as standard
    from compared
    inner join (
        values ('count', 'previous quarter'), ('count', 'same quarter last year'),
        ('rate', 'standard'), ('rate', 'same quarter last year')
    ) as tested (measure_kind, comparison)
        on compared.measure_kind = tested.measure_kind
),

figures as (
    select
        *,
        (now_numerator - before_numerator) / nullif(cast(before_numerator as double), 0) as count_change,
        now_numerator / nullif(cast(now_denominator as double), 0)
        - year_ago_numerator / nullif(cast(year_ago_denominator as double), 0) as rate_change
    from comparisons
    where comparison != 'standard' or standard is not null
),

-- Each sentence's variants, the fuller first: the second withholds the change. A rate held to
-- its standard prints no change, so it has one variant.
variants as (
    select
        figures.quarter,
        figures.signal,
        figures.comparison,
        case
            when figures.measure_kind = 'count' then 'count'
            when figures.comparison = 'standard' then 'standard'
            else 'rate_change'
        end as test_kind,
        case
            when figures.measure_kind = 'count' then '{signal_label}'
            else 'the share of crimes meeting “{signal_label}”'
        end as subject_words,
        variants.sentence_kind,
        variants.variant_order,
        figures.now_numerator,
        figures.before_numerator,
        figures.previous_numerator,
        figures.year_ago_numerator,
        figures.year_ago_denominator
    from figures
    cross join (
        values ('headline', 1), ('headline', 2), ('threat', 1), ('threat', 2), ('evidence', 1)
    ) as variants (sentence_kind, variant_order)
    where variants.variant_order = 1 or figures.comparison != 'standard'
),

templates as (
    select
        quarter,
        signal,
        comparison,
        sentence_kind,
        variant_order,
        case
            when sentence_kind = 'headline' and variant_order = 2
                then
                    'It is {probability_phrase} that ' || subject_words || ' really changed on the '
                    || '{comparison} (the size of the change is not shown, to protect small counts).'
            when sentence_kind = 'threat' and variant_order = 2
                then 'changed on the {comparison} (not shown, to protect small counts)'
            when sentence_kind = 'headline'
                then
                    'It is {probability_phrase} that ' || subject_words
                    || case test_kind
                        when 'count'
                            then
                                ' really {count_direction}: they '
                                || case
                                    when now_numerator - before_numerator >= before_numerator
                                        then 'more than doubled'
                                    else '{count_direction} by {count_change_size}'
                                end
                                || ' on the {comparison}.'
                        when 'standard'
                            then ' falls short of the standard of {standard}: it stands at {now_rate?}.'
                        else ' really {rate_direction}: {rate_change_points} points on the {comparison}.'
                    end
            when sentence_kind = 'threat'
                then
                    case test_kind
                        when 'count'
                            then
                                case
                                    when before_numerator = 0 then '{count_direction} from {before_numerator}'
                                    else '{count_change_sign}{count_change_size}'
                                end
                                || ' on the {comparison}'
                        when 'standard' then '{now_rate?} against {standard}'
                        else '{rate_change_sign}{rate_change_points} pts on the {comparison}'
                    end
            when test_kind = 'count'
                then
                    '{signal_label_opening} ({window_words}): {now_numerator?} in {quarter}'
                    || case
                        when previous_numerator is not null then ', {previous_numerator?} in {previous_quarter}'
                        else ''
                    end
                    || case
                        when year_ago_numerator is not null then ', {year_ago_numerator?} in {year_ago_quarter}'
                        else ''
                    end
                    || '. Exact conditional test against the {comparison}: {test_result}.'
            else
                '{signal_label_opening}: {now_rate?} in {quarter} ({now_rate_numerator?} of {now_denominator?})'
                || case
                    when test_kind = 'standard'
                        then ' against a standard of {standard}. Exact binomial test: {test_result}.'
                    else
                        case
                            when year_ago_denominator > 0 then '; {year_ago_rate?} in {year_ago_quarter}'
                            else ''
                        end
                        || '. Fisher''s exact test against the {comparison}: {test_result}.'
                end
        end as template
    from variants
),

final as (
    select
        figures.quarter,
        figures.signal,
        figures.comparison,
        templates.sentence_kind,
        cast(templates.variant_order as integer) as variant_order,
        templates.template,
        figures.signal_label,
        figures.signal_label_opening,
        figures.window_words,
        figures.previous_quarter,
        figures.year_ago_quarter,
        printed_in.table_model,
        printed_in.table_name,
        printed_in.table_category,
        cast(figures.now_numerator as bigint) as now_numerator,
        cast(figures.previous_numerator as bigint) as previous_numerator,
        cast(figures.year_ago_numerator as bigint) as year_ago_numerator,
        cast(figures.before_numerator as bigint) as before_numerator,
        case
            when figures.before_numerator is null then null
            when figures.now_numerator > figures.before_numerator then 'rose'
            else 'fell'
        end as count_direction,
        case
            when figures.before_numerator is null then null
            when figures.now_numerator > figures.before_numerator then '+'
            else '-'
        end as count_change_sign,
        abs(figures.count_change) as count_change_size,
        cast(figures.now_numerator as bigint) as now_rate_numerator,
        cast(figures.now_numerator as bigint) as now_rate,
        cast(figures.now_denominator as bigint) as now_denominator,
        cast(figures.year_ago_numerator as bigint) as year_ago_rate,
        cast(figures.year_ago_denominator as bigint) as year_ago_denominator,
        case
            when figures.rate_change is null then null
            when figures.rate_change > 0 then 'rose'
            else 'fell'
        end as rate_direction,
        case
            when figures.rate_change is null then null
            when figures.rate_change > 0 then '+'
            else '-'
        end as rate_change_sign,
        abs(figures.rate_change) * 100 as rate_change_points,
        figures.standard,
        judgments.probability_phrase,
        judgments.test_result
    from figures
    inner join templates
        on
            figures.quarter = templates.quarter
            and figures.signal = templates.signal
            and figures.comparison = templates.comparison
    left join printed_in on figures.signal = printed_in.signal
    left join judgments
        on
            figures.quarter = judgments.quarter
            and figures.signal = judgments.signal
            and figures.comparison = judgments.comparison
)

select * from final
