-- What the demand history (marts.demand_series, the forecast and the FMS files) leaves out or
-- cannot count, in words, for the whole delivery: the crimes reported before continuous
-- recording starts (int_recording_months.history_start) and each run of months inside the
-- history in which the delivery holds no crime of any kind (a delivery gap). The profile's
-- data-quality section (rpt_data_quality_caveats) and the FMS README (rpt_fms_readme) print them.
{% set gap_months = setting('forecasting')['history_gap_months'] %}
with

recording as (
    select * from {{ ref('int_recording_months') }}
),

crimes as (
    select cast(date_trunc('month', reported_date) as date) as month_start
    from {{ ref('stg_crimes') }}
    where reported_date is not null
),

universe as (
    select cast(date_trunc('month', reported_date) as date) as month_start
    from {{ ref('stalking_crimes') }}
),

history as (
    select
        max(history_start) as history_start,
        -- the empty run that ends the earlier part: the month before history_start is its last
        max(empty_run_months) filter (where month_start = history_start - interval 1 month) as empty_months
    from recording
),

before_counts as (
    select
        (select count(*) from crimes inner join history on crimes.month_start < history.history_start)
            as crimes_before,
        (select count(*) from universe inner join history on universe.month_start < history.history_start)
            as stalking_crimes_before
),

left_out as (
    select
        history.history_start,
        history.empty_months,
        before_counts.crimes_before,
        before_counts.stalking_crimes_before
    from history
    cross join before_counts
    where history.history_start is not null
),

coverage_note as (
    select
        1 as note_order,
        'history_start' as note_kind,
        history_start as first_month,
        history_start as last_month,
        format('{:,}', crimes_before) || case when crimes_before = 1 then ' crime' else ' crimes' end
        || ' reported before ' || strftime(history_start, '%B %Y') || ' ('
        || format('{:,}', stalking_crimes_before) || ' in the stalking universe) '
        || case when crimes_before = 1 then 'is' else 'are' end
        || ' left out of the demand history (the forecast and the FMS files): the delivery holds '
        || 'no crime of any kind in the ' || format('{:,}', empty_months) || ' months before '
        || strftime(history_start, '%B %Y') || ', so the force''s recording is not continuous '
        || 'before then (the history starts after the last run of '
        || '{{ gap_months }} or more months without a crime) and those years are not demand '
        || 'of zero. They are counted everywhere else in the profile.' as note
    from left_out
    where crimes_before > 0
),

-- runs of consecutive gap months (gaps and islands)
gap_runs as (
    select
        month_start,
        month_start - to_months(cast(row_number() over (order by month_start) as integer)) as run_key
    from recording
    where is_delivery_gap
),

runs as (
    select
        min(month_start) as first_month,
        max(month_start) as last_month,
        count(*) as months
    from gap_runs
    group by run_key
),

gap_notes as (
    select
        cast(1 + row_number() over (order by first_month) as integer) as note_order,
        'delivery_gap' as note_kind,
        first_month,
        last_month,
        'The delivery holds no crime of any kind reported in '
        || strftime(first_month, '%B %Y')
        || case when months > 1 then ' to ' || strftime(last_month, '%B %Y') else '' end
        || ' (' || months || case when months = 1 then ' month' else ' months' end
        || ' inside an otherwise continuous history): a gap in the delivery, not a fall in crime. '
        || 'The demand history holds no value for '
        || case when months = 1 then 'it' else 'them' end
        || ' (missing, not zero: the forecast fits its models through the gap on the straight '
        || 'line between the months either side), the FMS History marks the year holding '
        || case when months = 1 then 'it' else 'them' end
        || ', and the assessment neither judges a quarter holding '
        || case when months = 1 then 'it' else 'them' end
        || ' nor compares another quarter with one.' as note
    from runs
),

final as (
    select
        cast(note_order as integer) as note_order,
        note_kind,
        first_month,
        last_month,
        note
    from coverage_note
    union all
    select
        note_order,
        note_kind,
        first_month,
        last_month,
        note
    from gap_notes
)

select * from final
