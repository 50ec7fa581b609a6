-- OFFICIAL-SENSITIVE. How resolution joined the records of each subject on any quarter's
-- tasking list: one row per pair with the match probability and weight per field, worded as
-- the subject page prints it: the records' references, how they were joined, the three fields
-- that weighed most for the join and any that weighed against it (below -1). evidence_order
-- puts the weakest of the links that hold the records together first (holds_person: the joins
-- worth checking); the page prints the first four of those. A link that does not hold the
-- person together only confirms records a stronger path already joins: doubting it changes
-- nothing, so it is counted under the table, not listed.
with

subjects as (
    select distinct person_key from {{ ref('rpt_tasking_list') }}
),

evidence as (
    select * from {{ source('resolution', 'person_match_evidence') }}
),

pairs as (
    select
        evidence.*,
        row_number() over () as pair_id,
        row_number() over (
            partition by evidence.person_key
            order by
                -- a rule join (second id, unknown suspect) has no score: among the first to check
                evidence.joined_by in ('second_id', 'unknown_suspect') desc,
                evidence.holds_person desc,
                evidence.match_weight asc nulls last,
                evidence.mention_id_l asc,
                evidence.mention_id_r asc
        ) as evidence_order,
        count(*) filter (where evidence.holds_person) over (
            partition by evidence.person_key
        ) as holding_pairs,
        count(*) filter (where not evidence.holds_person) over (
            partition by evidence.person_key
        ) as confirming_pairs
    from evidence
    inner join subjects on evidence.person_key = subjects.person_key
),

-- each field's weight with its words, one row per pair and field
field_weights as (
    select
        pairs.pair_id,
        fields.field_order,
        fields.field_label,
        case fields.field_order
            when 1 then pairs.mw_forename
            when 2 then pairs.mw_surname
            when 3 then pairs.mw_dob
            when 4 then pairs.mw_postcode
            when 5 then pairs.mw_sex
            when 6 then pairs.mw_counterpart
            when 7 then pairs.mw_crime_role
            when 8 then pairs.mw_active
            when 9 then pairs.mw_nominal_id
        end as weight
    from pairs
    cross join (
        values
        (1, 'forename'),
        (2, 'surname'),
        (3, 'date of birth'),
        (4, 'postcode'),
        (5, 'sex'),
        (6, 'same other party'),
        (7, 'role'),
        (8, 'active in same period'),
        (9, 'different nominal ids')
    ) as fields (field_order, field_label)
),

-- the strongest first; ties keep the order the fields are listed in
ranked_weights as (
    select
        field_weights.*,
        row_number() over (
            partition by field_weights.pair_id
            -- the nominal ids' weight is worded only against a join (two ids: below -1): for
            -- a join, "same nominal id" is its own label, and two records without an id
            -- weigh a little for one (+2.6 bits on the force preset) without telling a reader
            -- anything about these two people
            order by field_weights.field_order = 9, field_weights.weight desc, field_weights.field_order asc
        ) as strength
    from field_weights
    where field_weights.weight is not null and not isnan(field_weights.weight)
),

worded as (
    select
        ranked_weights.pair_id,
        string_agg(
            ranked_weights.field_label || ' ' || printf('%+.1f', ranked_weights.weight),
            ', ' order by ranked_weights.strength
        ) filter (where ranked_weights.strength <= 3 and ranked_weights.field_order != 9) as evidence_for,
        string_agg(ranked_weights.field_label, ', ' order by ranked_weights.field_order)
        filter (where ranked_weights.weight < -1) as evidence_against
    from ranked_weights
    group by ranked_weights.pair_id
),

final as (
    select
        pairs.person_key,
        pairs.mention_id_l,
        pairs.mention_id_r,
        pairs.joined_by,
        pairs.match_probability,
        pairs.match_weight,
        pairs.mw_forename,
        pairs.mw_surname,
        pairs.mw_dob,
        pairs.mw_postcode,
        pairs.mw_sex,
        pairs.mw_counterpart,
        pairs.mw_crime_role,
        pairs.mw_active,
        pairs.mw_nominal_id,
        pairs.holds_person,
        cast(pairs.evidence_order as integer) as evidence_order,
        pairs.holds_person and pairs.evidence_order <= 4 as is_shown,
        cast(
            greatest(pairs.holding_pairs - 4, 0) + pairs.confirming_pairs as integer
        ) as rows_not_shown,
        -- the record's reference without its source prefix
        regexp_replace(pairs.mention_id_l, '^[^:]*:', '') as left_reference,
        regexp_replace(pairs.mention_id_r, '^[^:]*:', '') as right_reference,
        case pairs.joined_by
            when 'nominal_id' then 'same nominal id'
            when 'second_id' then 'second id: the one known person on its side (no score)'
            when 'unknown_suspect' then 'unknown suspect of the same victim within a year (no score)'
            else 'Splink'
        end as joined_by_label,
        coalesce(worded.evidence_for, '') as evidence_for,
        coalesce(worded.evidence_against, '') as evidence_against,
        -- the page's line under the evidence table
        'The ' || least(pairs.holding_pairs, 4) || ' weakest link'
        || case when pairs.holding_pairs = 1 then '' else 's' end
        || ' of the ' || pairs.holding_pairs || ' holding these records together'
        || case
            when pairs.holding_pairs > 4
                then ' (' || (pairs.holding_pairs - 4) || ' stronger not shown)'
            else ''
        end
        || ': the joins worth checking first.'
        || case
            when pairs.confirming_pairs = 1
                then ' 1 further link only confirms records already joined by stronger ones.'
            when pairs.confirming_pairs > 1
                then
                    ' ' || pairs.confirming_pairs
                    || ' further links only confirm records already joined by stronger ones.'
            else ''
        end as evidence_note
    from pairs
    left join worded
        on pairs.pair_id = worded.pair_id
)

select * from final
