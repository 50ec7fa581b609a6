-- Demand series for forecasting and the FMS: counts of stalking-universe crimes (by reported
-- date) per month and per quarter, in total, DA / non-DA, online / offline, by identification
-- route and by principal offence category, plus recorded order breaches (by breach date).
-- Zero-filled over every period from the start of continuous recording (int_recording_months'
-- history_start: crimes before a long run of months without any crime stay in every other
-- count, not here) to the last month of crime data; is_complete is false for a period that
-- the data do not fully cover (do not fit models to it). A period holding a month in which
-- the delivery has no crime of any kind (a delivery gap) has no value (null, is_delivery_gap):
-- missing, not a true zero.
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

stalking_crimes as (
    select * from {{ ref('int_stalking_crimes') }}
),

breaches as (
    select * from {{ ref('stg_breaches') }}
),

categories as (
    select distinct category from {{ ref('offence_codes') }}
    union
    select 'other' as category
),

recording as (
    select * from {{ ref('int_recording_months') }}
),

history as (
    select max(history_start) as history_start from recording
),

gap_months as (
    select month_start from recording
    where is_delivery_gap
),

data_end as (
    select max(reported_date) as last_date from {{ ref('stg_crimes') }}
),

bounds as (
    select
        min(q_start) as first_start,
        max(q_end) as last_end
    from quarters
),

months as (
    select cast(series.month_start as date) as period_start
    from bounds
    cross join generate_series(bounds.first_start, bounds.last_end, interval 1 month) as series (month_start)
),

all_periods as (
    select
        'month' as period,
        period_start,
        cast(period_start + interval 1 month - interval 1 day as date) as period_end
    from months
    union all
    select
        'quarter' as period,
        q_start as period_start,
        q_end as period_end
    from quarters
),

-- from the period holding the history's first month; a period with a gap month is a gap
periods as (
    select
        all_periods.period,
        all_periods.period_start,
        all_periods.period_end,
        exists(
            select 1 from gap_months
            where gap_months.month_start between all_periods.period_start and all_periods.period_end
        ) as is_delivery_gap
    from all_periods
    cross join history
    where history.history_start is null or all_periods.period_end >= history.history_start
),

-- one row per crime and each series it belongs to
crime_series as (
    select
        reported_date as event_date,
        'all_stalking' as series
    from stalking_crimes
    union all
    select
        reported_date as event_date,
        case when is_domestic_abuse then 'domestic_abuse' else 'non_domestic_abuse' end as series
    from stalking_crimes
    union all
    select
        reported_date as event_date,
        case when is_online then 'online' else 'offline' end as series
    from stalking_crimes
    union all
    select
        reported_date as event_date,
        'identified_' || identified_by as series
    from stalking_crimes
    union all
    select
        reported_date as event_date,
        'category_' || offence_category as series
    from stalking_crimes
    union all
    select
        breach_date as event_date,
        'breaches' as series
    from breaches
),

fixed_series as (
    select fixed.series
    from (
        values
        ('all_stalking'), ('domestic_abuse'), ('non_domestic_abuse'), ('online'), ('offline'),
        ('identified_principal'), ('identified_included'), ('identified_screened'), ('breaches')
    ) as fixed (series)
),

series_names as (
    select series from fixed_series
    union all
    select 'category_' || category as series from categories
),

grid as (
    select
        series_names.series,
        periods.period,
        periods.period_start,
        periods.period_end,
        periods.is_delivery_gap
    from series_names
    cross join periods
),

counted as (
    select
        grid.series,
        grid.period,
        grid.period_start,
        grid.period_end,
        grid.is_delivery_gap,
        count(crime_series.event_date) as value
    from grid
    left join crime_series
        on
            grid.series = crime_series.series
            and crime_series.event_date between grid.period_start and grid.period_end
    group by grid.series, grid.period, grid.period_start, grid.period_end, grid.is_delivery_gap
),

final as (
    select
        counted.series,
        counted.period,
        counted.period_start,
        case when not counted.is_delivery_gap then counted.value end as value,
        coalesce(counted.period_end <= data_end.last_date, false) as is_complete,
        counted.is_delivery_gap
    from counted
    cross join data_end
)

select * from final
