-- The grid cells of every quarter the locations section counts, draws or lists (cells with a
-- located crime, a hotspot or a change class; the empty rest of the grid adds nothing): centre,
-- located stalking crimes and distinct victims, whether it is a hotspot, its change class, the
-- label the table prints, the map layer it is drawn in (and its colour), its district and its
-- rank by crimes in the quarter. Which cells may be published is
-- decided at publish time (pipelines/disclosure/locations.py, on `victims`), not here.
with

hotspots as (
    select * from {{ source('spatial', 'hotspots') }}
),

change_classes as (
    select
        named.change_class,
        named.change_label,
        named.change_order,
        named.map_colour
    from (
        -- map colours: the Okabe-Ito palette of pipelines/report/charts.py
        values
        ('new', 'Hotspot: new', 1, '#D55E00'),
        ('intensifying', 'Hotspot: intensifying', 2, '#CC79A7'),
        ('persistent', 'Hotspot: persistent', 3, '#E69F00'),
        ('diminishing', 'Hotspot: diminishing', 4, '#F0E442'),
        ('former', 'Former hotspot', 5, '#56B4E9')
    ) as named (change_class, change_label, change_order, map_colour)
),

cell_places as (
    select * from {{ ref('rpt_places_cells') }}
),

final as (
    select
        hotspots.quarter,
        hotspots.cell_id,
        hotspots.latitude,
        hotspots.longitude,
        coalesce(hotspots.crimes, 0) as crimes,
        -- Distinct victims decide whether the cell's location may be published.
        coalesce(hotspots.victims, 0) as victims,
        coalesce(hotspots.is_hotspot, false) as is_hotspot,
        coalesce(hotspots.change_class, 'none') as change_class,
        coalesce(change_classes.change_label, 'Not a hotspot') as change_label,
        -- A change class is drawn only on a hotspot (or a former one); the rest is background.
        case
            when coalesce(hotspots.is_hotspot, false) or hotspots.change_class = 'former'
                then coalesce(change_classes.change_label, 'Other cells')
            else 'Other cells'
        end as map_layer,
        cast(
            case
                when coalesce(hotspots.is_hotspot, false) or hotspots.change_class = 'former'
                    then coalesce(change_classes.change_order, 6)
                else 6
            end as integer
        ) as map_layer_order,
        case
            when coalesce(hotspots.is_hotspot, false) or hotspots.change_class = 'former'
                then coalesce(change_classes.map_colour, '#bdbdbd')
            else '#bdbdbd'
        end as map_colour,
        coalesce(cell_places.district, '–') as district,
        -- the busiest cells first (the table lists the first published ones)
        cast(
            row_number() over (
                partition by hotspots.quarter order by coalesce(hotspots.crimes, 0) desc, hotspots.cell_id
            ) as integer
        ) as crimes_rank
    from hotspots
    left join change_classes on hotspots.change_class = change_classes.change_class
    left join cell_places on hotspots.cell_id = cell_places.cell_id
    where
        coalesce(hotspots.crimes, 0) > 0
        or coalesce(hotspots.is_hotspot, false)
        or coalesce(hotspots.change_class, 'none') <> 'none'
)

select * from final
