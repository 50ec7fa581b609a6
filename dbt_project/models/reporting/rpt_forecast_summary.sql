-- One row per forecast series of the forecast section: the model, the forecast total of the
-- next year (4 quarters or 12 months) and of the whole horizon, the last forecast period and
-- its 95% interval. The recorded total of the last year is summed at publish time from the
-- published (disclosure-controlled) values, so it is not here.
with

demand as (
    select * from {{ ref('rpt_demand_forecast') }}
),

forecasts as (
    select
        *,
        row_number() over (partition by series order by period_start) as step,
        row_number() over (partition by series order by period_start desc) as steps_to_end,
        case when granularity = 'quarter' then 4 else 12 end as periods_per_year
    from demand
    where kind = 'forecast'
),

final as (
    select
        series,
        any_value(series_label) as series_label,
        any_value(series_order) as series_order,
        coalesce(arg_min(model, period_start) filter (where model is not null), '–') as model,
        sum(value) filter (where step <= periods_per_year) as forecast_next_year,
        sum(value) as forecast_horizon_total,
        any_value(period_label) filter (where steps_to_end = 1) as last_period_label,
        any_value(lo95) filter (where steps_to_end = 1) as lo95_last_period,
        any_value(hi95) filter (where steps_to_end = 1) as hi95_last_period
    from forecasts
    group by series
)

select * from final
