-- The locations section's busiest published grid cells per quarter: the ten cells with the
-- most crimes among those the location rule lets the profile draw or list (at least
-- disclosure.min_count different victims, as pipelines.disclosure.locations.publishable),
-- ranked among themselves, with their district, map layer and cluster change class.
{%- set min_victims = setting('disclosure')['min_count'] %}
with

published as (
    select
        quarter,
        crimes_rank,
        district,
        crimes,
        change_label,
        map_layer
    from {{ ref('rpt_hotspot_cells') }}
    where victims >= {{ min_victims }}
),

ranked as (
    select
        quarter,
        cast(row_number() over (partition by quarter order by crimes_rank) as integer) as busiest_rank,
        district,
        crimes,
        change_label,
        map_layer
    from published
),

final as (
    select * from ranked
    where busiest_rank <= 10
)

select * from final
