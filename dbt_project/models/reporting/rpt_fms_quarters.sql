-- Demand per series and calendar quarter, summed from the reconciled months of
-- rpt_fms_monthly (the profile's forecast chart and table): figures are per quarter. A
-- quarter with any forecast month is a forecast quarter (recorded months + forecast of the
-- rest); its bounds are the recorded months plus the sums of the monthly bounds.
with

months as (
    select * from {{ ref('rpt_fms_monthly') }}
),

final as (
    select
        series,
        any_value(series_label) as series_label,
        any_value(series_family) as series_family,
        any_value(series_order) as series_order,
        quarter,
        min(period_start) as quarter_start,
        case when count(*) filter (where kind = 'forecast') = 0 then 'recorded' else 'forecast' end as kind,
        cast(count(*) filter (where kind = 'actual') as integer) as months_recorded,
        -- a quarter holding a delivery gap has no count (its recorded months are short by it)
        case when not bool_or(is_delivery_gap) then sum(value) end as value,
        case when not bool_or(is_delivery_gap) then sum(if(kind = 'forecast', lo80, value)) end as lo80,
        case when not bool_or(is_delivery_gap) then sum(if(kind = 'forecast', hi80, value)) end as hi80,
        case when not bool_or(is_delivery_gap) then sum(if(kind = 'forecast', lo95, value)) end as lo95,
        case when not bool_or(is_delivery_gap) then sum(if(kind = 'forecast', hi95, value)) end as hi95,
        any_value(model) as model,
        bool_or(is_delivery_gap) as is_delivery_gap
    from months
    group by series, quarter
    having count(*) = 3
)

select * from final
