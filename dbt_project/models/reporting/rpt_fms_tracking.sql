-- The FMS early warning (marts.forecast_tracking) with the series' printed label: the latest
-- complete quarter's recorded total against the 80% range forecast a quarter earlier.
with

tracking as (
    select * from {{ source('forecasting', 'forecast_tracking') }}
),

final as (
    select
        tracking.series,
        case
            when tracking.series = 'all_stalking' then 'All stalking-universe crimes'
            else replace(replace(tracking.series, '_', ' '), 'non domestic', 'not domestic')
        end as series_label,
        tracking.quarter,
        tracking.actual,
        tracking.expected,
        tracking.lo80,
        tracking.hi80,
        coalesce(tracking.outside_interval, false) as outside_interval,
        tracking.direction,
        tracking.model
    from tracking
)

select * from final
