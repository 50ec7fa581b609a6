-- Repeat victims per quarter by how many stalking-universe crimes they suffered in the 12 months
-- to the quarter's end, one row per band in every quarter (zero where none), as the profile
-- prints them.
with

quarters as (
    select quarter from {{ ref('int_quarters') }}
),

by_quarter as (
    select * from {{ ref('rpt_victims_by_quarter') }}
),

bands as (
    select
        named.band_label,
        named.band_order
    from (
        values
        ('2', 1),
        ('3–4', 2),
        ('5 or more', 3)
    ) as named (band_label, band_order)
),

final as (
    select
        quarters.quarter,
        bands.band_label,
        cast(bands.band_order as integer) as band_order,
        coalesce(
            case bands.band_order
                when 1 then by_quarter.repeat_victims_2_crimes
                when 2 then by_quarter.repeat_victims_3_to_4_crimes
                when 3 then by_quarter.repeat_victims_5_or_more_crimes
            end,
            0
        ) as repeat_victims
    from quarters
    cross join bands
    left join by_quarter on quarters.quarter = by_quarter.quarter
)

select * from final
