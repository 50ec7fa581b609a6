-- The run-wide figures of data_quality.json: the force area used (the first extract, by name,
-- that names one), the run id, whether every extract reconciles (read = loaded + quarantined),
-- rows read, loaded and quarantined over all extracts, and every unlinked reference count keyed
-- '<extract>.<link>' (as JSON). Counts of records, not people: published exactly.
with

extracts as (
    select * from {{ ref('rpt_data_quality') }}
),

unlinked as (
    select
        extracts.extract,
        unnest(
            map_keys(json_transform(extracts.unlinked_soft_links_json, '"MAP(VARCHAR, BIGINT)"'))
        ) as link,
        unnest(
            map_values(
                json_transform(extracts.unlinked_soft_links_json, '"MAP(VARCHAR, BIGINT)"')
            )
        ) as unlinked_rows
    from extracts
),

unlinked_keyed as (
    select
        cast(
            coalesce(
                json_group_object(unlinked.extract || '.' || unlinked.link, unlinked.unlinked_rows),
                '{}'
            ) as varchar
        ) as unlinked_soft_links_json
    from unlinked
),

totals as (
    select
        coalesce(
            arg_min(extracts.force_area, extracts.extract) filter (where extracts.force_area != ''),
            ''
        ) as force_area,
        coalesce(max(cast(extracts.run_id as varchar)), '') as run_id,
        coalesce(bool_and(extracts.reconciles), true) as reconciles,
        coalesce(sum(extracts.rows_read), 0) as rows_read,
        coalesce(sum(extracts.rows_loaded), 0) as rows_loaded,
        coalesce(sum(extracts.rows_quarantined), 0) as rows_quarantined
    from extracts
),

final as (
    select
        totals.force_area,
        totals.run_id,
        totals.reconciles,
        cast(totals.rows_read as bigint) as rows_read,
        cast(totals.rows_loaded as bigint) as rows_loaded,
        cast(totals.rows_quarantined as bigint) as rows_quarantined,
        unlinked_keyed.unlinked_soft_links_json
    from totals
    cross join unlinked_keyed
)

select * from final
