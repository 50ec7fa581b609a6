-- The FMS early warning (marts.forecast_tracking) with the series' printed label (the label
-- of rpt_fms_monthly, so a series reads the same on every sheet): the latest complete
-- quarter's recorded total against the 80% range forecast a quarter earlier.
with

tracking as (
    select * from {{ source('forecasting', 'forecast_tracking') }}
),

labels as (
    select distinct
        series,
        series_label
    from {{ ref('rpt_fms_monthly') }}
),

final as (
    select
        tracking.series,
        coalesce(labels.series_label, replace(tracking.series, '_', ' ')) as series_label,
        tracking.quarter,
        tracking.actual,
        tracking.expected,
        tracking.lo80,
        tracking.hi80,
        coalesce(tracking.outside_interval, false) as outside_interval,
        tracking.direction,
        tracking.model
    from tracking
    left join labels
        on tracking.series = labels.series
)

select * from final
