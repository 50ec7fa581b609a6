-- Stalking protection orders from the crime's side, over the rolling four quarters ending with
-- the quarter (by report date), per domestic-abuse group: stalking-universe crimes, how many
-- recorded that an SPO was considered, how many led to an SPO or interim SPO application, and
-- how many to an order granted. The super-complaint asks that an SPO is considered in every case.
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

crimes as (
    select * from {{ ref('int_stalking_crimes') }}
),

spo_orders as (
    select
        crime_id,
        bool_or(granted_date is not null) as was_granted
    from {{ ref('int_orders_resolved') }}
    where is_stalking_order and crime_id is not null
    group by crime_id
),

-- counted from the crimes, which all carry the flag: no order without a crime reaches this table
groups as (
    select * from {{ ref('domestic_abuse_groups') }}
    where da_group <> 'no_crime'
),

crime_rows as (
    select
        crimes.reported_date,
        crimes.is_domestic_abuse,
        coalesce(crimes.spo_considered, false) as spo_considered,
        spo_orders.crime_id is not null as spo_applied,
        coalesce(spo_orders.was_granted, false) as spo_granted
    from crimes
    left join spo_orders on crimes.crime_id = spo_orders.crime_id
),

final as (
    select
        quarters.quarter,
        {{ quarter_of('cast(quarters.q_end - interval 12 month + interval 1 day as date)') }} as window_first_quarter,
        groups.da_group,
        groups.da_label,
        cast(groups.da_order as integer) as da_order,
        count(crime_rows.reported_date) as stalking_crimes,
        count(crime_rows.reported_date) filter (where crime_rows.spo_considered) as spo_considered,
        count(crime_rows.reported_date) filter (where crime_rows.spo_applied) as spo_applied,
        count(crime_rows.reported_date) filter (where crime_rows.spo_granted) as spo_granted
    from quarters
    cross join groups
    left join crime_rows
        on
            crime_rows.reported_date > quarters.q_end - interval 12 month
            and quarters.q_end >= crime_rows.reported_date
            and (
                groups.da_group = 'all'
                or (groups.da_group = 'domestic_abuse' and crime_rows.is_domestic_abuse)
                or (groups.da_group = 'not_domestic_abuse' and not crime_rows.is_domestic_abuse)
            )
    group by all
)

select * from final
