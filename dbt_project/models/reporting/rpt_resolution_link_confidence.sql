-- OFFICIAL-SENSITIVE page, counts only: how sure the resolved people are. Every person of two
-- or more records by the weakest link it rests on (marts.person_records.cluster_min_probability:
-- the weakest of the strongest links holding its records together), with how many of them are
-- on the profiled quarter's tasking list: the restricted diagnostics page prints it so an
-- analyst sees how many people, and how many tasking subjects, rest on doubtful joins. The
-- bands are those of the resolution evaluation's warning table (docs/evaluation/resolution.md).
with

records as (
    select
        person_key,
        cluster_min_probability
    from {{ source('resolution', 'person_records') }}
),

persons as (
    select
        person_key,
        count(*) as records,
        min(cluster_min_probability) as weakest_link
    from records
    group by person_key
    having count(*) > 1
),

listed as (
    select distinct person_key
    from {{ ref('rpt_tasking_list') }}
    where quarter = {{ profile_quarter() }} and is_on_tasking_list
),

bands (band_order, band_label, lower_bound, upper_bound) as (
    values
    (1, 'below 0.6', 0.0, 0.6),
    (2, '0.6 to 0.8', 0.6, 0.8),
    (3, '0.8 to 0.95', 0.8, 0.95),
    (4, '0.95 and over', 0.95, 1.01)
)

select
    bands.band_order,
    bands.band_label,
    count(persons.person_key) as persons,
    cast(coalesce(sum(persons.records), 0) as bigint) as records,
    count(listed.person_key) as tasking_subjects
from bands
left join persons
    on
        bands.lower_bound <= persons.weakest_link
        and bands.upper_bound > persons.weakest_link
left join listed on persons.person_key = listed.person_key
group by bands.band_order, bands.band_label
order by bands.band_order
