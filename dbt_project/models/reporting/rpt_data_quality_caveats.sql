-- The caveats the scope and data-quality section prints under its table, in print order: per
-- quarter, the share of its stalking crimes without a usable location (rpt_data_scope); for the
-- whole delivery (quarter null), whether the loaded and quarantined counts reconcile and, per
-- soft link, the references that point to no crime (rpt_data_quality); then what the demand
-- history leaves out: crimes before continuous recording, delivery gaps (rpt_demand_history_notes).
with

scope as (
    select * from {{ ref('rpt_data_scope') }}
),

data_quality as (
    select * from {{ ref('rpt_data_quality') }}
),

without_location as (
    select
        quarter,
        1 as caveat_order,
        format('{:.0f}', share_without_location * 100) || '% of this quarter''s stalking crimes '
        || 'have no usable location and are absent from the hotspot analysis.' as caveat
    from scope
    where share_without_location is not null
),

reconciliation as (
    select
        cast(null as varchar) as quarter,
        2 as caveat_order,
        case
            when bool_and(reconciles)
                then 'Every input row was either loaded or quarantined (the counts reconcile).'
            else 'Warning: the loaded and quarantined counts do not add up to the rows read.'
        end as caveat
    from data_quality
    having count(*) > 0
),

-- A link is named '<extract>.<column>-><table>.<column>'; only whole, non-zero counts are said.
unlinked as (
    select
        data_quality.extract || '.' || links.key as link,
        cast(links.value as bigint) as references_unlinked
    from data_quality
    cross join json_each(coalesce(data_quality.unlinked_soft_links_json, '{}')) as links
    where
        json_type(links.value) in ('BIGINT', 'UBIGINT')
        and cast(links.value as bigint) <> 0
),

unlinked_caveats as (
    select
        cast(null as varchar) as quarter,
        2 + row_number() over (order by link) as caveat_order,
        format('{:,}', references_unlinked)
        || case when references_unlinked = 1 then ' reference in ' else ' references in ' end
        || replace(split_part(link, '->', 1), '.', ' ')
        || case
            when references_unlinked = 1
                then ' points to a crime not in the crimes extract; that record is kept but cannot be '
            else ' point to crimes not in the crimes extract; those records are kept but cannot be '
        end
        || 'joined to a crime.' as caveat
    from unlinked
),

history_notes as (
    select
        cast(null as varchar) as quarter,
        -- after the reconciliation and the unlinked references (one per soft link)
        1000 + note_order as caveat_order,
        note as caveat
    from {{ ref('rpt_demand_history_notes') }}
)

select * from without_location
union all
select * from reconciliation
union all
select * from unlinked_caveats
union all
select * from history_notes
