-- The one set of demand figures: recorded and forecast stalking demand per month for every
-- forecast series, from the monthly models only (the profile's quarters and the FMS workbook's
-- financial years are sums of these months, so they can never disagree). Forecasts are
-- reconciled top-down: the parts of a split (domestic abuse / not, online / offline) are
-- scaled, month by month, so that they add up to the forecast of all stalking-universe crimes.
-- The total's own model is kept because it rests on the most data and is the FMS headline;
-- the parts keep their models' shape and their share of each month. A part's interval is
-- scaled with it. Negative forecasts and bounds are read as zero (a count cannot be below 0).
-- A recorded month of a delivery gap (no crime of any kind delivered) has no value.
with

forecast as (
    select * from {{ source('forecasting', 'demand_forecast') }}
    -- the ensemble members' own forecasts are not demand figures (rpt_fms_departure reads them)
    where period = 'month' and kind in ('actual', 'forecast')
),

families as (
    select
        family.series,
        family.series_family,
        family.series_order,
        family.series_label
    from (
        values
        ('all_stalking', 'total', 1, 'All stalking-universe crimes'),
        ('domestic_abuse', 'domestic_abuse', 2, 'Domestic abuse'),
        ('non_domestic_abuse', 'domestic_abuse', 3, 'Not domestic abuse'),
        ('online', 'online', 4, 'Online'),
        ('offline', 'online', 5, 'Not online'),
        ('breaches', 'breaches', 6, 'Breaches of protective orders')
    ) as family (series, series_family, series_order, series_label)
),

clipped as (
    select
        forecast.series,
        coalesce(families.series_family, forecast.series) as series_family,
        coalesce(families.series_order, 100) as series_order,
        coalesce(families.series_label, replace(forecast.series, '_', ' ')) as series_label,
        forecast.period_start,
        forecast.kind,
        -- a recorded month without a value is a delivery gap (greatest() would make it 0)
        case when forecast.value is not null then greatest(forecast.value, 0) end as value,
        forecast.kind = 'actual' and forecast.value is null as is_delivery_gap,
        case when forecast.kind = 'forecast' then greatest(forecast.lo80, 0) end as lo80,
        case when forecast.kind = 'forecast' then greatest(forecast.hi80, 0) end as hi80,
        case when forecast.kind = 'forecast' then greatest(forecast.lo95, 0) end as lo95,
        case when forecast.kind = 'forecast' then greatest(forecast.hi95, 0) end as hi95,
        max(forecast.model) over (partition by forecast.series) as model,
        max(forecast.interval_method) over (partition by forecast.series) as interval_method,
        max(forecast.cv_mase) over (partition by forecast.series) as cv_mase,
        max(forecast.break_applied) over (partition by forecast.series) as break_applied
    from forecast
    left join families
        on forecast.series = families.series
),

totals as (
    select
        period_start,
        value as total_value
    from clipped
    where series = 'all_stalking' and kind = 'forecast'
),

-- A split is reconciled only when both of its parts are forecast.
parts as (
    select
        series_family,
        period_start,
        sum(value) as parts_value,
        count(*) as parts
    from clipped
    where kind = 'forecast' and series_family in ('domestic_abuse', 'online')
    group by series_family, period_start
    having count(*) = 2
),

scaled as (
    select
        clipped.*,
        case
            when clipped.kind <> 'forecast' or parts.parts is null or totals.total_value is null then 1.0
            when parts.parts_value > 0 then totals.total_value / parts.parts_value
            -- both parts forecast zero: split the total equally
            when totals.total_value > 0 then null
            else 1.0
        end as reconciliation_factor,
        parts.parts is not null and totals.total_value is not null as is_reconciled,
        totals.total_value / 2 as equal_share
    from clipped
    left join parts
        on
            clipped.series_family = parts.series_family
            and clipped.period_start = parts.period_start
    left join totals
        on clipped.period_start = totals.period_start
),

final as (
    select
        series,
        series_label,
        series_family,
        cast(series_order as integer) as series_order,
        period_start,
        {{ quarter_of('period_start') }} as quarter,
        {{ financial_year_of('period_start') }} as financial_year_start,
        kind,
        coalesce(value * reconciliation_factor, equal_share) as value,
        coalesce(lo80 * reconciliation_factor, equal_share) as lo80,
        coalesce(hi80 * reconciliation_factor, equal_share) as hi80,
        coalesce(lo95 * reconciliation_factor, equal_share) as lo95,
        coalesce(hi95 * reconciliation_factor, equal_share) as hi95,
        coalesce(reconciliation_factor, 1.0) as reconciliation_factor,
        case
            when series_family in ('domestic_abuse', 'online') and is_reconciled
                then 'scaled to the all-crimes forecast'
            else 'own model'
        end as reconciliation,
        model,
        interval_method,
        cv_mase,
        coalesce(break_applied, '') as break_applied,
        is_delivery_gap
    from scaled
)

select * from final
