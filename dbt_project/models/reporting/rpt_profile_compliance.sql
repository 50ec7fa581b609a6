-- The compliance table as the profile prints it: one row per quarter and measure, the quarter's
-- met and eligible crimes beside the previous quarter's and a year ago's, and the quarter split
-- by the domestic-abuse flag. A measure is a row when any of the three compared quarters has it;
-- a quarter without it counts 0 of 0 (printed "–"). Each printed rate is its own column (the
-- numerator) so that its YAML names the whole it is a share of.
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

compliance as (
    select * from {{ ref('rpt_compliance') }}
),

measures as (
    select distinct
        measure,
        measure_label,
        coalesce(measure_description, '') as measure_description
    from compliance
),

shown as (
    select
        quarters.quarter,
        quarters.previous_quarter,
        quarters.year_ago_quarter,
        measures.measure,
        measures.measure_label,
        measures.measure_description
    from quarters
    cross join measures
    where exists (
        select 1
        from compliance
        where
            compliance.measure = measures.measure
            and compliance.quarter in (quarters.quarter, quarters.previous_quarter, quarters.year_ago_quarter)
    )
),

final as (
    select
        shown.quarter,
        shown.measure,
        shown.measure_label,
        shown.measure_description,
        coalesce(now.numerator, 0) as met,
        coalesce(now.denominator, 0) as eligible,
        coalesce(now.numerator, 0) as met_share,
        coalesce(previous.numerator, 0) as met_previous,
        coalesce(previous.denominator, 0) as eligible_previous,
        coalesce(year_ago.numerator, 0) as met_year_ago,
        coalesce(year_ago.denominator, 0) as eligible_year_ago,
        coalesce(now.numerator_da, 0) as met_da,
        coalesce(now.denominator_da, 0) as eligible_da,
        coalesce(now.numerator_non_da, 0) as met_non_da,
        coalesce(now.denominator_non_da, 0) as eligible_non_da
    from shown
    left join compliance as now
        on shown.measure = now.measure and shown.quarter = now.quarter
    left join compliance as previous
        on shown.measure = previous.measure and shown.previous_quarter = previous.quarter
    left join compliance as year_ago
        on shown.measure = year_ago.measure and shown.year_ago_quarter = year_ago.quarter
)

select * from final
