-- The grid cells of every quarter the locations section counts, draws or lists (cells with a
-- located crime, a predicted hotspot, a significant cluster or a change class; the empty rest of
-- the grid adds nothing): centre, located stalking crimes and distinct victims, whether it is a
-- predicted hotspot and whether a significant cluster (two questions, two columns), the
-- cluster's change class and its label, the map layer it is drawn in (and its colour), its
-- district and its rank by crimes in the quarter. Which cells may be published is decided at
-- publish time (pipelines/disclosure/locations.py, on `victims`), not here.
with

hotspots as (
    select * from {{ source('spatial', 'hotspots') }}
),

change_classes as (
    select * from {{ ref('int_hotspot_change_classes') }}
),

map_layers as (
    -- what the map colours: where to act next quarter (predicted) first, significance beside
    -- it; colours from the Okabe-Ito palette of pipelines/report/charts.py
    select
        named.is_hotspot,
        named.is_significant,
        named.map_layer,
        cast(named.map_layer_order as integer) as map_layer_order,
        named.map_colour
    from (
        values
        (true, true, 'Predicted hotspot and significant cluster', 1, '#D55E00'),
        (true, false, 'Predicted hotspot', 2, '#E69F00'),
        (false, true, 'Significant cluster, not predicted', 3, '#56B4E9'),
        (false, false, 'Other cells', 4, '#bdbdbd')
    ) as named (is_hotspot, is_significant, map_layer, map_layer_order, map_colour)
),

cell_places as (
    select * from {{ ref('rpt_places_cells') }}
),

flagged as (
    select
        quarter,
        cell_id,
        latitude,
        longitude,
        coalesce(crimes, 0) as crimes,
        -- Distinct victims decide whether the cell's location may be published.
        coalesce(victims, 0) as victims,
        coalesce(is_hotspot, false) as is_hotspot,
        coalesce(is_significant, false) as is_significant,
        coalesce(change_class, 'none') as change_class
    from hotspots
    where
        coalesce(crimes, 0) > 0
        or coalesce(is_hotspot, false)
        or coalesce(is_significant, false)
        or coalesce(change_class, 'none') <> 'none'
),

final as (
    select
        flagged.quarter,
        flagged.cell_id,
        flagged.latitude,
        flagged.longitude,
        flagged.crimes,
        flagged.victims,
        flagged.is_hotspot,
        flagged.change_class,
        coalesce(change_classes.change_label, 'No significant cluster') as change_label,
        map_layers.map_layer,
        map_layers.map_layer_order,
        map_layers.map_colour,
        coalesce(cell_places.district, '–') as district,
        -- the busiest cells first (the table lists the first published ones)
        cast(
            row_number() over (
                partition by flagged.quarter order by flagged.crimes desc, flagged.cell_id asc
            ) as integer
        ) as crimes_rank,
        flagged.is_significant
    from flagged
    inner join map_layers
        on
            flagged.is_hotspot = map_layers.is_hotspot
            and flagged.is_significant = map_layers.is_significant
    left join change_classes on flagged.change_class = change_classes.change_class
    left join cell_places on flagged.cell_id = cell_places.cell_id
)

select * from final
