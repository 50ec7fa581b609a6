{%- set rv = setting('repeat_victim') -%}
-- Repeat victims per quarter: resolved people who are the victim of min_crimes or more
-- stalking-universe crimes reported in the window_months up to the quarter's last day
-- (defaults 2 and 12 months). A person is counted by person_key, never by nominal id.
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

victimisations as (
    select * from {{ ref('int_victimisations') }}
),

pairs as (
    select * from {{ ref('int_crime_pairs') }}
),

windowed as (
    select
        quarters.quarter,
        quarters.q_start,
        quarters.q_end,
        victimisations.person_key,
        victimisations.crime_id,
        victimisations.reported_date,
        victimisations.is_domestic_abuse,
        victimisations.is_online
    from quarters
    inner join victimisations
        on
            victimisations.reported_date > quarters.q_end - interval {{ rv['window_months'] }} month
            and quarters.q_end >= victimisations.reported_date
),

-- a victim's crimes are distinct rows of int_victimisations (its crime_id, person_key test), so
-- they are counted as rows: a distinct count costs DuckDB a grouping of its own and a join back
aggregated as (
    select
        quarter,
        person_key,
        count(crime_id) as crimes_12m,
        count(crime_id) filter (where reported_date >= q_start) as crimes_in_quarter,
        min(reported_date) as first_reported_date_12m,
        max(reported_date) as last_reported_date_12m,
        bool_or(is_domestic_abuse) as has_domestic_abuse,
        bool_or(is_online) as has_online
    from windowed
    group by quarter, person_key
),

-- the repeat victims: final keeps only them, so only their suspects are counted
repeated as (
    select
        quarter,
        person_key
    from aggregated
    where crimes_12m >= {{ rv['min_crimes'] }}
),

-- each suspect once per quarter and repeat victim, then counted (a distinct count costs DuckDB
-- a grouping of its own and a join back); every victim's suspects in every window were grouped
-- before, for the repeat victims' to be read
victim_suspects as (
    select distinct
        windowed.quarter,
        windowed.person_key,
        pairs.suspect_person_key
    from windowed
    inner join pairs
        on
            windowed.crime_id = pairs.crime_id
            and windowed.person_key = pairs.victim_person_key
    inner join repeated
        on
            windowed.quarter = repeated.quarter
            and windowed.person_key = repeated.person_key
),

suspects as (
    select
        quarter,
        person_key,
        count(*) as suspects_12m
    from victim_suspects
    group by quarter, person_key
),

final as (
    select
        aggregated.quarter,
        aggregated.person_key,
        aggregated.crimes_12m,
        aggregated.crimes_in_quarter,
        aggregated.first_reported_date_12m,
        aggregated.last_reported_date_12m,
        coalesce(suspects.suspects_12m, 0) as suspects_12m,
        aggregated.has_domestic_abuse,
        aggregated.has_online
    from aggregated
    left join suspects
        on
            aggregated.quarter = suspects.quarter
            and aggregated.person_key = suspects.person_key
    where aggregated.crimes_12m >= {{ rv['min_crimes'] }}
)

select * from final
