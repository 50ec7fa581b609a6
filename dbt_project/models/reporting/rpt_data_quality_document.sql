-- data_quality.json as spec/outputs.md lays it out, one JSON document: per extract from
-- rpt_data_quality (rows read, loaded and quarantined, by rule, whether it reconciles, the
-- unlinked references, the file's name and format, the columns ignored, the force area, the
-- load's seconds to the millisecond, the rules accepted over their limit, and the notes of a
-- mapping file's application when it left any), then the run-wide
-- figures of rpt_data_quality_totals. Counts of records, not people: published exactly.
with

extracts as (
    select * from {{ ref('rpt_data_quality') }}
),

totals as (
    select * from {{ ref('rpt_data_quality_totals') }}
),

by_extract as (
    select
        json_group_object(
            extracts.extract,
            json_merge_patch(json_object(
                'read', extracts.rows_read,
                'loaded', extracts.rows_loaded,
                'quarantined', extracts.rows_quarantined,
                'by_rule', cast(coalesce(extracts.by_rule_json, '{}') as json),
                'reconciles', extracts.reconciles,
                'unlinked_soft_links',
                cast(coalesce(extracts.unlinked_soft_links_json, '{}') as json),
                'file', coalesce(extracts.file_name, ''),
                'format', coalesce(extracts.format, ''),
                -- the load log joins the ignored columns' names with ', '
                'extra_columns_ignored', case
                    when coalesce(extracts.extra_columns_ignored, '') = '' then []
                    else string_split(extracts.extra_columns_ignored, ', ')
                end,
                'force_area', extracts.force_area,
                'seconds', round(coalesce(extracts.seconds, 0), 3),
                'over_limit_accepted', coalesce(extracts.over_limit_accepted, [])
            ),
            -- only when there are some: a delivery without a mapping file keeps its layout
            case
                when len(extracts.notes) > 0 then json_object('notes', extracts.notes)
                else cast('{}' as json)
            end)
        ) as extracts_json
    from extracts
),

final as (
    select
        cast(
            json_object(
                'extracts', coalesce(by_extract.extracts_json, cast('{}' as json)),
                'force_area', totals.force_area,
                'run_id', totals.run_id,
                'reconciles', totals.reconciles,
                'totals', json_object(
                    'read', totals.rows_read,
                    'loaded', totals.rows_loaded,
                    'quarantined', totals.rows_quarantined
                ),
                'unlinked_soft_links', cast(totals.unlinked_soft_links_json as json)
            ) as varchar
        ) as document
    from totals
    cross join by_extract
)

select * from final
