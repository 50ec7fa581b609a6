-- The accuracy table of the forecast section: the chosen model of every series at the
-- section's granularity, and every held-out back-test (they carry no granularity), in the
-- mart's order, with the labels printed.
with

accuracy as (
    select * from {{ source('forecasting', 'forecast_accuracy') }}
),

granularity as (
    select distinct granularity from {{ ref('rpt_demand_forecast') }}
),

chosen as (
    select accuracy.*
    from accuracy
    where coalesce(accuracy.is_chosen, false)
),

-- Where no chosen row is at the section's granularity every chosen row is shown.
has_granularity as (
    select count(*) > 0 as has_rows
    from chosen
    where chosen.period in (select granularity.granularity from granularity)
),

final as (
    select
        cast(row_number() over (
            order by chosen.source, chosen.series, chosen.period, chosen.horizon, chosen.model
        ) as integer) as row_order,
        chosen.series,
        case
            when chosen.series = '(all)' then 'all series'
            when chosen.series = 'all_stalking' then 'all stalking-universe crimes'
            else replace(replace(chosen.series, '_', ' '), 'non domestic', 'non-domestic')
        end as series_label,
        chosen.model,
        case
            when chosen.source = 'cv' then 'cross-validation (model choice)'
            -- backtest:<dataset>:held_in / held_out (the forecasting back-test's force split)
            when starts_with(chosen.source, 'backtest:') and len(split(chosen.source, ':')) > 2
                then
                    'back-test, '
                    || replace(split(chosen.source, ':')[3], '_', '-')
                    || ' forces: '
                    || replace(
                        regexp_replace(split(chosen.source, ':')[2], '^ho_', ''), '_', ' '
                    )
            when starts_with(chosen.source, 'backtest:')
                then
                    'held-out back-test: '
                    || replace(regexp_replace(substr(chosen.source, 10), '^ho_', ''), '_', ' ')
            else replace(chosen.source, '_', ' ')
        end as test_label,
        case when chosen.horizon = 'cv' then 'rolling' else chosen.horizon end as horizon_label,
        chosen.mase,
        chosen.naive_mase,
        chosen.coverage80,
        chosen.coverage95
    from chosen
    cross join has_granularity
    where
        not has_granularity.has_rows
        or chosen.period in (select granularity.granularity from granularity)
        or coalesce(chosen.period, '') = ''
)

select * from final
