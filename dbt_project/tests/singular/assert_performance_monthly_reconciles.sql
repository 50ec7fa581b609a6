-- The monthly performance table adds up: domestic abuse + not = all for every numerator and
-- denominator; numerators never exceed denominators; the crimes of the months inside the
-- profiled quarter equal that quarter's stalking-universe crimes.
with

monthly as (
    select * from {{ ref('rpt_performance_monthly') }}
),

split_mismatches as (
    select
        month,
        measure
    from monthly
    where
        numerator_da + numerator_non_da <> numerator
        or denominator_da + denominator_non_da <> denominator
        or numerator > denominator
),

quarter_crimes as (
    select
        {{ quarter_of('month_start') }} as quarter,
        sum(numerator) as crimes,
        count(*) as months
    from monthly
    where measure = 'stalking_crimes'
    group by 1
    having count(*) = 3
),

universe as (
    select
        quarter,
        count(*) as crimes
    from {{ ref('stalking_crimes') }}
    group by quarter
),

quarter_mismatches as (
    select
        quarter_crimes.quarter as month,
        'stalking_crimes' as measure
    from quarter_crimes
    left join universe
        on quarter_crimes.quarter = universe.quarter
    where quarter_crimes.crimes <> coalesce(universe.crimes, 0)
)

select * from split_mismatches
union all
select * from quarter_mismatches
