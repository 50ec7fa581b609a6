{%- set lookback_years = setting('perpetrators')['serial_lookback_years'] -%}
{%- set second_id = setting('resolution')['rule_joins']['second_id'] -%}
{%- set unknown_suspect = setting('resolution')['rule_joins']['unknown_suspect'] -%}
-- The restricted tasking list (OFFICIAL-SENSITIVE): every quarter's high-harm perpetrators in
-- rank order (is_on_tasking_list: the top tasking.list_length the meeting discusses) with the
-- facts the pack prints beside the RFGV score: a stable pseudonymous subject reference, best
-- name and date of birth (resolution), area, orders in force at the quarter's end with their
-- expiry, online conduct, flags with reasons and the suggested action (rpt_tasking_flags),
-- movement since the previous quarter (rpt_tasking_movement) and the link confidence the row
-- rests on (the weakest link among the records its rank is scored on: int_tasking_rank_links;
-- perpetrators: distinct victims, serial recorded vs
-- including screened courses; rule_join_note when a join no model scored holds the subject
-- or a counted victim together). The list's words are built here too: the short flag labels
-- (flags) and the plain-English reasons for the listing, strongest first (why_on_list).
with

quarters as (
    select * from {{ ref('int_quarters') }}
),

perpetrators as (
    select * from {{ ref('perpetrators') }}
    where is_high_harm
),

persons as (
    select * from {{ source('resolution', 'dim_persons') }}
),

orders as (
    select * from {{ ref('int_orders_resolved') }}
),

perpetrations as (
    select * from {{ ref('int_perpetrations') }}
),

areas as (
    select * from {{ ref('rpt_tasking_subject_area') }}
),

flags as (
    select * from {{ ref('rpt_tasking_flags') }}
),

movement as (
    select * from {{ ref('rpt_tasking_movement') }}
),

-- the weakest link among the records the rank rests on (its crimes and their counted
-- victims), not the whole identity's: a join to an intelligence report the rank does not count
-- would make a chair doubt a well-founded rank
rank_links as (
    select * from {{ ref('int_tasking_rank_links') }}
),

listed as (
    select
        perpetrators.*,
        quarters.q_start,
        quarters.q_end
    from perpetrators
    inner join quarters on perpetrators.quarter = quarters.quarter
),

active_orders as (
    select
        listed.quarter,
        listed.person_key,
        string_agg(
            case
                when orders.expiry_date is not null
                    then orders.order_type || ' to ' || strftime(orders.expiry_date, '%d %b %Y')
                else orders.order_type || ' (no expiry)'
            end,
            '; '
            order by orders.expiry_date nulls last, orders.order_type
        ) as active_orders
    from listed
    inner join orders
        on
            listed.person_key = orders.subject_person_key
            and orders.was_in_force
            and listed.q_end >= orders.granted_date
            and coalesce(orders.expiry_date, date '9999-12-31') >= listed.q_end
    group by listed.quarter, listed.person_key
),

online as (
    select
        listed.quarter,
        listed.person_key,
        bool_or(coalesce(perpetrations.is_online, false)) as is_online
    from listed
    inner join perpetrations
        on
            listed.person_key = perpetrations.person_key
            and perpetrations.reported_date > listed.q_end - interval {{ lookback_years }} year
            and listed.q_end >= perpetrations.reported_date
    group by listed.quarter, listed.person_key
),

final as (
    select
        listed.quarter,
        listed.rank,
        listed.person_key,
        -- a pseudonymous reference for minutes and actions: stable while the person key is
        'S-' || upper(substr(md5('subject:' || listed.person_key), 1, 8)) as subject_reference,
        nullif(trim(concat_ws(' ', persons.forename, upper(persons.surname))), '') as best_name,
        persons.date_of_birth,
        coalesce(areas.area, 'not recorded') as area,
        coalesce(areas.area_basis, 'no home postcode recorded') as area_basis,
        listed.rfgv_score,
        listed.recency_score,
        listed.frequency_score,
        listed.gravity_score,
        listed.victims_score,
        listed.victims_total,
        listed.crimes_total,
        listed.crimes_12m,
        listed.breaches_12m,
        listed.has_active_order,
        active_orders.active_orders,
        listed.last_reported_date as last_offence_date,
        -- recency beside harm: the list ranks by harm (RFGV), while the most recent offending
        -- picked out who re-offended better in the back-test; the chair sees both, the ranking
        -- is unchanged
        datediff('day', listed.last_reported_date, listed.q_end) as days_since_last_offence,
        listed.last_reported_date >= listed.q_start as is_recently_active,
        listed.score_band,
        listed.highest_recorded_risk_12m,
        listed.has_domestic_abuse,
        online.is_online,
        listed.is_repeat,
        listed.is_serial,
        listed.is_on_tasking_list,
        listed.harm_total,
        listed.is_serial_recorded,
        listed.is_serial_including_screened,
        listed.distinct_victims_confident,
        listed.victims_at_a_shared_home,
        rank_links.weakest_link_probability,
        rank_links.weakest_link_rule_joins,
        rank_links.weakest_link_rule_joins is not null as rests_on_rule_join,
        -- the rule joins in words, with how often each rule's joins were right where checked
        -- (settings resolution.rule_joins: the figure weakest_link_probability counts it at)
        case
            when rank_links.weakest_link_rule_joins is not null
                then 'Rests on ' || concat_ws(
                    ' and ',
                    case
                        when contains(rank_links.weakest_link_rule_joins, 'second_id')
                            then
                                'a second-id join (no score: right in {{ second_id["right"] }}'
                                || ' of {{ second_id["joins"] }} checked, counted as '
                                || '{{ "%.2f" | format(second_id["probability"]) }})'
                    end,
                    case
                        when contains(rank_links.weakest_link_rule_joins, 'unknown_suspect')
                            then
                                'an unknown-suspect join (no score: right in {{ unknown_suspect["right"] }}'
                                || ' of {{ unknown_suspect["joins"] }} checked, counted as '
                                || '{{ "%.2f" | format(unknown_suspect["probability"]) }})'
                    end
                )
        end as rule_join_note,
        flags.flag_order_not_working,
        flags.flag_escalation,
        flags.flag_new_victim,
        flags.flag_no_spo_considered,
        flags.flag_online_only,
        flags.breaches_in_force_12m,
        flags.new_victims_in_quarter,
        flags.flag_reasons,
        flags.suggested_action,
        movement.movement,
        movement.previous_rank,
        movement.previous_score,
        movement.score_change,
        movement.identity_note
    from listed
    left join persons on listed.person_key = persons.person_key
    left join areas on listed.person_key = areas.person_key
    left join flags on listed.quarter = flags.quarter and listed.person_key = flags.person_key
    left join movement on listed.quarter = movement.quarter and listed.person_key = movement.person_key
    inner join rank_links on listed.quarter = rank_links.quarter and listed.person_key = rank_links.person_key
    left join active_orders on listed.quarter = active_orders.quarter and listed.person_key = active_orders.person_key
    left join online on listed.quarter = online.quarter and listed.person_key = online.person_key
),

-- the score components that equal the highest one (ties are named together)
strongest as (
    select
        scored.quarter,
        scored.person_key,
        flatten([
            case when scored.recency_score = scored.top then ['recent offending'] else [] end,
            case when scored.frequency_score = scored.top then ['frequent offending'] else [] end,
            case when scored.gravity_score = scored.top then ['grave offending'] else [] end,
            case when scored.victims_score = scored.top then ['several victims'] else [] end
        ]) as components
    from (
        select
            quarter,
            person_key,
            recency_score,
            frequency_score,
            gravity_score,
            victims_score,
            greatest(recency_score, frequency_score, gravity_score, victims_score) as top
        from final
    ) as scored
),

reasons as (
    select
        final.quarter,
        final.person_key,
        concat_ws(
            ', ',
            case when final.flag_order_not_working then 'order not working' end,
            case when final.flag_escalation then 'escalating' end,
            case when final.flag_new_victim then 'new victim' end,
            case when final.flag_no_spo_considered then 'no SPO considered' end,
            case when final.flag_online_only then 'online only' end,
            case when final.is_serial then 'serial' end,
            case when final.has_domestic_abuse then 'DA' end
        ) as flags,
        -- concat_ws leaves out the reasons that do not apply (null)
        concat_ws(
            '; ',
            case
                when final.is_serial
                    then
                        'serial: ' || final.distinct_victims_confident
                        || ' established, confidently different victims ('
                        || coalesce(final.victims_total, 0) || ' in all)'
            end,
            -- why victims the list counts in all are fewer as different people
            case
                when final.victims_at_a_shared_home > 0
                    then
                        final.victims_at_a_shared_home
                        || ' established victims share a home postcode with another: counted once'
                        || ' per home (one person recorded twice, or one household)'
            end,
            case
                when final.crimes_12m is not null
                    then
                        final.crimes_12m || ' stalking crime'
                        || case when final.crimes_12m != 1 then 's' else '' end
                        || ' in 12 months (' || coalesce(final.crimes_total, 0)
                        || ' in the look-back)'
                when coalesce(final.crimes_total, 0) != 0
                    then
                        final.crimes_total || ' stalking-universe crime'
                        || case when final.crimes_total != 1 then 's' else '' end
            end,
            case
                when coalesce(final.breaches_12m, 0) != 0
                    then
                        final.breaches_12m || ' order breach'
                        || case when final.breaches_12m != 1 then 'es' else '' end
                        || ' in 12 months'
            end,
            case when not coalesce(final.has_active_order, false) then 'no active protective order' end,
            case
                when lower(coalesce(final.highest_recorded_risk_12m, '')) = 'high'
                    then 'risk assessed as high on a crime in the last 12 months'
            end,
            case
                when len(strongest.components) = 1
                    then 'score driven most by ' || strongest.components[1]
                when len(strongest.components) > 1
                    then
                        'score driven most by '
                        || array_to_string(strongest.components[1:-2], ', ')
                        || ' and ' || strongest.components[-1]
            end
        ) as reason_text
    from final
    left join strongest on final.quarter = strongest.quarter and final.person_key = strongest.person_key
)

select
    final.*,
    reasons.flags,
    case
        when reasons.reason_text = '' then 'Above the high-harm threshold'
        else upper(reasons.reason_text[1]) || reasons.reason_text[2:]
    end as why_on_list,
    -- filled in by the tasking meeting
    '' as owner,
    '' as review_date,
    -- the HTML pages read 'none' where the sheets leave the cell empty
    coalesce(final.active_orders, 'none') as active_orders_on_page,
    -- the subject page says in words what the sheets' two serial flags say
    case
        when final.is_serial_recorded then 'recorded'
        when final.is_serial_including_screened then 'with screened victims'
        else 'no'
    end as serial_on_page
from final
inner join reasons on final.quarter = reasons.quarter and final.person_key = reasons.person_key
