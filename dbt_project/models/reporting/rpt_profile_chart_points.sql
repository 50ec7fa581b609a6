-- The points of the profile's line and rate-bar charts, in long form: per profiled quarter and
-- chart, a row per series and x value, in print order (series_order, x_order; every series has
-- every x), with the figure it plots: a count (`rule` count: `part`) or a rate of `part` in
-- `whole` (`rule` rate; a quarter without a row has neither, so no rate). The profile only puts
-- each point through its rule's disclosure control (pipelines.report.sections._points) and
-- draws it.
--   compliance_bars: each compliance rate of the quarter (x: the measure, in measure order), the
--     quarter's and the same quarter's a year before (the two series, named by their quarter).
--   compliance_trend: a line per compliance measure (in label order; a measure recorded in any
--     quarter has a line), its rate in each of the last eight quarters.
--   intelligence_volume: intelligence reports submitted in each of the last eight quarters (a
--     quarter without a row counts zero).
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

compliance as (
    select * from {{ ref('rpt_compliance') }}
),

-- the last eight quarters to each quarter, oldest first
last_eight as (
    select
        quarters.quarter,
        {{ quarter_of('window_start.q_start') }} as x,
        cast(row_number() over (partition by quarters.quarter order by window_start.q_start) as integer)
            as x_order
    from quarters
    cross join
        generate_series(
            quarters.q_start - interval 21 month, quarters.q_start, interval 3 month
        ) as window_start (q_start)
),

compliance_bars as (
    select
        bars.quarter,
        'compliance_bars' as chart,
        case when sides.side = 1 then quarters.quarter else quarters.year_ago_quarter end as series,
        sides.side as series_order,
        bars.measure_label as x,
        cast(row_number() over (partition by bars.quarter, sides.side order by bars.measure) as integer)
            as x_order,
        'rate' as rule,
        case when sides.side = 1 then bars.met_share else bars.met_year_ago end as part,
        case when sides.side = 1 then bars.eligible else bars.eligible_year_ago end as whole
    from {{ ref('rpt_profile_compliance') }} as bars
    inner join quarters on bars.quarter = quarters.quarter
    cross join (values (1), (2)) as sides (side)
),

trend_measures as (
    select distinct measure_label
    from compliance
),

compliance_trend as (
    select
        last_eight.quarter,
        'compliance_trend' as chart,
        trend_measures.measure_label as series,
        cast(dense_rank() over (partition by last_eight.quarter order by trend_measures.measure_label) as integer)
            as series_order,
        last_eight.x,
        last_eight.x_order,
        'rate' as rule,
        compliance.numerator as part,
        compliance.denominator as whole
    from last_eight
    cross join trend_measures
    left join compliance
        on
            last_eight.x = compliance.quarter
            and trend_measures.measure_label = compliance.measure_label
),

intelligence_volume as (
    select
        last_eight.quarter,
        'intelligence_volume' as chart,
        'Intelligence reports' as series,
        1 as series_order,
        last_eight.x,
        last_eight.x_order,
        'count' as rule,
        coalesce(intelligence.reports, 0) as part,
        cast(null as bigint) as whole
    from last_eight
    left join {{ ref('rpt_profile_intelligence') }} as intelligence
        on
            last_eight.x = intelligence.quarter
            and intelligence.breakdown = 'volume'
            and intelligence.category = 'all'
)

select * from compliance_bars
union all
select * from compliance_trend
union all
select * from intelligence_volume
