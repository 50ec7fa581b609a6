-- The grid cells of every quarter the locations section counts, draws or lists (cells with a
-- located crime, a hotspot or a change class; the empty rest of the grid adds nothing): centre,
-- located stalking crimes and distinct victims, whether it is a hotspot, its change class, the
-- label the table prints and the map layer it is drawn in. Which cells may be published is
-- decided at publish time (pipelines/disclosure/locations.py, on `victims`), not here.
with

hotspots as (
    select * from {{ source('spatial', 'hotspots') }}
),

change_classes as (
    select
        named.change_class,
        named.change_label,
        named.change_order
    from (
        values
        ('new', 'Hotspot: new', 1),
        ('intensifying', 'Hotspot: intensifying', 2),
        ('persistent', 'Hotspot: persistent', 3),
        ('diminishing', 'Hotspot: diminishing', 4),
        ('former', 'Former hotspot', 5)
    ) as named (change_class, change_label, change_order)
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
        ) as map_layer_order
    from hotspots
    left join change_classes on hotspots.change_class = change_classes.change_class
    where
        coalesce(hotspots.crimes, 0) > 0
        or coalesce(hotspots.is_hotspot, false)
        or coalesce(hotspots.change_class, 'none') <> 'none'
)

select * from final
