-- The demand series add up: monthly all_stalking totals the stalking universe reported from
-- the start of continuous recording, outside delivery gaps; DA + non-DA, online + offline and
-- the three identification routes each equal all_stalking in every period; monthly values add
-- up to the quarterly ones; a value is missing exactly in a delivery gap.
with

series as (
    select * from {{ ref('demand_series') }}
),

pivoted as (
    select
        period,
        period_start,
        sum(value) filter (where series = 'all_stalking') as all_stalking,
        sum(value) filter (where series in ('domestic_abuse', 'non_domestic_abuse')) as by_domestic_abuse,
        sum(value) filter (where series in ('online', 'offline')) as by_online,
        sum(value) filter (where series like 'identified\_%' escape '\') as by_route,
        sum(value) filter (where series like 'category\_%' escape '\') as by_category
    from series
    group by period, period_start
),

split_mismatch as (
    select
        period,
        period_start,
        'split does not add up' as problem
    from pivoted
    where
        all_stalking <> by_domestic_abuse
        or all_stalking <> by_online
        or all_stalking <> by_route
        or all_stalking <> by_category
),

-- stalking crimes the monthly series count: none before the history or in a gap
counted_crimes as (
    select count(*) as crimes
    from {{ ref('stalking_crimes') }} as crimes
    left join {{ ref('int_recording_months') }} as recording
        on date_trunc('month', crimes.reported_date) = recording.month_start
    where not coalesce(recording.is_before_history or recording.is_delivery_gap, false)
),

monthly_total as (
    select coalesce(sum(value), 0) as total
    from series
    where series = 'all_stalking' and period = 'month'
),

total_mismatch as (
    select
        'month' as period,
        cast(null as date) as period_start,
        'monthly total differs from stalking_crimes' as problem
    from counted_crimes
    cross join monthly_total
    where counted_crimes.crimes <> monthly_total.total
),

quarter_mismatch as (
    select
        'quarter' as period,
        quarters.period_start,
        'months do not add up to the quarter' as problem
    from series as quarters
    inner join series as months
        on
            quarters.series = months.series
            and months.period = 'month'
            and quarters.period_start <= months.period_start
            and quarters.period_start + interval 3 month > months.period_start
    where quarters.period = 'quarter'
    group by quarters.series, quarters.period_start, quarters.value
    having sum(months.value) <> quarters.value
),

missing_mismatch as (
    select
        period,
        period_start,
        'value missing outside a delivery gap, or present in one' as problem
    from series
    where (value is null) <> is_delivery_gap
)

select * from split_mismatch
union all
select * from missing_mismatch
union all
select * from total_mismatch
union all
select * from quarter_mismatch
