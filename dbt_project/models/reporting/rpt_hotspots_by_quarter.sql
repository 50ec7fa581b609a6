-- Hotspot figures per quarter: hot cells, located crimes and the share of them in hot cells,
-- and the count of cells in each change class.
with

cells as (
    select * from {{ ref('rpt_hotspot_cells') }}
),

final as (
    select
        quarter,
        count(*) filter (where is_hotspot) as hot_cells,
        cast(sum(crimes) as bigint) as located_crimes,
        cast(coalesce(sum(crimes) filter (where is_hotspot), 0) as bigint) as crimes_in_hot_cells,
        count(*) filter (where change_class = 'new') as new_hot_cells,
        count(*) filter (where change_class = 'intensifying') as intensifying_hot_cells,
        count(*) filter (where change_class = 'persistent') as persistent_hot_cells,
        count(*) filter (where change_class = 'diminishing') as diminishing_hot_cells,
        count(*) filter (where change_class = 'former') as former_hot_cells
    from cells
    group by quarter
)

select * from final
