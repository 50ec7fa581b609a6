-- Every crime identified by screening is a screening candidate and vice versa (when screening
-- feeds the universe), and no candidate is already stalking by its classification.
{%- if setting('stalking_universe')['use_screening'] %}
with

screened as (
    select crime_id from {{ ref('stalking_crimes') }}
    where identified_by = 'screened'
),

candidates as (
    select crime_id from {{ ref('screening_candidates') }}
),

mismatches as (
    select
        coalesce(screened.crime_id, candidates.crime_id) as crime_id,
        case when screened.crime_id is null then 'candidate not in universe' else 'screened without candidate' end
            as problem
    from screened
    full outer join candidates
        on screened.crime_id = candidates.crime_id
    where screened.crime_id is null or candidates.crime_id is null
)

select * from mismatches
{%- else %}
select crime_id from {{ ref('stalking_crimes') }}
where identified_by = 'screened'
{%- endif %}
