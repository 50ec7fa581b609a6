-- The points of every chart of the profile but the forecast and the map, in long form: per
-- profiled quarter and chart, a row per series and x value in print order (series_order,
-- x_order; every series has every x), with the figure it plots under its `rule`: a count
-- (`part`; a quarter without a row counts zero), a rate of `part` in `whole` (a quarter without
-- a row has neither, so no rate) or a table's cell (`part`; the profile suppresses each
-- quarter's cells with the quarter's total). The profile only puts each point through its
-- rule's disclosure control (pipelines.report.sections._points) and draws it.
--   compliance_bars: each compliance rate of the quarter (x: the measure, in measure order), the
--     quarter's and the same quarter's a year before (the two series, named by their quarter).
--   compliance_trend: a line per compliance measure (in label order; a measure recorded in any
--     quarter has a line), its rate in each of the last eight quarters.
--   intelligence_volume: intelligence reports submitted in each of the last eight quarters.
--   demand_domestic_abuse, demand_online, demand_routes: a table of rpt_crimes_by_category
--     (domestic-abuse flag, online flag, identification route) over the demand charts' window
--     (rpt_profile_section_values.trend_first_quarter to the quarter), a series per category
--     with crimes in the window (in category order), a quarter without its row missing. With
--     no category in the window, a row per quarter without a series keeps the window.
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

charts (chart, rule, quarters_shown, breakdown) as (
    values
    ('compliance_trend', 'rate', 'last_eight', null),
    ('intelligence_volume', 'count', 'last_eight', null),
    ('demand_domestic_abuse', 'table', 'demand_window', 'domestic_abuse'),
    ('demand_online', 'table', 'demand_window', 'online'),
    ('demand_routes', 'table', 'demand_window', 'identification_route')
),

-- every figure a line or table chart plots, by chart, quarter (x) and series
figures as (
    select
        'compliance_trend' as chart,
        quarter as x,
        measure_label as series,
        0 as category_order,
        numerator as part,
        denominator as whole
    from {{ ref('rpt_compliance') }}
    union all
    select
        'intelligence_volume' as chart,
        quarter as x,
        'Intelligence reports' as series,
        0 as category_order,
        reports as part,
        cast(null as bigint) as whole
    from {{ ref('rpt_profile_intelligence') }}
    where breakdown = 'volume' and category = 'all'
    union all
    select
        charts.chart,
        categories.quarter as x,
        categories.category_label as series,
        categories.category_order,
        categories.crimes as part,
        cast(null as bigint) as whole
    from {{ ref('rpt_crimes_by_category') }} as categories
    inner join charts on categories.breakdown = charts.breakdown
),

-- the quarters each chart shows, oldest first: the last eight, or the demand charts' window
shown_quarters as (
    select
        'last_eight' as quarters_shown,
        quarters.quarter,
        {{ quarter_of('window_start.q_start') }} as x
    from quarters
    cross join
        generate_series(
            quarters.q_start - interval 21 month, quarters.q_start, interval 3 month
        ) as window_start (q_start)
    union all
    select
        'demand_window' as quarters_shown,
        quarters.quarter,
        shown.quarter as x
    from quarters
    inner join {{ ref('rpt_profile_section_values') }} as section_values
        on quarters.quarter = section_values.quarter
    inner join quarters as shown
        on shown.quarter between section_values.trend_first_quarter and quarters.quarter
),

chart_quarters as (
    select
        shown_quarters.quarter,
        charts.chart,
        charts.rule,
        shown_quarters.x,
        cast(row_number() over (
            partition by shown_quarters.quarter, charts.chart order by shown_quarters.x
        ) as integer) as x_order
    from charts
    inner join shown_quarters on charts.quarters_shown = shown_quarters.quarters_shown
),

-- a line's series: every one the model records; a table's: the categories with crimes shown
-- (a category keeps one order in every quarter). A line's series are found once per chart and
-- given to each quarter: joined quarter by quarter, every point of a line met every figure of
-- it, quarters squared (a delivery holding a crime dated 0001-01-01 has 8,100 quarters).
line_series as (
    select distinct
        chart,
        series,
        category_order
    from figures
),

line_charts as (
    select distinct
        quarter,
        chart
    from chart_quarters
    where rule != 'table'
),

chart_series as (
    select
        charted.quarter,
        charted.chart,
        line_series.series,
        line_series.category_order
    from line_charts as charted
    inner join line_series on charted.chart = line_series.chart
    union
    select
        chart_quarters.quarter,
        chart_quarters.chart,
        figures.series,
        figures.category_order
    from chart_quarters
    inner join figures
        on
            chart_quarters.chart = figures.chart
            and chart_quarters.x = figures.x
    where chart_quarters.rule = 'table'
),

lines_and_tables as (
    select
        chart_quarters.quarter,
        chart_quarters.chart,
        chart_series.series,
        cast(dense_rank() over (
            partition by chart_quarters.quarter, chart_quarters.chart
            order by chart_series.category_order, chart_series.series
        ) as integer) as series_order,
        chart_quarters.x,
        chart_quarters.x_order,
        chart_quarters.rule,
        case when chart_quarters.rule = 'count' then coalesce(figures.part, 0) else figures.part end as part,
        figures.whole
    from chart_quarters
    -- a point is a quarter shown of a chart's series: joined on both as one key each
    left join chart_series
        on
            (chart_quarters.quarter, chart_quarters.chart)
            = (chart_series.quarter, chart_series.chart)
    left join figures
        on
            (chart_quarters.chart, chart_quarters.x, chart_series.series)
            = (figures.chart, figures.x, figures.series)
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
)

select * from compliance_bars
union all
select * from lines_and_tables
