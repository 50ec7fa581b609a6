-- Where the force's recording is continuous: every calendar month from the first to the last
-- crime reported (any offence, stg_crimes), with the crimes reported in it. A run of empty
-- months of at least forecasting.history_gap_months says the system did not record then (stray
-- crimes typed years early, an old archive): the demand history starts at the first month after
-- the last such run (history_start). An empty month after it is a delivery gap: the force
-- records crimes every month, so nothing at all means nothing was delivered, not no demand.
{% set gap_months = setting('forecasting')['history_gap_months'] %}
with

crimes as (
    select cast(date_trunc('month', reported_date) as date) as month_start
    from {{ ref('stg_crimes') }}
    where reported_date is not null
),

bounds as (
    select
        min(month_start) as first_month,
        max(month_start) as last_month
    from crimes
),

months as (
    select cast(series.month_start as date) as month_start
    from bounds
    cross join generate_series(bounds.first_month, bounds.last_month, interval 1 month) as series (month_start)
),

counted as (
    select
        months.month_start,
        count(crimes.month_start) as crimes_reported
    from months
    left join crimes on months.month_start = crimes.month_start
    group by months.month_start
),

-- each empty month belongs to the run that follows the last month with crimes (gaps and islands)
runs as (
    select
        month_start,
        crimes_reported,
        count(*) filter (where crimes_reported > 0) over (order by month_start) as run_key
    from counted
),

run_lengths as (
    select
        *,
        count(*) filter (where crimes_reported = 0) over (partition by run_key) as empty_run_months
    from runs
),

history_start as (
    select
        coalesce(
            min(month_start) filter (
                where crimes_reported > 0
                and month_start > (
                    select max(inner_runs.month_start)
                    from run_lengths as inner_runs
                    where inner_runs.crimes_reported = 0 and inner_runs.empty_run_months >= {{ gap_months }}
                )
            ),
            min(month_start)
        ) as history_start
    from run_lengths
),

final as (
    select
        run_lengths.month_start,
        cast(run_lengths.crimes_reported as bigint) as crimes_reported,
        cast(case when run_lengths.crimes_reported = 0 then run_lengths.empty_run_months else 0 end as bigint)
            as empty_run_months,
        history_start.history_start,
        run_lengths.month_start < history_start.history_start as is_before_history,
        run_lengths.crimes_reported = 0 and run_lengths.month_start >= history_start.history_start
            as is_delivery_gap
    from run_lengths
    cross join history_start
)

select * from final
