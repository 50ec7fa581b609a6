-- How the FMS figures were made, in plain words, as the profile's forecast section and the
-- workbook's README print them: which series have no forecast (when any), then how years,
-- models, splits and ranges work, naming the models the forecast years used, and last whether
-- the forecast departs from recent demand and which model carries it (rpt_fms_departure).
-- The years whose forecast errors set the ranges follow forecasting.error_pool_regime: under
-- stable_recording the pool leaves out every error reaching past recording_change_start.
{% set forecasting = setting('forecasting') %}
{% if forecasting['error_pool_regime'] == 'stable_recording' %}
    {% set error_pool_years = "figures of 22 police forces from 2009 until recording practice "
        ~ "changed in " ~ forecasting['recording_change_start'][:4]
        ~ " (later forecasts, which met the rise in recorded harassment that followed, are "
        ~ "left out, so the ranges assume recording practice stays as it is)" %}
{% else %}
    {% set error_pool_years = "figures of 22 police forces, 2009 to 2018 (when recorded "
        ~ "harassment doubled)" %}
{% endif %}

with

years as (
    select * from {{ ref('rpt_fms_financial_years') }}
),

not_forecast as (
    select sentence from {{ ref('rpt_fms_sentences') }}
    where sentence_kind = 'not_forecast'
),

departure as (
    select distinct sentence from {{ ref('rpt_fms_departure') }}
),

models_used as (
    select coalesce(string_agg(distinct model_label, '; ' order by model_label), 'none') as models
    from years
    where status != 'recorded'
),

fixed as (
    select
        sentences.sentence_order,
        replace(sentences.sentence, '{models}', models_used.models) as sentence
    from (
        values
        (
            2,
            'Financial years run from April to March. Recorded figures count the crimes '
            || 'reported in each month (breaches: recorded breaches of protective orders by '
            || 'breach date).'
        ),
        (
            3,
            'Each series is forecast month by month by the method that predicted best when '
            || 'tested on the recorded stalking and harassment of other police forces (Home '
            || 'Office figures), among seasonal naive, exponential smoothing, Theta, ARIMA, the '
            || 'growth shared by the force''s series and averages of them; used here: {models}.'
        ),
        (
            4,
            'The parts of each split (domestic abuse and not; online and not online) are '
            || 'scaled month by month so that they add up to the forecast of all stalking '
            || 'crimes: the total rests on the most data and is the figure the FMS leads with; '
            || 'each part keeps its own pattern and its share. Quarters and years are sums of '
            || 'the months, so every table adds up.'
        ),
        (
            5,
            'The ranges: the 80% range should hold the actual number in 8 years out of 10, the '
            || '95% range in 19 out of 20. A year''s range comes from how far off forecasts of '
            || 'a year''s stalking and harassment were, that far ahead, in the Home Office '
            || '{{ error_pool_years }}; '
            || 'the Assumptions sheet says how often each year''s ranges held when tested on '
            || 'forces the method had never seen. A quarter''s range adds up the monthly ranges.'
        )
    ) as sentences (sentence_order, sentence)
    cross join models_used
),

final as (
    select
        1 as sentence_order,
        string_agg(sentence, '') as sentence
    from not_forecast
    having count(*) > 0
    union all
    select
        sentence_order,
        sentence
    from fixed
    union all
    select
        6 as sentence_order,
        sentence
    from departure
)

select * from final
