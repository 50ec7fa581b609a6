-- Victims' Code and super-complaint compliance per quarter for the stalking universe, for all
-- crimes and split domestic abuse / non-domestic abuse (the *_da and *_non_da columns). Crimes
-- count in the quarter they were reported, except right to review, which counts crimes
-- finalised with a no-further-action outcome in the quarter. rate is null when nothing is due.
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

due as (
    select * from {{ ref('int_compliance_due') }}
),

measures as (
    {{ compliance_measures_rows() }}
),

grid as (
    select
        quarters.quarter,
        measures.measure,
        measures.measure_description
    from quarters
    cross join measures
),

counted as (
    select
        grid.quarter,
        grid.measure,
        grid.measure_description,
        count(due.measure) filter (where due.is_met) as numerator,
        count(due.measure) as denominator,
        count(due.measure) filter (where due.is_met and due.is_domestic_abuse) as numerator_da,
        count(due.measure) filter (where due.is_domestic_abuse) as denominator_da,
        count(due.measure) filter (where due.is_met and not due.is_domestic_abuse) as numerator_non_da,
        count(due.measure) filter (where not due.is_domestic_abuse) as denominator_non_da
    from grid
    left join due
        on
            grid.quarter = due.quarter
            and grid.measure = due.measure
    group by grid.quarter, grid.measure, grid.measure_description
),

final as (
    select
        quarter,
        measure,
        numerator,
        denominator,
        round(numerator / nullif(denominator, 0), 4) as rate,
        numerator_da,
        denominator_da,
        round(numerator_da / nullif(denominator_da, 0), 4) as rate_da,
        numerator_non_da,
        denominator_non_da,
        round(numerator_non_da / nullif(denominator_non_da, 0), 4) as rate_non_da,
        measure_description
    from counted
)

select * from final
