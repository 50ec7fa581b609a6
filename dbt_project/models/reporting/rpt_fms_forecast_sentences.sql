-- The forecast's words per series, as sentence templates (pipelines.disclosure.sentences):
-- each chart's title and the key findings' headline (all crimes), comparing the first full
-- forecast year with the baseline year (the headline with the naive forecast the tests score
-- the method against, where it publishes). The figures are the whole crimes every output prints;
-- the change is between those rounded figures, and its words ("rise" / "fall" beyond 5 %,
-- else "stay level") come with it, so the profile only prints.
with

years as (
    select * from {{ ref('rpt_fms_financial_years') }}
),

series as (
    select distinct
        series,
        series_label
    from years
),

compared as (
    select
        baseline.series,
        baseline.financial_year as baseline_year,
        ahead.financial_year as forecast_year,
        cast(round_even(baseline.value, 0) as bigint) as baseline_value,
        cast(round_even(ahead.value, 0) as bigint) as forecast_value,
        cast(round_even(ahead.naive_value, 0) as bigint) as naive_value
    from years as baseline
    inner join years as ahead
        on
            baseline.series = ahead.series
            and ahead.years_ahead = 1
    where baseline.is_baseline
),

changed as (
    select
        series.series,
        series.series_label,
        lower(series.series_label) as series_name,
        compared.baseline_year,
        compared.forecast_year,
        compared.baseline_value,
        compared.forecast_value,
        compared.naive_value,
        -- no change on a baseline of none
        cast(compared.forecast_value - compared.baseline_value as double)
        / nullif(compared.baseline_value, 0) as change_on_baseline
    from series
    left join compared
        on series.series = compared.series
),

worded as (
    select
        *,
        case
            when change_on_baseline > 0.05 then 'rise'
            when change_on_baseline < -0.05 then 'fall'
            when change_on_baseline is not null then 'stay level'
        end as change_direction,
        case
            when change_on_baseline < 0 then '-'
            when change_on_baseline is not null then '+'
        end as change_sign,
        abs(change_on_baseline) as change_size
    from changed
),

templates as (
    select
        listed.sentence_kind,
        listed.variant_order,
        listed.template,
        listed.total_only
    from (
        values
        (
            'chart_title', 1,
            '{series_label}: expected to {change_direction} in {forecast_year} on the '
            || '{baseline_year} baseline ({change_sign}{change_size}); per quarter',
            false
        ),
        ('chart_title', 2, '{series_label}: crimes per quarter, recorded and forecast', false),
        (
            'headline', 1,
            'Demand ({series_name}) is forecast at about {forecast_value} in {forecast_year} '
            || 'against {baseline_value} recorded in {baseline_year} '
            || '({change_sign}{change_size}); repeating the last 12 months (the naive '
            || 'forecast) would give {naive_value}. Ranges and how the method fared in tests '
            || 'are in the forecast section.',
            true
        ),
        (
            'headline', 2,
            'Demand ({series_name}) is forecast at about {forecast_value} in {forecast_year} '
            || 'against {baseline_value} recorded in {baseline_year} '
            || '({change_sign}{change_size}); ranges and how the method fared in tests are in '
            || 'the forecast section.',
            true
        )
    ) as listed (sentence_kind, variant_order, template, total_only)
),

final as (
    select
        worded.series,
        templates.sentence_kind,
        cast(templates.variant_order as integer) as variant_order,
        templates.template,
        worded.series_label,
        worded.series_name,
        worded.baseline_year,
        worded.forecast_year,
        worded.baseline_value,
        worded.forecast_value,
        worded.naive_value,
        worded.change_direction,
        worded.change_sign,
        worded.change_size
    from worded
    cross join templates
    -- the headline is about all crimes
    where not templates.total_only or worded.series = 'all_stalking'
)

select * from final
