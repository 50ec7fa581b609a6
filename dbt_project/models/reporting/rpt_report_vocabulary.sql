-- Labels the published profile prints from reference and summary tables (not person data):
-- the publish guard does not count these words as names on their own. `kind` 'column' rows
-- are column names (kept whole); the rest are label text.
with

labels as (
    select
        'label' as kind,
        order_name as label
    from {{ ref('order_types') }}
    union all
    select
        'label' as kind,
        category as label
    from {{ ref('offence_codes') }}
    union all
    select
        'label' as kind,
        measure as label
    from {{ ref('compliance') }}
    union all
    select
        'label' as kind,
        measure_description as label
    from {{ ref('compliance') }}
    union all
    select
        'label' as kind,
        series as label
    from {{ source('forecasting', 'demand_forecast') }}
    union all
    select
        'label' as kind,
        model as label
    from {{ source('forecasting', 'demand_forecast') }}
    union all
    select
        'label' as kind,
        rule as label
    from {{ source('raw', 'quarantine') }}
    union all
    select
        'label' as kind,
        relationship_to_victim as label
    from {{ source('raw', 'crime_persons') }}
    union all
    select
        'label' as kind,
        unnest([
            source, series, period, horizon, model, cast(mase as varchar), cast(coverage80 as varchar),
            cast(coverage95 as varchar), cast(is_chosen as varchar), break_applied
        ]) as label
    from {{ source('forecasting', 'forecast_accuracy') }}
    union all
    select
        'column' as kind,
        column_name as label
    from information_schema.columns
    where table_schema = 'marts' and table_name = 'forecast_accuracy'
),

final as (
    select distinct
        kind,
        label
    from labels
    where label is not null
)

select * from final
