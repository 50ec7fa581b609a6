-- What data_quality.json publishes: per extract of the run's delivery, rows read, loaded and
-- quarantined (with the counts by rule) and the references that could not be joined. The file's
-- name only, never its path (the summary is published).
-- The profile's table adds the quarantined share and the four most frequent rules (and how many
-- other rules quarantined how many rows: four of eight equal reasons must not read as the lot).
with

load_log as (
    select * from {{ source('raw', 'load_log') }}
),

rules as (
    select
        extract,
        unnest(map_keys(json_transform(by_rule, '"MAP(VARCHAR, BIGINT)"'))) as rule_name,
        unnest(map_values(json_transform(by_rule, '"MAP(VARCHAR, BIGINT)"'))) as rule_rows
    from load_log
),

main_rules as (
    select
        extract,
        array_to_string(
            list(
                replace(rule_name, '_', ' ') || ' (' || format('{:,}', rule_rows) || ')'
                order by rule_rows desc, rule_name asc
            )[1:4],
            ', '
        )
        || case
            when count(*) > 4
                then
                    ' and ' || (count(*) - 4) || ' other rule' || case when count(*) > 5 then 's' else '' end
                    || ' (' || format(
                        '{:,}', sum(rule_rows) - list_sum(list(rule_rows order by rule_rows desc, rule_name asc)[1:4])
                    ) || ')'
            else ''
        end as main_rules
    from rules
    group by extract
)

select
    load_log.extract,
    regexp_extract(load_log.file, '[^/\\]*$') as file_name,
    load_log.format,
    load_log.rows_read,
    load_log.rows_loaded,
    load_log.rows_quarantined,
    load_log.rows_read = load_log.rows_loaded + load_log.rows_quarantined as reconciles,
    cast(load_log.by_rule as varchar) as by_rule_json,
    cast(load_log.unlinked_detail as varchar) as unlinked_soft_links_json,
    coalesce(load_log.force_area, '') as force_area,
    coalesce(load_log.extra_columns_ignored, '') as extra_columns_ignored,
    coalesce(load_log.over_limit_accepted, []) as over_limit_accepted,
    -- what applying a mapping file noticed and did not stop for (a date format no value confirms)
    coalesce(load_log.notes, []) as notes,
    load_log.run_id,
    load_log.seconds,
    coalesce(load_log.rows_quarantined / nullif(load_log.rows_read, 0), 0) as quarantined_share,
    coalesce(nullif(main_rules.main_rules, ''), '–') as main_rules
from load_log
left join main_rules on load_log.extract = main_rules.extract
order by load_log.extract
