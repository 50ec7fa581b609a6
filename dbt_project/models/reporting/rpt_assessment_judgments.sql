-- The assessment's judgments, ranked: for the quarter tested, each signal whose exact test passes the
-- settings' rule (marts.assessment_tests, pipelines/assessment.py), with its strongest comparison
-- (the smallest p-value, then the largest change), its probability phrase, its test result and
-- its place in the threat/harm/risk ranking: harm first (settings assessment.harm, unlisted 1),
-- then the probability that the change is real, then its size. The first
-- assessment.max_judgments open the profile; the rest are in the ranking only.
{% set rules = setting('assessment') %}
with

tests as (
    select * from {{ source('assessment', 'assessment_tests') }}
),

signals as (
    select distinct
        signal,
        signal_label,
        measure_kind
    from {{ ref('rpt_assessment_signals') }}
),

-- The PHIA probability yardstick: each phrase and the range it stands for (UK Professional
-- Head of Intelligence Assessment; not among the sources checked in ../shared/DOMAIN.md:
-- confirm against the force's current copy [U]). A probability between two ranges takes the
-- nearer phrase: each phrase holds up to the midpoint of the gap above its range.
yardstick as (
    select
        ranges.phrase,
        coalesce((ranges.range_high + lead(ranges.range_low) over (order by ranges.range_low)) / 2, 2.0) as below
    from (
        values
        ('a remote chance', 0.00, 0.05),
        ('highly unlikely', 0.10, 0.20),
        ('unlikely', 0.25, 0.35),
        ('a realistic possibility', 0.40, 0.50),
        ('likely', 0.55, 0.75),
        ('highly likely', 0.80, 0.90),
        ('almost certain', 0.95, 1.00)
    ) as ranges (phrase, range_low, range_high)
),

harm as (
    {% if rules['harm'] %}
        select
            harm.signal,
            harm.harm
        from (
            values
            {%- for signal, level in rules['harm'].items() %}
                ('{{ signal }}', {{ level }}){{ ',' if not loop.last }}
            {%- endfor %}
        ) as harm (signal, harm)
    {% else %}
        select
            cast(null as varchar) as signal,
            cast(null as integer) as harm
        where false
    {% endif %}
),

-- each signal's strongest passing comparison (the previous quarter first on a tie)
strongest as (
    select *
    from tests
    where is_judgment
    qualify row_number() over (
        partition by quarter, signal
        order by
            p_value,
            abs(change) desc,
            case comparison when 'previous quarter' then 1 when 'same quarter last year' then 2 else 3 end
    ) = 1
),

ranked as (
    select
        strongest.*,
        coalesce(harm.harm, 1) as harm,
        row_number() over (
            partition by strongest.quarter
            order by
                coalesce(harm.harm, 1) desc,
                round(strongest.probability, 3) desc,
                abs(strongest.change) desc,
                strongest.signal
        ) as judgment_rank
    from strongest
    left join harm on strongest.signal = harm.signal
),

final as (
    select
        ranked.quarter,
        ranked.signal,
        ranked.comparison,
        signals.measure_kind,
        -- the rest as written: labels hold proper nouns and initialisms (SPO, Victims' Code)
        upper(left(signals.signal_label, 1)) || substr(signals.signal_label, 2) as signal_label_opening,
        ranked.direction,
        ranked.change,
        ranked.p_value,
        ranked.probability,
        (
            select yardstick.phrase
            from yardstick
            where ranked.probability < yardstick.below
            order by yardstick.below
            limit 1
        ) as probability_phrase,
        case
            when ranked.p_value < 0.001 then 'p < 0.001'
            else 'p = ' || printf('%.3f', ranked.p_value)
        end as test_result,
        cast(ranked.harm as integer) as harm,
        case ranked.harm
            when 3 then 'High'
            when 2 then 'Medium'
            when 1 then 'Low'
            else cast(ranked.harm as varchar)
        end as harm_label,
        cast(ranked.judgment_rank as integer) as judgment_rank,
        ranked.judgment_rank <= {{ rules['max_judgments'] }} as is_shown
    from ranked
    inner join signals on ranked.signal = signals.signal
)

select * from final
