-- Recorded and forecast demand at the one granularity the profile's forecast section shows
-- (quarters when forecast, else months), with each series' printed label, its family (series
-- that split the same total are suppressed together) and its place in the section.
with

forecast as (
    select * from {{ source('forecasting', 'demand_forecast') }}
),

granularity as (
    select
        case
            when bool_or(period = 'quarter') then 'quarter'
            when bool_or(period = 'month') then 'month'
        end as period
    from forecast
),

headline_series as (
    select
        named.series,
        named.priority
    from (
        values
        ('all_stalking', 1), ('all', 2), ('total', 3), ('domestic_abuse', 4),
        ('non_domestic_abuse', 5), ('online', 6), ('offline', 7), ('breaches', 8)
    ) as named (series, priority)
),

shown as (
    select
        forecast.*,
        coalesce(granularity.period, 'month') as granularity
    from forecast
    cross join granularity
    where granularity.period is null or forecast.period = granularity.period
),

final as (
    select
        shown.series,
        case
            when shown.series = 'all_stalking' then 'all stalking-universe crimes'
            else replace(replace(shown.series, '_', ' '), 'non domestic', 'non-domestic')
        end as series_label,
        case
            when shown.series in ('domestic_abuse', 'non_domestic_abuse') then 'da'
            when shown.series in ('online', 'offline') then 'online'
            when starts_with(shown.series, 'identified_') then 'identified_'
            when starts_with(shown.series, 'category_') then 'category_'
            else shown.series
        end as series_family,
        cast(dense_rank() over (order by coalesce(headline_series.priority, 100), shown.series) as integer)
            as series_order,
        shown.granularity,
        shown.period_start,
        case
            when shown.granularity = 'quarter'
                then cast(year(shown.period_start) as varchar) || '-Q' || cast(quarter(shown.period_start) as varchar)
            else strftime(shown.period_start, '%Y-%m')
        end as period_label,
        shown.kind,
        shown.value,
        shown.lo80,
        shown.hi80,
        shown.lo95,
        shown.hi95,
        shown.model
    from shown
    left join headline_series on shown.series = headline_series.series
)

select * from final
