-- Demand series the forecasting step left unforecast because the delivery holds too few
-- periods to fit and test a model (forecast_accuracy rows with source 'not_forecast'), with the
-- printed label, so the profile and the FMS workbook say which series have no forecast and why.
-- Only the monthly series count: every published figure is a sum of months (rpt_fms_monthly),
-- so a quarterly series too short to forecast (when forecasting.periods includes quarters)
-- leaves no published figure without a forecast. fms/demand.csv prints a row per series here
-- (its `status` saying why), so a file with no forecast in it still says why.
with

not_forecast as (
    select distinct series
    from {{ source('forecasting', 'forecast_accuracy') }}
    where source = 'not_forecast' and period = 'month'
),

labels as (
    select distinct
        series,
        series_label
    from {{ ref('rpt_fms_monthly') }}
),

final as (
    select
        not_forecast.series,
        coalesce(labels.series_label, replace(not_forecast.series, '_', ' ')) as series_label,
        'not enough history' as reason,
        'not forecast: not enough history (the delivery holds too few months to fit and test '
        || 'a model)' as status
    from not_forecast
    left join labels
        on not_forecast.series = labels.series
)

select * from final
