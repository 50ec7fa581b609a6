-- The quarter spine: every calendar quarter from the first crime reported to the later of the
-- last crime reported and the quarter being profiled, so that a quarter with no crimes still
-- gets its rows (zeros, not gaps). q_end is the quarter's last day.
with

bounds as (
    select
        coalesce(
            min(cast(date_trunc('quarter', reported_date) as date)),
            {{ quarter_start_date(profile_quarter()) }}
        ) as first_start,
        greatest(
            max(cast(date_trunc('quarter', reported_date) as date)),
            {{ quarter_start_date(profile_quarter()) }}
        ) as last_start
    from {{ ref('stg_crimes') }}
),

spine as (
    select cast(series.quarter_start as date) as q_start
    from bounds
    cross join generate_series(bounds.first_start, bounds.last_start, interval 3 month) as series (quarter_start)
),

final as (
    select
        {{ quarter_of('q_start') }} as quarter,
        q_start,
        cast(q_start + interval 3 month - interval 1 day as date) as q_end,
        -- the quarters a figure is compared with (the previous one, the same one a year ago)
        {{ quarter_of("q_start - interval 3 month") }} as previous_quarter,
        {{ quarter_of("q_start - interval 12 month") }} as year_ago_quarter
    from spine
)

select * from final
