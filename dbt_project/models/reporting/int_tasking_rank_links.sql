{%- set perp = setting('perpetrators') -%}
{%- set rfgv = setting('rfgv') -%}
{%- set lookback_months = [perp['serial_lookback_years'] * 12, rfgv['lookback_months']] | max -%}
{%- set rule_joins = setting('resolution')['rule_joins'] -%}
-- The weakest link a high-harm subject's rank rests on (the tasking list's link confidence):
-- the lowest match probability among the links that join the records the rank is scored on,
-- the subject's mentions on its stalking crimes in the look-back and each counted
-- (established) victim's mentions on those crimes. A person's records hang together by the
-- links of its maximum spanning forest (person_match_evidence.holds_person); the links that
-- join some of them are those of the smallest subtree holding them all: a link whose removal
-- leaves those records on both sides. A link to an intelligence report or an order the rank
-- does not count is not among them, so a subject whose six crimes sit on one nominal rests on
-- no scored link (1.0), whatever joins its intelligence (perpetrators.weakest_link_probability
-- is the whole identity's and its counted victims'). A rule join (no score) counts at its
-- rule's figure (settings resolution.rule_joins, as cluster_min_probability does).
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

subjects as (
    select
        quarter,
        person_key
    from {{ ref('perpetrators') }}
    where is_high_harm
),

perpetrations as (
    select * from {{ ref('int_perpetrations') }}
),

counted_victims as (
    select
        quarter,
        person_key,
        victim_person_key
    from {{ ref('int_perpetrator_victims') }}
    where is_established
),

mentions as (
    select
        source || ':' || record_key as mention_id,
        person_key,
        person_id,
        role_side,
        crime_id
    from {{ source('resolution', 'person_records') }}
),

-- the crimes that score each subject's rank in its quarter
scored_crimes as (
    select distinct
        subjects.quarter,
        subjects.person_key,
        perpetrations.crime_id
    from subjects
    inner join quarters on subjects.quarter = quarters.quarter
    inner join perpetrations
        on
            subjects.person_key = perpetrations.person_key
            and perpetrations.reported_date > quarters.q_end - interval {{ lookback_months }} month
            and quarters.q_end >= perpetrations.reported_date
),

-- the records the rank rests on, per subject and quarter, each in its own person's tree
-- (the subject's, or a counted victim's)
terminals as (
    select distinct
        scored_crimes.quarter,
        scored_crimes.person_key,
        mentions.person_key as tree_key,
        mentions.person_id,
        mentions.mention_id
    from scored_crimes
    inner join mentions
        on scored_crimes.crime_id = mentions.crime_id and mentions.mention_id like 'crime_persons:%'
    left join counted_victims
        on
            scored_crimes.quarter = counted_victims.quarter
            and scored_crimes.person_key = counted_victims.person_key
            and mentions.person_key = counted_victims.victim_person_key
    where
        (mentions.role_side = 'perpetrator' and mentions.person_key = scored_crimes.person_key)
        or (mentions.role_side = 'victim' and counted_victims.victim_person_key is not null)
),

links as (
    select
        evidence.person_key as tree_key,
        evidence.mention_id_l,
        evidence.mention_id_r,
        evidence.joined_by,
        case evidence.joined_by
            when 'second_id' then {{ rule_joins['second_id']['probability'] }}
            when 'unknown_suspect' then {{ rule_joins['unknown_suspect']['probability'] }}
            else evidence.match_probability
        end as probability
    from {{ source('resolution', 'person_match_evidence') }} as evidence
    where
        evidence.holds_person
        and evidence.person_key in (select terminals.tree_key from terminals)
),

-- the records in each tree: the evidence lists one record of a nominal id's records (they are
-- one nominal, joined at 1.0), so a record it does not list stands as its nominal's listed one
tree_records as (
    select
        nodes.tree_key,
        nodes.mention_id,
        mentions.person_id
    from (
        select
            tree_key,
            mention_id_l as mention_id
        from links
        union
        select
            tree_key,
            mention_id_r
        from links
    ) as nodes
    inner join mentions on nodes.mention_id = mentions.mention_id
),

rank_records as (
    select distinct
        terminals.quarter,
        terminals.person_key,
        terminals.tree_key,
        coalesce(listed.mention_id, (
            select min(nominal.mention_id)
            from tree_records as nominal
            where
                nominal.tree_key = terminals.tree_key
                and nominal.person_id = terminals.person_id
        )) as mention_id
    from terminals
    left join tree_records as listed
        on terminals.tree_key = listed.tree_key and terminals.mention_id = listed.mention_id
),

-- each tree walked from its least record: every record with the path of records from the
-- root to it and the link that reaches it
walked as (
    with recursive walk (tree_key, mention_id, came_from, path, probability, joined_by) as (
        select
            roots.tree_key,
            roots.mention_id,
            cast(null as varchar),
            [roots.mention_id],
            cast(null as double),
            cast(null as varchar)
        from (
            select
                tree_key,
                min(least(mention_id_l, mention_id_r)) as mention_id
            from links
            group by tree_key
        ) as roots
        union all
        select
            walk.tree_key,
            next_link.next_id,
            walk.mention_id,
            list_append(walk.path, next_link.next_id),
            next_link.probability,
            next_link.joined_by
        from walk
        inner join (
            select
                tree_key,
                mention_id_l as from_id,
                mention_id_r as next_id,
                probability,
                joined_by
            from links
            union all
            select
                tree_key,
                mention_id_r,
                mention_id_l,
                probability,
                joined_by
            from links
        ) as next_link
            on
                walk.tree_key = next_link.tree_key
                and walk.mention_id = next_link.from_id
                and next_link.next_id is distinct from walk.came_from
    )

    select * from walk
),

-- per subject, quarter and tree: how many of its records the rank rests on it holds, and how
-- many lie below each link (the link reaching a record is named by that record)
terminal_counts as (
    select
        quarter,
        person_key,
        tree_key,
        count(*) as terminals_in_tree
    from rank_records
    where mention_id is not null
    group by quarter, person_key, tree_key
),

below as (
    select
        rank_records.quarter,
        rank_records.person_key,
        rank_records.tree_key,
        unnest(walked.path[2:]) as link_to
    from rank_records
    inner join walked
        on
            rank_records.tree_key = walked.tree_key
            and rank_records.mention_id = walked.mention_id
),

link_counts as (
    select
        quarter,
        person_key,
        tree_key,
        link_to,
        count(*) as terminals_below
    from below
    group by quarter, person_key, tree_key, link_to
),

-- the links of the smallest subtree holding those records: some below and some not
rank_links as (
    select
        link_counts.quarter,
        link_counts.person_key,
        walked.probability,
        walked.joined_by
    from link_counts
    inner join terminal_counts
        on
            link_counts.quarter = terminal_counts.quarter
            and link_counts.person_key = terminal_counts.person_key
            and link_counts.tree_key = terminal_counts.tree_key
    inner join walked
        on link_counts.tree_key = walked.tree_key and link_counts.link_to = walked.mention_id
    where link_counts.terminals_below < terminal_counts.terminals_in_tree
),

final as (
    select
        subjects.quarter,
        subjects.person_key,
        round(coalesce(min(rank_links.probability), 1.0), 4) as weakest_link_probability,
        nullif(array_to_string(list_sort(list_distinct(list(rank_links.joined_by) filter (
            where rank_links.joined_by in ('second_id', 'unknown_suspect')
        ))), ','), '') as weakest_link_rule_joins
    from subjects
    left join rank_links
        on subjects.quarter = rank_links.quarter and subjects.person_key = rank_links.person_key
    group by subjects.quarter, subjects.person_key
)

select * from final
