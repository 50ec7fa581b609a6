-- The district (and community safety partnership) of each hotspot cell, so the busiest-cells
-- table and the map can name the place. One row per cell of marts.hotspots.
with

cells as (
    select distinct cell_id from {{ source('spatial', 'hotspots') }}
),

districts as (
    select * from {{ source('places', 'cell_districts') }}
),

final as (
    select
        cells.cell_id,
        coalesce(districts.district, 'Outside the districts') as district,
        coalesce(districts.csp, '') as csp
    from cells
    left join districts on cells.cell_id = districts.cell_id
)

select * from final
