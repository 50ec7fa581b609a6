-- What data_quality.json publishes: per extract of the run's delivery, rows read, loaded and
-- quarantined (with the counts by rule) and the references that could not be joined. The file's
-- name only, never its path (the summary is published).
with

load_log as (
    select * from {{ source('raw', 'load_log') }}
)

select
    extract,
    regexp_extract(file, '[^/\\]*$') as file_name,
    format,
    rows_read,
    rows_loaded,
    rows_quarantined,
    rows_read = rows_loaded + rows_quarantined as reconciles,
    cast(by_rule as varchar) as by_rule_json,
    cast(unlinked_detail as varchar) as unlinked_soft_links_json,
    coalesce(force_area, '') as force_area,
    coalesce(extra_columns_ignored, '') as extra_columns_ignored,
    coalesce(over_limit_accepted, []) as over_limit_accepted,
    run_id,
    seconds
from load_log
order by extract
