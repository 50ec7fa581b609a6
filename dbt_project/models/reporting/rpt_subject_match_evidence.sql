-- OFFICIAL-SENSITIVE. How resolution joined the records of each subject on any quarter's
-- tasking list: one row per pair with the match probability and weight per field.
with

subjects as (
    select distinct person_key from {{ ref('rpt_tasking_list') }}
),

evidence as (
    select * from {{ source('resolution', 'person_match_evidence') }}
),

final as (
    select
        evidence.person_key,
        evidence.mention_id_l,
        evidence.mention_id_r,
        evidence.joined_by,
        evidence.match_probability,
        evidence.match_weight,
        evidence.mw_forename,
        evidence.mw_surname,
        evidence.mw_dob,
        evidence.mw_postcode,
        evidence.mw_sex,
        evidence.mw_counterpart,
        evidence.mw_crime_role,
        evidence.mw_active
    from evidence
    inner join subjects on evidence.person_key = subjects.person_key
)

select * from final
