{%- set perp = setting('perpetrators') -%}
{%- set rfgv = setting('rfgv') -%}
{%- set weights = rfgv['weights'] -%}
{%- set frequency_mins, frequency_points = rfgv['frequency_band_min_crimes'], rfgv['frequency_band_points'] -%}
{%- set gravity_mins, gravity_points = rfgv['gravity_band_min_days'], rfgv['gravity_band_points'] -%}
{%- set victims_mins, victims_points = rfgv['victims_band_min'], rfgv['victims_band_points'] -%}
{%- set weight_sum = weights['recency'] + weights['frequency'] + weights['gravity'] + weights['victims'] -%}
{%- set lookback_months = [perp['serial_lookback_years'] * 12, rfgv['lookback_months']] | max -%}
-- Suspects and offenders of the stalking universe per quarter, scored for tasking (MATAC-style
-- RFGV). A person is in a quarter's list when they have a crime reported in the look-back up to
-- the quarter's last day. Each component scores 0-10 points:
--   recency   10 for a crime on the quarter's last day, falling linearly to 0 at recency_decay_months;
--   frequency points of the band of crimes in the last frequency_window_months;
--   gravity   points of the band of total harm (offence_codes.harm_weight_days) in the look-back;
--   victims   points of the band of distinct resolved victims in the look-back.
-- rfgv_score = weighted mean of the four x 10 (0-100). All numbers come from settings.yaml.
-- score_band is the RFGV score's band (rfgv.band_*_min_score), not a DASH or risk grade.
-- Serial (outputs.md): 2+ victims in the serial look-back against whom stalking is established
-- (a recorded stalking classification, or a screened crime whose course against that same
-- victim reads as stalking on the pair's own records, or stalking-related intelligence naming
-- the pair) and who are confidently different
-- people (no link at or above
-- distinct_victim_max_link_probability between them, not at one home postcode):
-- int_perpetrator_victims.
-- weakest_link_probability: the weakest link the row rests on, the lowest
-- cluster_min_probability of the subject and its counted victims (a rule join, which has no
-- score, at its rule's held-in figure); weakest_link_rule_joins names the rule joins among
-- those links (rests_on_rule_join: there is one), so the pack can say the rank rests on one.
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

perpetrations as (
    select * from {{ ref('int_perpetrations') }}
),

pairs as (
    select crime_pairs.*
    from {{ ref('int_crime_pairs') }} as crime_pairs
    inner join {{ ref('int_stalking_crimes') }} as stalking_crimes
        on crime_pairs.crime_id = stalking_crimes.crime_id
),

-- the weakest link of the persons this model reads it for: the perpetrators and their
-- established victims. Grouping every resolved record instead (~11 M at national scale, most of
-- them neither) was much of the model's work
person_weakest as (
    select
        person_key,
        min(cluster_min_probability) as weakest,
        any_value(cluster_rule_joins) as rule_joins
    from {{ source('resolution', 'person_records') }}
    where
        person_key in (
            select perpetrations.person_key
            from perpetrations
            union all
            select victims.victim_person_key
            from {{ ref('int_perpetrator_victims') }} as victims
            where victims.is_established
        )
    group by person_key
),

-- the victims each perpetrator counts toward serial, with their evidence
-- (int_perpetrator_victims: established, confidently distinct)
serial_summary as (
    select
        quarter,
        person_key,
        count(*) filter (where is_distinct_recorded) as distinct_victims_recorded,
        count(*) filter (where is_distinct_established) as distinct_victims_confident,
        -- the established victims at a home postcode another victim of the subject shares:
        -- they count once (possibly one person recorded twice, or one household)
        count(*) filter (where is_established and shares_home_postcode) as victims_at_a_shared_home,
        min(victim_weakest_link_probability) filter (where is_established) as victims_weakest
    from {{ ref('int_perpetrator_victims') }}
    group by quarter, person_key
),

-- the rule joins holding the counted victims (those weakest_link_probability reads)
victim_rule_joins as (
    select
        victims.quarter,
        victims.person_key,
        string_agg(distinct victim_links.rule_joins, ',') as rule_joins
    from {{ ref('int_perpetrator_victims') }} as victims
    inner join person_weakest as victim_links
        on victims.victim_person_key = victim_links.person_key
    where victims.is_established and victim_links.rule_joins is not null
    group by victims.quarter, victims.person_key
),

orders as (
    select * from {{ ref('int_orders_resolved') }}
),

breaches as (
    select * from {{ ref('stg_breaches') }}
),

windowed as (
    select
        quarters.quarter,
        quarters.q_end,
        perpetrations.person_key,
        perpetrations.crime_id,
        perpetrations.reported_date,
        perpetrations.harm_weight_days,
        perpetrations.risk_level,
        perpetrations.is_domestic_abuse
    from quarters
    inner join perpetrations
        on
            perpetrations.reported_date > quarters.q_end - interval {{ lookback_months }} month
            and quarters.q_end >= perpetrations.reported_date
),

-- a person's crimes are distinct rows of int_perpetrations (its crime_id, person_key test),
-- so they are counted as rows: a distinct count with a filter costs DuckDB a grouping of its own
-- and a join back per aggregate, over ~11 M rows at national scale
crime_summary as (
    select
        quarter,
        person_key,
        any_value(q_end) as q_end,
        count(crime_id) filter (
            where reported_date > q_end - interval {{ perp['serial_lookback_years'] }} year
        ) as crimes_total,
        count(crime_id) filter (
            where reported_date > q_end - interval {{ rfgv['frequency_window_months'] }} month
        ) as crimes_12m,
        cast(coalesce(sum(harm_weight_days) filter (
            where reported_date > q_end - interval {{ rfgv['lookback_months'] }} month
        ), 0) as bigint) as harm_total,
        max(reported_date) as last_reported_date,
        max(
            case risk_level when 'high' then 3 when 'medium' then 2 when 'standard' then 1 end
        ) filter (where reported_date > q_end - interval {{ rfgv['frequency_window_months'] }} month)
            as highest_risk_rank,
        bool_or(is_domestic_abuse) as has_domestic_abuse
    from windowed
    group by quarter, person_key
),

-- each victim once per quarter and suspect, with the look-backs they fall in, then counted: the
-- two distinct counts with filters, without a grouping and a join back for each
victim_windows as (
    select
        quarters.quarter,
        pairs.suspect_person_key,
        pairs.victim_person_key,
        bool_or(
            pairs.reported_date > quarters.q_end - interval {{ perp['serial_lookback_years'] }} year
        ) as in_serial_lookback,
        bool_or(
            pairs.reported_date > quarters.q_end - interval {{ rfgv['lookback_months'] }} month
        ) as in_rfgv_lookback
    from quarters
    inner join pairs
        on
            pairs.reported_date > quarters.q_end - interval {{ lookback_months }} month
            and quarters.q_end >= pairs.reported_date
    group by quarters.quarter, pairs.suspect_person_key, pairs.victim_person_key
),

victim_summary as (
    select
        quarter,
        suspect_person_key as person_key,
        count(victim_person_key) filter (where in_serial_lookback) as victims_total,
        count(victim_person_key) filter (where in_rfgv_lookback) as victims_rfgv
    from victim_windows
    group by quarter, suspect_person_key
),

breach_summary as (
    select
        quarters.quarter,
        orders.subject_person_key as person_key,
        count(distinct breaches.breach_id) as breaches_12m
    from quarters
    inner join breaches
        on
            breaches.breach_date > quarters.q_end - interval {{ rfgv['frequency_window_months'] }} month
            and quarters.q_end >= breaches.breach_date
    inner join orders
        on breaches.order_id = orders.order_id
    where orders.subject_person_key is not null
    group by quarters.quarter, orders.subject_person_key
),

active_orders as (
    select distinct
        quarters.quarter,
        orders.subject_person_key as person_key
    from quarters
    inner join orders
        on
            orders.was_in_force
            and quarters.q_end >= orders.granted_date
            and coalesce(orders.expiry_date, date '9999-12-31') >= quarters.q_end
    where orders.subject_person_key is not null
),

components as (
    select
        crime_summary.quarter,
        crime_summary.person_key,
        crime_summary.crimes_total,
        coalesce(victim_summary.victims_total, 0) as victims_total,
        crime_summary.crimes_12m,
        crime_summary.harm_total,
        crime_summary.last_reported_date,
        date_diff('day', crime_summary.last_reported_date, crime_summary.q_end) as days_since_last_crime,
        crime_summary.highest_risk_rank,
        crime_summary.has_domestic_abuse,
        coalesce(serial_summary.distinct_victims_recorded, 0) as distinct_victims_recorded,
        coalesce(serial_summary.distinct_victims_confident, 0) as distinct_victims_confident,
        coalesce(serial_summary.victims_at_a_shared_home, 0) as victims_at_a_shared_home,
        round(least(
            coalesce(person_weakest.weakest, 1.0), coalesce(serial_summary.victims_weakest, 1.0)
        ), 4) as weakest_link_probability,
        nullif(array_to_string(list_sort(list_distinct(string_split(
            concat_ws(',', person_weakest.rule_joins, victim_rule_joins.rule_joins), ','
        ))), ','), '') as weakest_link_rule_joins,
        coalesce(breach_summary.breaches_12m, 0) as breaches_12m,
        active_orders.person_key is not null as has_active_order,
        round(
            10.0 * greatest(
                0.0,
                1.0 - date_diff('day', crime_summary.last_reported_date, crime_summary.q_end)
                / ({{ rfgv['recency_decay_months'] }} * 30.4375)
            ),
            2
        ) as recency_score,
        cast(
            {{ band_points('crime_summary.crimes_12m', frequency_mins, frequency_points) }} as double
        ) as frequency_score,
        cast(
            {{ band_points('crime_summary.harm_total', gravity_mins, gravity_points) }} as double
        ) as gravity_score,
        cast(
            {{ band_points('coalesce(victim_summary.victims_rfgv, 0)', victims_mins, victims_points) }} as double
        ) as victims_score
    from crime_summary
    left join victim_summary
        on
            crime_summary.quarter = victim_summary.quarter
            and crime_summary.person_key = victim_summary.person_key
    left join breach_summary
        on
            crime_summary.quarter = breach_summary.quarter
            and crime_summary.person_key = breach_summary.person_key
    left join active_orders
        on
            crime_summary.quarter = active_orders.quarter
            and crime_summary.person_key = active_orders.person_key
    left join serial_summary
        on
            crime_summary.quarter = serial_summary.quarter
            and crime_summary.person_key = serial_summary.person_key
    left join person_weakest
        on crime_summary.person_key = person_weakest.person_key
    left join victim_rule_joins
        on
            crime_summary.quarter = victim_rule_joins.quarter
            and crime_summary.person_key = victim_rule_joins.person_key
    -- the population is the serial look-back; a longer RFGV look-back only adds gravity
    where crime_summary.crimes_total > 0
),

scored as (
    select
        *,
        round(
            10.0 * (
                {{ weights['recency'] }} * recency_score
                + {{ weights['frequency'] }} * frequency_score
                + {{ weights['gravity'] }} * gravity_score
                + {{ weights['victims'] }} * victims_score
            ) / {{ weight_sum }},
            1
        ) as rfgv_score
    from components
),

ranked as (
    select
        *,
        row_number() over (
            partition by quarter
            order by rfgv_score desc, harm_total desc, crimes_total desc, last_reported_date desc, person_key asc
        ) as rank
    from scored
),

final as (
    select
        quarter,
        person_key,
        crimes_total,
        victims_total,
        crimes_total >= {{ perp['repeat_min_crimes'] }} as is_repeat,
        distinct_victims_confident >= {{ perp['serial_min_victims'] }} as is_serial,
        recency_score,
        frequency_score,
        gravity_score,
        victims_score,
        rfgv_score,
        case
            when rfgv_score >= {{ rfgv['band_high_min_score'] }} then 'high'
            when rfgv_score >= {{ rfgv['band_medium_min_score'] }} then 'medium'
            else 'standard'
        end as score_band,
        rank,
        breaches_12m,
        has_active_order,
        rfgv_score >= {{ setting('high_harm')['min_rfgv_score'] }}
        {%- if setting('high_harm')['top_n'] > 0 %}
            and rank <= {{ setting('high_harm')['top_n'] }}
        {%- endif %}
            as is_high_harm,
        crimes_12m,
        harm_total,
        last_reported_date,
        days_since_last_crime,
        case highest_risk_rank when 3 then 'high' when 2 then 'medium' when 1 then 'standard' end
            as highest_recorded_risk_12m,
        has_domestic_abuse,
        distinct_victims_recorded >= {{ perp['serial_min_victims'] }} as is_serial_recorded,
        distinct_victims_confident >= {{ perp['serial_min_victims'] }} as is_serial_including_screened,
        distinct_victims_confident,
        victims_at_a_shared_home,
        weakest_link_probability,
        weakest_link_rule_joins,
        weakest_link_rule_joins is not null as rests_on_rule_join,
        -- the subjects the tasking meeting discusses: the top of those above the cut-off
        rfgv_score >= {{ setting('high_harm')['min_rfgv_score'] }}
        {%- if setting('high_harm')['top_n'] > 0 %}
            and rank <= {{ setting('high_harm')['top_n'] }}
        {%- endif %}
        and rank <= {{ setting('tasking')['list_length'] }} as is_on_tasking_list
    from ranked
)

select * from final
