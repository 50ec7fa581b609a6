-- Every repeat victim is a victim of at least min_crimes stalking-universe crimes in total.
with

repeat_victims as (
    select distinct person_key from {{ ref('repeat_victims') }}
),

victim_crimes as (
    select
        person_key,
        count(distinct crime_id) as crimes
    from {{ ref('int_victimisations') }}
    group by person_key
)

select repeat_victims.person_key
from repeat_victims
left join victim_crimes
    on repeat_victims.person_key = victim_crimes.person_key
where coalesce(victim_crimes.crimes, 0) < {{ setting('repeat_victim')['min_crimes'] }}
