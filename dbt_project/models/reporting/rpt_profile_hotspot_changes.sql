-- Cells per quarter by the change class of their significant cluster (new, intensifying,
-- persistent, diminishing, former), one row per class in every quarter (zero where none), as
-- the profile's cluster change table prints them. Cells are areas, not people: counts printed
-- exactly.
with

quarters as (
    select quarter from {{ ref('int_quarters') }}
),

by_quarter as (
    select * from {{ ref('rpt_hotspots_by_quarter') }}
),

change_classes as (
    select * from {{ ref('int_hotspot_change_classes') }}
),

final as (
    select
        quarters.quarter,
        change_classes.change_class,
        change_classes.change_label,
        change_classes.change_order,
        coalesce(
            case change_classes.change_class
                when 'new' then by_quarter.new_hot_cells
                when 'intensifying' then by_quarter.intensifying_hot_cells
                when 'persistent' then by_quarter.persistent_hot_cells
                when 'diminishing' then by_quarter.diminishing_hot_cells
                when 'former' then by_quarter.former_hot_cells
            end,
            0
        ) as cells
    from quarters
    cross join change_classes
    left join by_quarter on quarters.quarter = by_quarter.quarter
)

select * from final
