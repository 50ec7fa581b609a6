-- Stalking-universe crimes per quarter with a crime: the demand section's headline figure (at
-- the quarter, the previous one and a year ago) and the first quarter its trend charts start at.
with

by_category as (
    select * from {{ ref('rpt_crimes_by_category') }}
),

final as (
    select
        quarter,
        cast(sum(crimes) as bigint) as crimes
    from by_category
    -- every crime is on one side of the domestic-abuse flag: that breakdown counts each once
    where breakdown = 'domestic_abuse'
    group by quarter
)

select * from final
