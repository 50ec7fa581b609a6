{%- set dip = setting('dip_sample') -%}
-- The assurance dip sample of the profiled quarter (restricted/dip_sample.csv): a stratified
-- random sample of its stalking-universe crimes, strata = identification route x domestic
-- abuse. Each stratum gets max(min_per_stratum, its share of sample_size) crimes, screened
-- strata weighted by screened_weight (over-sampled: screening is the route most in need of
-- checking), never more than it holds. Within a stratum crimes are drawn in the order of
-- md5(seed, crime id): the same seed and crimes give the same sample on any machine and
-- DuckDB version. selection_weight (stratum crimes / sampled) turns audited shares back into
-- estimates for the quarter.
with

run_quarter as (
    select {{ profile_quarter() }} as quarter
),

crimes as (
    select stalking_crimes.*
    from {{ ref('stalking_crimes') }} as stalking_crimes
    inner join run_quarter
        on stalking_crimes.quarter = run_quarter.quarter
),

stratified as (
    select
        *,
        identified_by || case when is_domestic_abuse then ':domestic_abuse' else ':not_domestic_abuse' end
            as stratum,
        case when identified_by = 'screened' then {{ dip['screened_weight'] }} else 1.0 end as draw_weight,
        row_number() over (
            partition by identified_by, is_domestic_abuse
            order by md5('{{ dip["seed"] }}:' || crime_id)
        ) as draw_order
    from crimes
),

strata as (
    select
        stratum,
        count(*) as stratum_crimes,
        any_value(draw_weight) * count(*) as weighted_crimes
    from stratified
    group by stratum
),

allocated as (
    select
        strata.stratum,
        strata.stratum_crimes,
        least(
            strata.stratum_crimes,
            greatest(
                {{ dip['min_per_stratum'] }},
                cast(round(
                    {{ dip['sample_size'] }} * strata.weighted_crimes / sum(strata.weighted_crimes) over ()
                ) as bigint)
            )
        ) as stratum_sample
    from strata
),

final as (
    select
        run_quarter.quarter || '-' || lpad(cast(row_number() over (
            order by stratified.stratum, stratified.draw_order
        ) as varchar), 3, '0') as sample_id,
        stratified.crime_id,
        stratified.quarter,
        stratified.stratum,
        stratified.identified_by,
        stratified.is_domestic_abuse,
        stratified.is_online,
        stratified.reported_date,
        stratified.offence_code,
        stratified.offence_category,
        stratified.risk_level,
        stratified.outcome_group,
        stratified.screening_score,
        stratified.screening_reasons,
        allocated.stratum_crimes,
        allocated.stratum_sample,
        allocated.stratum_crimes / allocated.stratum_sample as selection_weight
    from stratified
    inner join allocated
        on stratified.stratum = allocated.stratum
    cross join run_quarter
    where stratified.draw_order <= allocated.stratum_sample
)

select * from final
