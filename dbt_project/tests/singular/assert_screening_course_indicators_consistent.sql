-- The course indicators agree with the counts they are built from, on the run's own screened
-- crimes: a varied intense course has its occasions in the intense window, is obsessive (where
-- its count reaches that indicator's) and fixated (several offence categories); high risk with
-- conduct over periods is a repeated course (where its period crimes reach the course's count);
-- harassment intelligence is linked intelligence on a harassment. A row is a contradiction.
{%- set screening = setting('screening') %}
{%- set varied_is_obsessive = screening['varied_course_min_occasions'] >= screening['intense_min_occasions'] %}
{%- set periods_are_a_course = screening['period_min_crimes'] >= screening['course_min_occasions'] %}
with

scored as (
    select * from {{ ref('int_screening_scored') }}
),

problems as (
    select
        crime_id,
        case
            when has_harassment_intelligence and not (offence_category = 'harassment' and has_linked_intelligence)
                then 'harassment intelligence without linked intelligence on a harassment'
            when is_varied_intense and occasions_intense < {{ screening['varied_course_min_occasions'] }}
                then 'varied intense course with fewer occasions in the intense window'
            when {{ varied_is_obsessive }} and is_varied_intense and not is_obsessive
                then 'varied intense course that is not obsessive'
            when is_varied_intense and not is_fixated
                then 'varied intense course that is not fixated'
            when {{ periods_are_a_course }} and has_high_risk_periods and not is_repeated
                then 'high risk with periods without a repeated course'
        end as problem
    from scored
)

select * from problems
where problem is not null
