{%- set screening = setting('screening') -%}
-- The crimes screened for hidden stalking: every crime of a screened category (settings
-- screening.candidate_categories) not already stalking by its principal or included
-- classification, with the signals the record itself carries (offence period, risk grading,
-- relationship of the suspect, stalking-related intelligence linked to the crime). One record
-- can describe a whole course: its offence period spanning days (long course) or a week and
-- more (sustained) is conduct on several occasions.
with

crimes as (
    select * from {{ ref('int_crimes_classified') }}
),

crime_persons as (
    select * from {{ ref('int_crime_persons_resolved') }}
),

intelligence as (
    select * from {{ ref('int_intelligence_resolved') }}
),

candidates as (
    select
        crime_id,
        reported_quarter,
        reported_date,
        occasion_date,
        offence_category,
        harm_weight_days,
        is_online,
        risk_level,
        coalesce(date_diff('day', offence_start, offence_end), 0) as offence_span_days
    from crimes
    where
        offence_category in {{ sql_string_list(screening['candidate_categories']) }}
        and not is_principal_stalking
        {%- if setting('stalking_universe')['use_included_classifications'] %}
            and not has_included_stalking
        {%- endif %}
),

relationships as (
    select
        crime_id,
        bool_or(relationship_to_victim = 'ex_partner') as is_ex_partner
    from crime_persons
    where role_side = 'perpetrator'
    group by crime_id
),

linked_intelligence as (
    select distinct crime_id
    from intelligence
    where is_stalking_related and crime_id is not null
),

final as (
    select
        candidates.*,
        candidates.offence_span_days >= {{ screening['long_course_days'] }} as is_long_course,
        candidates.offence_span_days >= {{ screening['sustained_course_days'] }} as is_sustained,
        linked_intelligence.crime_id is not null as has_linked_intelligence,
        coalesce(candidates.risk_level = 'high', false) as is_high_risk,
        coalesce(candidates.risk_level = 'medium', false) as is_medium_risk,
        coalesce(relationships.is_ex_partner, false) as is_ex_partner
    from candidates
    left join relationships
        on candidates.crime_id = relationships.crime_id
    left join linked_intelligence
        on candidates.crime_id = linked_intelligence.crime_id
)

select * from final
