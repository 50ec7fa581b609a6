{%- set lookback_years = setting('perpetrators')['serial_lookback_years'] -%}
{%- set list_length = setting('tasking')['list_length'] -%}
-- Who left the list since the previous quarter, and what the data say about why. reason is
-- the scoring reason; context lists what else the records show this quarter (an order granted,
-- a crime charged). What the extracts cannot tell (custody, death, moving out of the force
-- area, an order or charge in another force) is stated once in data_cannot_tell.
with

quarters as (
    select
        quarter,
        q_start,
        q_end,
        lag(quarter) over (order by q_start) as previous_quarter
    from {{ ref('int_quarters') }}
),

perpetrators as (
    select * from {{ ref('perpetrators') }}
),

left_list as (
    select
        quarters.quarter,
        quarters.q_start,
        quarters.q_end,
        previous.person_key,
        previous.rank as previous_rank,
        previous.rfgv_score as previous_score
    from quarters
    inner join perpetrators as previous
        on quarters.previous_quarter = previous.quarter and previous.is_on_tasking_list
    left join perpetrators as now
        on quarters.quarter = now.quarter and previous.person_key = now.person_key
    where not coalesce(now.is_on_tasking_list, false)
),

orders_granted as (
    select
        left_list.quarter,
        left_list.person_key,
        string_agg(distinct orders.order_type, ', ' order by orders.order_type) as order_types
    from left_list
    inner join {{ ref('int_orders_resolved') }} as orders
        on
            left_list.person_key = orders.subject_person_key
            and orders.granted_date between left_list.q_start and left_list.q_end
    group by left_list.quarter, left_list.person_key
),

charged as (
    select
        left_list.quarter,
        left_list.person_key,
        count(distinct crimes.crime_id) as crimes_charged
    from left_list
    inner join {{ ref('int_perpetrations') }} as perpetrations
        on left_list.person_key = perpetrations.person_key
    inner join {{ ref('int_stalking_crimes') }} as crimes
        on
            perpetrations.crime_id = crimes.crime_id
            and crimes.outcome_group = 'charge_summons'
            and crimes.outcome_date between left_list.q_start and left_list.q_end
    group by left_list.quarter, left_list.person_key
),

subjects as (
    select distinct
        person_key,
        subject_reference,
        best_name
    from {{ ref('rpt_tasking_list') }}
),

final as (
    select
        left_list.quarter,
        left_list.person_key,
        left_list.previous_rank,
        left_list.previous_score,
        now.rank as current_rank,
        now.rfgv_score as current_score,
        case
            when now.person_key is null
                then
                    'no stalking-universe crime in the {{ lookback_years }}-year look-back'
            when now.is_high_harm
                then
                    'still above the high-harm cut-off, ranked ' || now.rank
                    || ' (beyond the list of {{ list_length }})'
            when now.last_reported_date < left_list.q_start
                then
                    'score fell below the cut-off (' || left_list.previous_score || ' to '
                    || now.rfgv_score || '): no new stalking crime this quarter, last reported '
                    || now.days_since_last_crime || ' days before the quarter end'
            else
                'score fell below the cut-off (' || left_list.previous_score || ' to '
                || now.rfgv_score || ')'
        end as reason,
        concat_ws(
            '; ',
            case
                when orders_granted.order_types is not null then
                    'order granted this quarter (' || orders_granted.order_types || ')'
            end,
            case
                when charged.crimes_charged > 0 then
                    charged.crimes_charged || ' crime' || case when charged.crimes_charged = 1 then '' else 's' end
                    || ' charged or summonsed this quarter'
            end
        ) as context,
        'custody, death, moving out of the force area, and orders or charges in another force '
        || 'are not in the extracts: check the records system' as data_cannot_tell,
        -- who they are, as the list named them
        subjects.subject_reference,
        subjects.best_name
    from left_list
    left join perpetrators as now
        on left_list.quarter = now.quarter and left_list.person_key = now.person_key
    left join orders_granted
        on left_list.quarter = orders_granted.quarter and left_list.person_key = orders_granted.person_key
    left join charged
        on left_list.quarter = charged.quarter and left_list.person_key = charged.person_key
    left join subjects on left_list.person_key = subjects.person_key
)

select * from final
