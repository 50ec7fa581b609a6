-- What a profile section's captions and texts name besides the compared quarters, one row per
-- quarter (pipelines.report.sections fills a declared {placeholder} from the quarter's row):
-- the quarter in words; the twelve months the orders' tables cover and the cohorts of the
-- order-effectiveness table; whether a partnership lookup names the districts' community
-- safety partnerships; for the information gaps, whether the delivery holds any crime of the
-- universe and any located one; the demand charts' window (the last twelve quarters, from the
-- first with a crime); the dates the extracts hold; whether a forecast, a data-quality report and
-- returned dip-sample verdicts are there; whether the quarter holds a delivery gap (months in
-- which the delivery has no crime of any kind, int_recording_months) and those months in words;
-- the hotspot map's title and the hotspot cells it leaves out (fewer than disclosure.min_count
-- different victims: the location rule of pipelines.disclosure.locations).
{%- set min_victims = setting('disclosure')['min_count'] %}
with

quarters as (
    select
        quarter,
        q_start,
        q_end
    from {{ ref('int_quarters') }}
),

first_crime as (
    select min(quarter) as first_quarter
    from {{ ref('rpt_profile_demand_by_quarter') }}
),

trend as (
    select
        quarters.quarter,
        -- an empty universe has no first quarter: the trend starts at this quarter
        greatest(
            coalesce(first_crime.first_quarter, quarters.quarter),
            {{ quarter_of('cast(quarters.q_start - interval 33 month as date)') }}
        ) as trend_first_quarter
    from quarters
    cross join first_crime
),

scope as (
    select
        quarter,
        cast(any_value(first_reported_date) as varchar) as first_reported,
        cast(any_value(last_reported_date) as varchar) as last_reported
    from {{ ref('rpt_data_scope') }}
    group by quarter
),

forecast as (
    select count(*) > 0 as has_forecast
    from {{ ref('rpt_fms_financial_years') }}
),

data_quality as (
    select count(*) > 0 as has_data_quality
    from {{ ref('rpt_data_quality') }}
),

dip_samples as (
    select coalesce(sum(audited), 0) > 0 as has_dip_sample_verdicts
    from {{ ref('rpt_dip_sample_verdicts') }}
),

funnel as (
    select
        quarter,
        any_value(window_first_quarter) as window_first_quarter
    from {{ ref('rpt_orders_spo_funnel') }}
    group by quarter
),

cohort_per_followup as (
    select
        quarter,
        followup_months,
        any_value(cohort_label) as cohort_label
    from {{ ref('rpt_orders_effectiveness') }}
    group by quarter, followup_months
),

cohorts as (
    select
        quarter,
        string_agg(
            cast(followup_months as varchar) || ' months ' || cohort_label, '; '
            order by followup_months
        ) as order_cohorts
    from cohort_per_followup
    group by quarter
),

districts as (
    select
        quarter,
        bool_or(csp <> '') as has_csp
    from {{ ref('rpt_profile_districts') }}
    group by quarter
),

-- whether any stalking crime of the delivery lies inside a district boundary: without one (no
-- boundaries, or boundaries of another area) the district table would hold nothing but
-- 'Outside the districts' under the words "every located crime is placed in its district"
placed_in_districts as (
    select coalesce(bool_or(district_order = 1), false) as has_districts
    from {{ ref('rpt_places_by_district') }}
),

delivery as (
    select coalesce(sum(crimes), 0) > 0 as has_crimes
    from {{ ref('rpt_profile_demand_by_quarter') }}
),

located as (
    select coalesce(sum(located_crimes), 0) > 0 as has_located_crimes
    from {{ ref('rpt_hotspots_by_quarter') }}
),

gap_months as (
    select
        {{ quarter_of('month_start') }} as quarter,
        strftime(min(month_start), '%B %Y')
        || case when count(*) > 1 then ' to ' || strftime(max(month_start), '%B %Y') else '' end
            as delivery_gap_months
    from {{ ref('int_recording_months') }}
    where is_delivery_gap
    group by {{ quarter_of('month_start') }}
),

cells as (
    select
        quarter,
        count(*) filter (where victims >= {{ min_victims }}) as published_cells,
        count(*) filter (where is_hotspot and victims < {{ min_victims }}) as hidden_hotspot_cells
    from {{ ref('rpt_hotspot_cells') }}
    group by quarter
),

final as (
    select
        quarters.quarter,
        -- the cover's and the scope's period: "1 July 2026 to 30 September 2026"
        strftime(quarters.q_start, '%-d %B %Y') || ' to ' || strftime(quarters.q_end, '%-d %B %Y') as span,
        coalesce(funnel.window_first_quarter, quarters.quarter)
        || ' to ' || quarters.quarter as orders_window,
        coalesce(cohorts.order_cohorts, '') as order_cohorts,
        coalesce(districts.has_csp, false) as has_csp,
        placed_in_districts.has_districts,
        delivery.has_crimes,
        located.has_located_crimes,
        trend.trend_first_quarter,
        -- quarters from the first to this one (none when the data start after it)
        cast(greatest(
            0,
            (cast(left(quarters.quarter, 4) as integer) - cast(left(trend.trend_first_quarter, 4) as integer)) * 4
            + cast(right(quarters.quarter, 1) as integer) - cast(right(trend.trend_first_quarter, 1) as integer)
            + 1
        ) as integer) as trend_quarters,
        scope.first_reported is not null as has_scope,
        coalesce(scope.first_reported, '') as first_reported,
        coalesce(scope.last_reported, '') as last_reported,
        forecast.has_forecast,
        data_quality.has_data_quality,
        dip_samples.has_dip_sample_verdicts,
        case
            when coalesce(cells.published_cells, 0) = 0
                then 'No grid cell had {{ min_victims }} or more different victims in ' || quarters.quarter
            else
                cast(cells.published_cells as varchar)
                || ' cells had {{ min_victims }} or more different victims in ' || quarters.quarter
        end as map_title,
        cast(coalesce(cells.hidden_hotspot_cells, 0) as integer) as hidden_hotspot_cells,
        gap_months.quarter is not null as is_delivery_gap,
        coalesce(gap_months.delivery_gap_months, '') as delivery_gap_months
    from quarters
    cross join delivery
    cross join placed_in_districts
    cross join located
    cross join data_quality
    cross join forecast
    cross join dip_samples
    left join trend on quarters.quarter = trend.quarter
    left join scope on quarters.quarter = scope.quarter
    left join funnel on quarters.quarter = funnel.quarter
    left join cohorts on quarters.quarter = cohorts.quarter
    left join gap_months on quarters.quarter = gap_months.quarter
    left join districts on quarters.quarter = districts.quarter
    left join cells on quarters.quarter = cells.quarter
)

select * from final
