{{ config(materialized="ephemeral", contract={"enforced": false}) }}
-- Per quarter of the spine, the figures the profile's sentences print (rpt_profile_sentences):
-- counts this quarter, the previous one and a year ago, the changes between them as
-- proportions and the words for them. Zero where a model has no row for a quarter, as the
-- tables print it.
with

quarters as (
    select
        quarter,
        previous_quarter,
        year_ago_quarter
    from {{ ref('int_quarters') }}
),

crimes as (
    select * from {{ ref('rpt_crimes_by_category') }}
),

victims as (
    select * from {{ ref('rpt_victims_by_quarter') }}
),

perpetrators as (
    select * from {{ ref('rpt_perpetrators_by_quarter') }}
),

hotspots as (
    select * from {{ ref('rpt_hotspots_by_quarter') }}
),

stalking_orders as (
    select * from {{ ref('rpt_stalking_orders_by_quarter') }}
),

intelligence as (
    select * from {{ ref('rpt_profile_intelligence') }}
),

scope as (
    select * from {{ ref('rpt_data_scope') }}
),

-- The ranking back-test the profile quotes: the longest list, the shortest horizon.
ranking_backtest as (
    select * from {{ ref('rpt_tasking_backtest_summary') }}
    where
        list_length = {{ setting('tasking')['backtest_list_lengths'] | max }}
        and horizon_quarters = {{ setting('tasking')['backtest_horizons_quarters'] | min }}
),

intelligence_by_quarter as (
    select
        quarter,
        sum(reports) filter (where breakdown = 'volume' and category = 'all') as intelligence_reports,
        sum(reports) filter (where breakdown = 'linkage' and category = 'crime') as linked_to_crime,
        sum(reports) filter (where breakdown = 'linkage' and category = 'stalking_crime') as linked_to_stalking_crime,
        sum(reports) filter (where breakdown = 'linkage' and category = 'tasking_subject') as linked_to_tasking_subject
    from intelligence
    group by quarter
),

scope_by_quarter as (
    select
        quarter,
        sum(suspect_records) as suspect_records,
        sum(suspect_records_without_name) as unnamed_suspect_records
    from scope
    group by quarter
),

crimes_by_quarter as (
    select
        quarter,
        sum(crimes) filter (where breakdown = 'domestic_abuse') as crimes,
        sum(crimes) filter (where breakdown = 'domestic_abuse' and category = 'domestic_abuse') as da_crimes,
        sum(crimes) filter (where breakdown = 'domestic_abuse' and category = 'not_domestic_abuse') as not_da_crimes,
        sum(crimes) filter (where breakdown = 'online' and category = 'online') as online_crimes,
        sum(crimes) filter (where breakdown = 'online' and category = 'not_online') as not_online_crimes,
        sum(crimes) filter (where breakdown = 'identification_route' and category = 'principal') as principal_crimes,
        sum(crimes) filter (where breakdown = 'identification_route' and category = 'included') as included_crimes,
        sum(crimes) filter (where breakdown = 'identification_route' and category = 'screened') as screened_crimes
    from crimes
    group by quarter
),

-- Every quarter of the spine, zero where a model has no row (as the tables print it).
figures as (
    select
        quarters.quarter,
        quarters.previous_quarter,
        quarters.year_ago_quarter,
        cast(coalesce(crimes_by_quarter.crimes, 0) as bigint) as crimes,
        cast(coalesce(crimes_by_quarter.da_crimes, 0) as bigint) as da_crimes,
        cast(coalesce(crimes_by_quarter.not_da_crimes, 0) as bigint) as not_da_crimes,
        cast(coalesce(crimes_by_quarter.online_crimes, 0) as bigint) as online_crimes,
        cast(coalesce(crimes_by_quarter.not_online_crimes, 0) as bigint) as not_online_crimes,
        cast(coalesce(crimes_by_quarter.principal_crimes, 0) as bigint) as principal_crimes,
        cast(coalesce(crimes_by_quarter.included_crimes, 0) as bigint) as included_crimes,
        cast(coalesce(crimes_by_quarter.screened_crimes, 0) as bigint) as screened_crimes,
        coalesce(victims.repeat_victims, 0) as repeat_victims,
        coalesce(perpetrators.perpetrators, 0) as perpetrators,
        coalesce(perpetrators.serial_perpetrators, 0) as serial_perpetrators,
        coalesce(perpetrators.high_harm_perpetrators, 0) as high_harm_perpetrators,
        coalesce(perpetrators.high_harm_without_order, 0) as high_harm_without_order,
        coalesce(hotspots.hot_cells, 0) as hot_cells,
        coalesce(hotspots.located_crimes, 0) as located_crimes,
        coalesce(hotspots.crimes_in_predicted_cells, 0) as crimes_in_predicted_cells,
        coalesce(hotspots.located_crimes_predicted, 0) as located_crimes_predicted,
        coalesce(stalking_orders.spo_in_force, 0) as spo_in_force,
        coalesce(victims.victims, 0) as victims,
        coalesce(victims.repeat_victims_with_crime_in_quarter, 0) as repeat_share,
        cast(coalesce(intelligence_by_quarter.intelligence_reports, 0) as bigint) as intelligence_reports,
        cast(coalesce(intelligence_by_quarter.linked_to_crime, 0) as bigint) as linked_to_crime,
        cast(coalesce(intelligence_by_quarter.linked_to_stalking_crime, 0) as bigint) as linked_to_stalking_crime,
        cast(coalesce(intelligence_by_quarter.linked_to_tasking_subject, 0) as bigint) as linked_to_tasking_subject,
        cast(coalesce(scope_by_quarter.suspect_records, 0) as bigint) as suspect_records,
        cast(coalesce(scope_by_quarter.unnamed_suspect_records, 0) as bigint) as unnamed_suspect_records
    from quarters
    left join crimes_by_quarter on quarters.quarter = crimes_by_quarter.quarter
    left join victims on quarters.quarter = victims.quarter
    left join perpetrators on quarters.quarter = perpetrators.quarter
    left join hotspots on quarters.quarter = hotspots.quarter
    left join stalking_orders on quarters.quarter = stalking_orders.quarter
    left join intelligence_by_quarter on quarters.quarter = intelligence_by_quarter.quarter
    left join scope_by_quarter on quarters.quarter = scope_by_quarter.quarter
),

-- A quarter before the spine's first counts as zero, as the comparison tables print it.
compared as (
    select
        this_quarter.*,
        coalesce(previous.crimes, 0) as crimes_previous,
        coalesce(year_ago.crimes, 0) as crimes_year_ago,
        coalesce(year_ago.da_crimes, 0) as da_crimes_year_ago,
        coalesce(year_ago.not_da_crimes, 0) as not_da_crimes_year_ago,
        coalesce(year_ago.online_crimes, 0) as online_crimes_year_ago,
        coalesce(year_ago.not_online_crimes, 0) as not_online_crimes_year_ago,
        coalesce(year_ago.repeat_victims, 0) as repeat_victims_year_ago,
        coalesce(year_ago.spo_in_force, 0) as spo_in_force_year_ago,
        -- the stalking protection orders granted a year ago, followed up since
        year_ago_orders.grants_followed_up as followup_granted,
        year_ago_orders.breached_in_followup as followup_breached,
        year_ago_orders.followup_months
    from figures as this_quarter
    left join figures as previous on this_quarter.previous_quarter = previous.quarter
    left join figures as year_ago on this_quarter.year_ago_quarter = year_ago.quarter
    left join stalking_orders as year_ago_orders on this_quarter.year_ago_quarter = year_ago_orders.quarter
),

-- Changes as proportions (null when the earlier count is zero: no change can be said).
changes as (
    select
        *,
        (crimes - crimes_previous) / nullif(cast(crimes_previous as double), 0) as crimes_change_previous,
        (crimes - crimes_year_ago) / nullif(cast(crimes_year_ago as double), 0) as crimes_change_year,
        (repeat_victims - repeat_victims_year_ago)
        / nullif(cast(repeat_victims_year_ago as double), 0) as repeat_victims_change_year,
        (spo_in_force - spo_in_force_year_ago)
        / nullif(cast(spo_in_force_year_ago as double), 0) as spo_in_force_change_year,
        -- percentage points between the two online shares, whole points rounded half up
        {{ whole_percent(
            'online_crimes / nullif(cast(online_crimes + not_online_crimes as double), 0)'
            ~ ' - online_crimes_year_ago'
            ~ ' / nullif(cast(online_crimes_year_ago + not_online_crimes_year_ago as double), 0)'
        ) }} as online_points_change
    from compared
),

-- The words of each change: within 5 % either way is stable.
worded as (
    select
        *,
        {{ change_words('crimes_change_previous', 'was stable') }} as crimes_direction_previous,
        {{ change_words('crimes_change_year', 'was stable') }} as crimes_direction_year,
        {{ change_words('crimes_change_year', 'were stable') }} as crimes_direction_year_plural,
        {{ change_words('repeat_victims_change_year', 'was stable') }} as repeat_victims_direction_year,
        {{ change_words('spo_in_force_change_year', 'was stable') }} as spo_in_force_direction_year,
        case
            when online_points_change = 0 then 'unchanged on a year earlier'
            else
                cast(abs(online_points_change) as varchar) || ' percentage points '
                || case when online_points_change > 0 then 'up' else 'down' end || ' on a year ago'
        end as online_change_words
    from changes
),

-- The latest ranking a year old (is_mean false) and the mean over all such rankings, per method.
backtest_by_quarter as (
    select
        quarter,
        any_value(ranking_of) filter (where not is_mean and method = 'rfgv') as backtest_ranking_of,
        any_value(listed) filter (where not is_mean and method = 'rfgv') as backtest_listed,
        any_value(listed_reoffending) filter (where not is_mean and method = 'rfgv') as rfgv_reoffending,
        any_value(listed_reoffending) filter (where not is_mean and method = 'crime_count_12m') as count_reoffending,
        any_value(listed_reoffending) filter (where not is_mean and method = 'most_recent') as recency_reoffending,
        any_value(rankings) filter (where is_mean and method = 'rfgv') as backtest_rankings,
        -- re-offenders summed over those rankings with the list places they fill: a mean share
        -- over few rankings is their ratio, so it prints only when this count would
        any_value(listed) filter (where is_mean and method = 'rfgv') as rfgv_listed_all,
        any_value(listed_reoffending) filter (where is_mean and method = 'rfgv') as rfgv_reoffending_all,
        any_value(listed) filter (where is_mean and method = 'crime_count_12m') as count_listed_all,
        any_value(listed_reoffending) filter (
            where is_mean and method = 'crime_count_12m'
        ) as count_reoffending_all,
        any_value(listed) filter (where is_mean and method = 'most_recent') as recency_listed_all,
        any_value(listed_reoffending) filter (
            where is_mean and method = 'most_recent'
        ) as recency_reoffending_all,
        any_value(precision_at_k) filter (where is_mean and method = 'rfgv') as rfgv_precision,
        any_value(precision_at_k) filter (where is_mean and method = 'crime_count_12m') as count_precision,
        any_value(precision_at_k) filter (where is_mean and method = 'most_recent') as recency_precision,
        any_value(auc) filter (where is_mean and method = 'rfgv') as rfgv_auc,
        any_value(auc) filter (where is_mean and method = 'crime_count_12m') as count_auc,
        any_value(auc) filter (where is_mean and method = 'most_recent') as recency_auc
    from ranking_backtest
    group by quarter
),

final as (
    select
        worded.*,
        backtest_by_quarter.backtest_ranking_of,
        backtest_by_quarter.backtest_listed,
        backtest_by_quarter.rfgv_reoffending,
        backtest_by_quarter.count_reoffending,
        backtest_by_quarter.recency_reoffending,
        backtest_by_quarter.backtest_rankings,
        backtest_by_quarter.rfgv_listed_all,
        backtest_by_quarter.rfgv_reoffending_all,
        backtest_by_quarter.count_listed_all,
        backtest_by_quarter.count_reoffending_all,
        backtest_by_quarter.recency_listed_all,
        backtest_by_quarter.recency_reoffending_all,
        backtest_by_quarter.rfgv_precision,
        backtest_by_quarter.count_precision,
        backtest_by_quarter.recency_precision,
        backtest_by_quarter.rfgv_auc,
        backtest_by_quarter.count_auc,
        backtest_by_quarter.recency_auc
    from worded
    left join backtest_by_quarter
        on worded.quarter = backtest_by_quarter.quarter
)

select * from final
