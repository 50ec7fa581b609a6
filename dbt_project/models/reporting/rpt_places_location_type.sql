-- Stalking-universe crimes per quarter by the type of place recorded (dwelling, street,
-- workplace, online, other, not recorded), overall and by the domestic-abuse and online flags.
-- Every place type is a row in every quarter with crimes.
with

crimes as (
    select * from {{ ref('stalking_crimes') }}
),

place_types as (
    select
        named.location_type,
        named.location_label,
        named.location_order
    from (
        values
        ('dwelling', 'Dwelling', 1),
        ('street', 'Street or public place', 2),
        ('workplace', 'Workplace', 3),
        ('online', 'Online', 4),
        ('other', 'Other', 5),
        ('not_recorded', 'Not recorded', 6)
    ) as named (location_type, location_label, location_order)
),

typed as (
    select
        quarter,
        is_domestic_abuse,
        is_online,
        case
            when location_type is null or trim(location_type) = '' then 'not_recorded'
            when lower(trim(location_type)) in ('dwelling', 'street', 'workplace', 'online')
                then lower(trim(location_type))
            else 'other'
        end as location_type
    from crimes
),

counts as (
    select
        quarter,
        location_type,
        count(*) as crimes,
        count(*) filter (where is_domestic_abuse) as crimes_domestic_abuse,
        count(*) filter (where not is_domestic_abuse) as crimes_not_domestic_abuse,
        count(*) filter (where is_online) as crimes_online,
        count(*) filter (where not is_online) as crimes_not_online
    from typed
    group by quarter, location_type
),

quarters as (
    select distinct quarter from crimes
),

final as (
    select
        quarters.quarter,
        place_types.location_type,
        place_types.location_label,
        cast(place_types.location_order as integer) as location_order,
        coalesce(counts.crimes, 0) as crimes,
        coalesce(counts.crimes_domestic_abuse, 0) as crimes_domestic_abuse,
        coalesce(counts.crimes_not_domestic_abuse, 0) as crimes_not_domestic_abuse,
        coalesce(counts.crimes_online, 0) as crimes_online,
        coalesce(counts.crimes_not_online, 0) as crimes_not_online
    from quarters
    cross join place_types
    left join counts
        on quarters.quarter = counts.quarter and place_types.location_type = counts.location_type
)

select * from final
