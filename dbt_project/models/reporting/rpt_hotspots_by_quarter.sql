-- Hotspot figures per quarter: hot cells and the grid they are a share of, located crimes, the
-- share of them in the cells flagged at the quarter's end, the share in the cells flagged a
-- quarter earlier (the prediction made for this quarter: the only share that measures it, since
-- the cells flagged at the quarter's end were chosen from this quarter's own crimes), and the
-- count of cells in each change class.
with

cells as (
    select * from {{ ref('rpt_hotspot_cells') }}
),

grid as (
    -- every cell analysed in the quarter, with or without a crime (rpt_hotspot_cells keeps only
    -- the cells it prints)
    select
        quarter,
        count(*) as grid_cells
    from {{ source('spatial', 'hotspots') }}
    group by quarter
),

quarters as (
    select
        quarter,
        lag(quarter) over (order by quarter) as previous_quarter
    from grid
),

predicted_for_quarter as (
    -- this quarter's located crimes in the cells flagged at the end of the quarter before it
    select
        quarters.quarter,
        cast(coalesce(sum(cells.crimes) filter (where flagged.cell_id is not null), 0) as bigint)
            as crimes_in_predicted_cells
    from quarters
    inner join cells on quarters.quarter = cells.quarter
    left join cells as flagged
        on
            quarters.previous_quarter = flagged.quarter
            and cells.cell_id = flagged.cell_id
            and flagged.is_hotspot
    where quarters.previous_quarter is not null
    group by quarters.quarter
),

by_quarter as (
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
),

final as (
    select
        by_quarter.quarter,
        by_quarter.hot_cells,
        by_quarter.located_crimes,
        by_quarter.crimes_in_hot_cells,
        by_quarter.new_hot_cells,
        by_quarter.intensifying_hot_cells,
        by_quarter.persistent_hot_cells,
        by_quarter.diminishing_hot_cells,
        by_quarter.former_hot_cells,
        cast(coalesce(grid.grid_cells, 0) as bigint) as grid_cells,
        cast(coalesce(predicted_for_quarter.crimes_in_predicted_cells, 0) as bigint)
            as crimes_in_predicted_cells,
        -- zero for the first quarter, which no earlier flagging predicted: no share is printed
        cast(
            case when predicted_for_quarter.quarter is not null then by_quarter.located_crimes else 0 end
            as bigint
        ) as located_crimes_predicted
    from by_quarter
    left join grid on by_quarter.quarter = grid.quarter
    left join predicted_for_quarter on by_quarter.quarter = predicted_for_quarter.quarter
)

select * from final
