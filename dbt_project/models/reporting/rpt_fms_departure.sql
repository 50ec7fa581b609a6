-- Whether the forecast of all stalking crimes departs from recent demand, and which model carries
-- the departure: the furthest forecast financial year against the naive forecast (the last 12
-- recorded months repeated, as the Projection sheet shows it) and, where the forecast is the
-- ensemble, each member's own forecast of the same year against it (marts.demand_forecast's
-- 'member' rows). Only the total: the parts of a split are scaled to it, so their members say
-- nothing about the published parts. One row per model ('forecast' = the published forecast,
-- member_order 0), each carrying the one sentence the profile and the README print. A departure
-- is beyond 5 % either way, the same line as the forecast's "rise" / "fall" words
-- (rpt_fms_forecast_sentences). Percentages only, so no count needs disclosure control.
with

years as (
    select * from {{ ref('rpt_fms_financial_years') }}
),

labels as (
    select * from {{ ref('rpt_fms_model_labels') }}
),

furthest as (
    select
        series,
        series_label,
        financial_year,
        financial_year_start,
        value as forecast_value,
        naive_value,
        model
    from years
    where
        series_family = 'total'
        and years_ahead is not null
        and months_forecast = 12
        and naive_value > 0
    qualify row_number() over (partition by series order by financial_year_start desc) = 1
),

member_years as (
    select
        series,
        model,
        year(period_start - interval 3 month) as financial_year_start,
        sum(greatest(value, 0)) as value,
        count(*) as months
    from {{ source('forecasting', 'demand_forecast') }}
    where kind = 'member' and period = 'month'
    group by series, model, year(period_start - interval 3 month)
),

compared as (
    select
        furthest.series,
        0 as member_order,
        'forecast' as model,
        furthest.forecast_value as value
    from furthest
    union all
    select
        furthest.series,
        labels.member_order,
        member_years.model,
        member_years.value
    from furthest
    inner join member_years
        on
            furthest.series = member_years.series
            and furthest.financial_year_start = member_years.financial_year_start
            and furthest.model = 'ensemble'
            and member_years.months = 12
    inner join labels
        on member_years.model = labels.model and labels.member_order is not null
),

departures as (
    select
        furthest.series,
        furthest.series_label,
        furthest.financial_year,
        furthest.model as forecast_model,
        compared.member_order,
        compared.model,
        coalesce(labels.member_label, labels.model_label, compared.model) as member_label,
        compared.value,
        furthest.naive_value,
        compared.value / furthest.naive_value - 1 as departure
    from compared
    inner join furthest
        on compared.series = furthest.series
    left join labels
        on compared.model = labels.model
),

-- '39% below', '2% above'; `toward` = how far in the forecast's own direction
worded as (
    select
        *,
        {{ percent_text('abs(departure)') }}
        || case when departure < 0 then ' below' else ' above' end as departure_words,
        departure * sign(
            max(case when member_order = 0 then departure end) over (partition by series)
        ) as toward
    from departures
),

summary as (
    select
        series,
        any_value(series_label) as series_label,
        any_value(financial_year) as financial_year,
        any_value(forecast_model) as forecast_model,
        any_value(departure) filter (where member_order = 0) as departure,
        any_value(departure_words) filter (where member_order = 0) as departure_words,
        count(*) filter (where member_order > 0) as members,
        -- the member furthest from the naive forecast in the forecast's direction
        arg_max(member_label, toward) filter (where member_order > 0) as leading_member,
        -- one member leads only when it departs at least twice as far as the next one
        -- (ARIMA 8% below beside the shared growth 7% below is a fall both carry)
        list_sort(list(toward) filter (where member_order > 0), 'DESC') as towards,
        -- 'ARIMA is 8% below and the growth shared by the force's series 7% below'
        string_agg(
            member_label || case when member_order = 1 then ' is ' else ' ' end
            || departure_words,
            ' and ' order by member_order
        ) filter (where member_order > 0) as member_words
    from worded
    group by series
),

sentences as (
    select
        series,
        case
            when abs(departure) <= 0.05
                then
                    'Through ' || financial_year || ' the forecast of '
                    || lower(series_label) || ' stays within 5% of the last 12 months repeated '
                    || '(the naive forecast): it does not depart from recent demand.'
            when members > 0
                then
                    'By ' || financial_year || ' the forecast of ' || lower(series_label)
                    || ' is ' || departure_words || ' the last 12 months repeated (the naive '
                    || 'forecast); of the ' || cast(members as varchar) || ' models it averages, '
                    || member_words || ', so the '
                    || case when departure < 0 then 'fall' else 'rise' end
                    || case
                        when len(towards) < 2 or towards[1] >= 2 * greatest(towards[2], 0)
                            then ' comes mostly from ' || leading_member || '.'
                        else ' comes from the models alike.'
                    end
            else
                'By ' || financial_year || ' the forecast of ' || lower(series_label)
                || ' is ' || departure_words || ' the last 12 months repeated (the naive '
                || 'forecast): the '
                || case when departure < 0 then 'fall' else 'rise' end
                || ' is the trend of the model used.'
        end as sentence
    from summary
),

final as (
    select
        worded.series,
        worded.financial_year,
        cast(worded.member_order as integer) as member_order,
        worded.model,
        worded.member_label,
        worded.value,
        worded.naive_value,
        worded.departure,
        abs(summary.departure) > 0.05 as forecast_departs,
        sentences.sentence
    from worded
    inner join summary
        on worded.series = summary.series
    inner join sentences
        on worded.series = sentences.series
)

select * from final
