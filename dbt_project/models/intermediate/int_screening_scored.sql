{%- set screening = setting('screening') -%}
{%- set weights = screening['weights'] -%}
{%- set window_days = screening['course_window_days'] -%}
{%- set intense_days = screening['intense_window_days'] -%}
{%- set history_days = screening['suspect_history_days'] -%}
-- Hidden-stalking screening: every crime recorded under a screened category (harassment,
-- malicious communications, breach of order by default) that is not already stalking by its
-- principal or included classification, scored on what records can show of FOUR (Fixated,
-- Obsessive, Unwanted, Repeated) plus escalation, repeated online contact and intelligence.
-- Some signals do not need the suspect to be resolved on every record: the suspect's stalking
-- recorded against anyone, stalking intelligence about the victim, and the victim's other crimes.
-- The suspect's history with other victims cannot flag a crime on its own (see final).
-- All crimes are kept with their score so the threshold can be evaluated; the mart
-- screening_candidates keeps those at or above the threshold.
with

crimes as (
    select * from {{ ref('int_crimes_classified') }}
),

crime_pairs as (
    select * from {{ ref('int_crime_pairs') }}
),

occasions as (
    select * from {{ ref('int_contact_occasions') }}
),

intelligence as (
    select * from {{ ref('int_intelligence_resolved') }}
),

crime_persons as (
    select * from {{ ref('int_crime_persons_resolved') }}
),

-- crimes already stalking by their classification (principal or included)
classified_stalking as (
    select crime_id
    from crimes
    where
        is_principal_stalking
        {%- if setting('stalking_universe')['use_included_classifications'] %}
            or has_included_stalking
        {%- endif %}
),

relationships as (
    select
        crime_id,
        bool_or(relationship_to_victim = 'ex_partner') as is_ex_partner
    from crime_persons
    where role_side = 'perpetrator'
    group by crime_id
),

orders as (
    select * from {{ ref('int_orders_resolved') }}
),

breaches as (
    select * from {{ ref('stg_breaches') }}
),

candidates as (
    select
        crime_id,
        reported_quarter,
        reported_date,
        occasion_date,
        offence_category,
        harm_weight_days,
        is_online,
        risk_level,
        coalesce(date_diff('day', offence_start, offence_end), 0) as offence_span_days
    from crimes
    where
        offence_category in {{ sql_string_list(screening['candidate_categories']) }}
        and not is_principal_stalking
        {%- if setting('stalking_universe')['use_included_classifications'] %}
            and not has_included_stalking
        {%- endif %}
),

candidate_pairs as (
    select
        candidates.crime_id,
        candidates.occasion_date,
        candidates.harm_weight_days,
        candidates.is_online,
        crime_pairs.suspect_person_key,
        crime_pairs.victim_person_key
    from candidates
    inner join crime_pairs
        on candidates.crime_id = crime_pairs.crime_id
),

-- the pair's occasions around each candidate crime; an intelligence report linked to a crime
-- describes that crime's occasion, so it is counted once with it
pair_occasions as (
    select
        candidate_pairs.crime_id,
        candidate_pairs.suspect_person_key,
        candidate_pairs.victim_person_key,
        candidate_pairs.occasion_date as candidate_date,
        candidate_pairs.harm_weight_days as candidate_harm,
        candidate_pairs.is_online as candidate_online,
        occasions.occasion_kind,
        occasions.occasion_date,
        occasions.offence_category,
        occasions.harm_weight_days,
        occasions.is_online,
        occasions.is_stalking_intelligence,
        classified_stalking.crime_id is not null as is_classified_stalking,
        coalesce(occasions.crime_id, occasions.occasion_id) as occasion_key,
        abs(date_diff('day', candidate_pairs.occasion_date, occasions.occasion_date)) as days_apart
    from candidate_pairs
    inner join occasions
        on
            candidate_pairs.suspect_person_key = occasions.suspect_person_key
            and candidate_pairs.victim_person_key = occasions.victim_person_key
    left join classified_stalking
        on
            occasions.crime_id = classified_stalking.crime_id
            and occasions.occasion_kind = 'crime'
    where abs(date_diff('day', candidate_pairs.occasion_date, occasions.occasion_date)) <= {{ window_days }}
),

pair_signals as (
    select
        crime_id,
        suspect_person_key,
        victim_person_key,
        count(distinct occasion_key) as occasions_in_window,
        date_diff('day', min(occasion_date), max(occasion_date)) as span_days,
        count(distinct occasion_key) filter (where days_apart <= {{ intense_days }}) as occasions_intense,
        count(distinct offence_category) as categories_in_window,
        coalesce(bool_or(is_online), false) and coalesce(bool_or(not is_online), false) as is_mixed_mode,
        count(distinct occasion_key) filter (where is_online and occasion_key <> crime_id) as other_online,
        min(harm_weight_days) filter (
            where occasion_kind = 'crime' and occasion_date < candidate_date
        ) as earlier_min_harm,
        any_value(candidate_harm) as candidate_harm,
        any_value(candidate_online) as candidate_online,
        coalesce(bool_or(is_stalking_intelligence), false) as has_pair_intelligence,
        coalesce(bool_or(is_classified_stalking), false) as has_recorded_stalking
    from pair_occasions
    group by crime_id, suspect_person_key, victim_person_key
),

-- suspects with other victims in the course window (prior harassment of other victims)
suspect_victims as (
    select
        candidate_pairs.crime_id,
        count(distinct occasions.victim_person_key) as victims_in_window
    from candidate_pairs
    inner join occasions
        on candidate_pairs.suspect_person_key = occasions.suspect_person_key
    where abs(date_diff('day', candidate_pairs.occasion_date, occasions.occasion_date)) <= {{ window_days }}
    group by candidate_pairs.crime_id
),

-- contact while an order protecting the victim from this suspect was in force
order_contact as (
    select distinct candidate_pairs.crime_id
    from candidate_pairs
    inner join orders
        on
            candidate_pairs.suspect_person_key = orders.subject_person_key
            and candidate_pairs.victim_person_key = orders.protected_person_key
    where
        orders.was_in_force
        and candidate_pairs.occasion_date >= orders.granted_date
        and candidate_pairs.occasion_date <= coalesce(orders.expiry_date, date '9999-12-31')
),

breach_crimes as (
    select distinct crime_id
    from breaches
    where crime_id is not null
),

linked_intelligence as (
    select distinct crime_id
    from intelligence
    where is_stalking_related and crime_id is not null
),

-- the suspect has a crime recorded as stalking (against this or another victim) within the
-- history window: stalking behaviour already recognised in this person (SST: prior stalking)
suspect_history as (
    select
        candidate_pairs.crime_id,
        count(distinct crime_pairs.crime_id) as suspect_stalking_crimes
    from candidate_pairs
    inner join crime_pairs
        on candidate_pairs.suspect_person_key = crime_pairs.suspect_person_key
    inner join classified_stalking
        on crime_pairs.crime_id = classified_stalking.crime_id
    where
        crime_pairs.crime_id <> candidate_pairs.crime_id
        and abs(date_diff('day', candidate_pairs.occasion_date, crime_pairs.occasion_date)) <= {{ history_days }}
    group by candidate_pairs.crime_id
),

candidate_victims as (
    select distinct
        candidates.crime_id,
        candidates.occasion_date,
        persons.person_key as victim_person_key
    from candidates
    inner join crime_persons as persons
        on candidates.crime_id = persons.crime_id
    where persons.role_side = 'victim'
),

-- stalking-related intelligence naming this victim in the window, whoever the subject (the
-- subject of intelligence is often unnamed or unresolved)
victim_intelligence as (
    select distinct candidate_victims.crime_id
    from candidate_victims
    inner join intelligence
        on candidate_victims.victim_person_key = intelligence.victim_person_key
    where
        intelligence.is_stalking_related
        and abs(date_diff('day', candidate_victims.occasion_date, intelligence.submitted_date)) <= {{ window_days }}
),

-- the victim's other crimes in the window, whoever (if anyone) is recorded as suspect
victim_crimes as (
    select
        candidate_victims.crime_id,
        count(distinct other_crimes.crime_id) as victim_other_crimes
    from candidate_victims
    inner join crime_persons as other_victims
        on
            candidate_victims.victim_person_key = other_victims.person_key
            and other_victims.role_side = 'victim'
            and candidate_victims.crime_id <> other_victims.crime_id
    inner join crimes as other_crimes
        on other_victims.crime_id = other_crimes.crime_id
    where abs(date_diff('day', candidate_victims.occasion_date, other_crimes.occasion_date)) <= {{ window_days }}
    group by candidate_victims.crime_id
),

per_crime as (
    select
        candidates.crime_id,
        candidates.reported_quarter,
        candidates.reported_date,
        candidates.offence_category,
        coalesce(max(pair_signals.occasions_in_window), 1) as occasions_in_window,
        coalesce(max(pair_signals.occasions_intense), 1) as occasions_intense,
        coalesce(bool_or(pair_signals.occasions_in_window >= {{ screening['course_min_occasions'] }}), false)
            as is_repeated,
        coalesce(bool_or(pair_signals.has_recorded_stalking), false) as has_recorded_stalking,
        coalesce(bool_or(pair_signals.span_days >= {{ screening['persistent_min_days'] }}), false) as is_persistent,
        coalesce(max(pair_signals.span_days), 0) as course_span_days,
        candidates.offence_span_days >= {{ screening['long_course_days'] }} as is_long_course,
        coalesce(bool_or(pair_signals.occasions_intense >= {{ screening['intense_min_occasions'] }}), false)
            as is_obsessive,
        coalesce(bool_or(
            pair_signals.occasions_in_window >= 2
            and (pair_signals.is_mixed_mode or pair_signals.categories_in_window >= 2)
        ), false) as is_fixated,
        (
            candidates.offence_category = 'breach_of_order'
            or breach_crimes.crime_id is not null
            or order_contact.crime_id is not null
        ) as is_unwanted,
        coalesce(bool_or(pair_signals.candidate_harm > pair_signals.earlier_min_harm), false) as is_escalating,
        coalesce(bool_or(pair_signals.candidate_online and pair_signals.other_online >= 1), false)
            as is_online_repeated,
        linked_intelligence.crime_id is not null as has_linked_intelligence,
        coalesce(bool_or(pair_signals.has_pair_intelligence), false) as has_pair_intelligence,
        coalesce(candidates.risk_level = 'high', false) as is_high_risk,
        coalesce(candidates.risk_level = 'medium', false) as is_medium_risk,
        coalesce(relationships.is_ex_partner, false) as is_ex_partner,
        coalesce(max(suspect_victims.victims_in_window), 0) >= 2 as has_other_victims,
        coalesce(max(suspect_history.suspect_stalking_crimes), 0) >= 1 as has_suspect_stalking_history,
        victim_intelligence.crime_id is not null as has_victim_intelligence,
        coalesce(max(victim_crimes.victim_other_crimes), 0) as victim_other_crimes,
        coalesce(max(victim_crimes.victim_other_crimes), 0) >= {{ screening['victim_min_other_crimes'] }}
            as is_repeat_victim,
        any_value(candidates.offence_span_days) as offence_span_days
    from candidates
    left join pair_signals
        on candidates.crime_id = pair_signals.crime_id
    left join order_contact
        on candidates.crime_id = order_contact.crime_id
    left join breach_crimes
        on candidates.crime_id = breach_crimes.crime_id
    left join linked_intelligence
        on candidates.crime_id = linked_intelligence.crime_id
    left join relationships
        on candidates.crime_id = relationships.crime_id
    left join suspect_victims
        on candidates.crime_id = suspect_victims.crime_id
    left join suspect_history
        on candidates.crime_id = suspect_history.crime_id
    left join victim_intelligence
        on candidates.crime_id = victim_intelligence.crime_id
    left join victim_crimes
        on candidates.crime_id = victim_crimes.crime_id
    group by
        candidates.crime_id,
        candidates.reported_quarter,
        candidates.reported_date,
        candidates.offence_category,
        candidates.risk_level,
        candidates.offence_span_days,
        breach_crimes.crime_id,
        order_contact.crime_id,
        linked_intelligence.crime_id,
        relationships.is_ex_partner,
        victim_intelligence.crime_id
),

scored as (
    select
        *,
        cast(
            case when is_repeated then {{ weights['repeated'] }} else 0 end
            + case when is_obsessive then {{ weights['obsessive'] }} else 0 end
            + case when is_fixated then {{ weights['fixated'] }} else 0 end
            + case when is_unwanted then {{ weights['unwanted'] }} else 0 end
            + case when is_escalating then {{ weights['escalation'] }} else 0 end
            + case when is_online_repeated then {{ weights['online_repeated'] }} else 0 end
            + case when is_persistent then {{ weights['persistent'] }} else 0 end
            + case when has_recorded_stalking then {{ weights['recorded_stalking'] }} else 0 end
            + case when is_long_course then {{ weights['long_course'] }} else 0 end
            + case when has_linked_intelligence then {{ weights['linked_intelligence'] }} else 0 end
            + case when has_pair_intelligence then {{ weights['pair_intelligence'] }} else 0 end
            + case when is_high_risk then {{ weights['high_risk'] }} else 0 end
            + case when is_medium_risk then {{ weights['medium_risk'] }} else 0 end
            + case when is_ex_partner then {{ weights['ex_partner'] }} else 0 end
            + case when has_other_victims then {{ weights['other_victims'] }} else 0 end
            + case when has_suspect_stalking_history then {{ weights['suspect_stalking'] }} else 0 end
            + case when has_victim_intelligence then {{ weights['victim_intelligence'] }} else 0 end
            + case when is_repeat_victim then {{ weights['repeat_victim'] }} else 0 end
            as integer
        ) as score,
        concat_ws(
            '; ',
            case
                when is_repeated and {{ weights['repeated'] }} > 0
                    then
                        'Repeated: ' || occasions_in_window
                        || ' occasions by the same suspect against this victim within {{ window_days }} days'
            end,
            case
                when is_obsessive and {{ weights['obsessive'] }} > 0
                    then 'Obsessive: ' || occasions_intense || ' occasions within {{ intense_days }} days'
            end,
            case
                when
                    is_fixated and {{ weights['fixated'] }} > 0
                    then 'Fixated: the same victim targeted by several means or offence types'
            end,
            case
                when
                    is_unwanted and {{ weights['unwanted'] }} > 0
                    then 'Unwanted: contact in breach of an order protecting the victim'
            end,
            case
                when
                    is_escalating and {{ weights['escalation'] }} > 0
                    then 'Escalation: more harmful than the earlier crime against this victim'
            end,
            case
                when
                    is_online_repeated and {{ weights['online_repeated'] }} > 0
                    then 'Online: repeated online contact with this victim'
            end,
            case
                when has_recorded_stalking and {{ weights['recorded_stalking'] }} > 0
                    then 'Repeated: the same suspect has a crime recorded as stalking against this victim'
            end,
            case
                when is_persistent and {{ weights['persistent'] }} > 0
                    then 'Repeated: contacts with this victim span ' || course_span_days || ' days'
            end,
            case
                when is_long_course and {{ weights['long_course'] }} > 0
                    then 'Repeated: the offence period spans ' || offence_span_days || ' days'
            end,
            case
                when
                    has_linked_intelligence and {{ weights['linked_intelligence'] }} > 0
                    then 'Intelligence: stalking-related intelligence on this crime'
            end,
            case
                when has_pair_intelligence and {{ weights['pair_intelligence'] }} > 0
                    then 'Intelligence: stalking-related intelligence on this suspect and victim'
            end,
            case when is_high_risk and {{ weights['high_risk'] }} > 0 then 'Risk: graded high' end,
            case when is_medium_risk and {{ weights['medium_risk'] }} > 0 then 'Risk: graded medium' end,
            case
                when
                    is_ex_partner and {{ weights['ex_partner'] }} > 0
                    then 'Fixated: the suspect is an ex-partner of the victim'
            end,
            case
                when
                    has_other_victims and {{ weights['other_victims'] }} > 0
                    then 'Repeated: the suspect has other victims in the same period'
            end,
            case
                when has_suspect_stalking_history and {{ weights['suspect_stalking'] }} > 0
                    then
                        'Fixated: the suspect has a crime recorded as stalking within {{ history_days }} days'
            end,
            case
                when has_victim_intelligence and {{ weights['victim_intelligence'] }} > 0
                    then 'Intelligence: stalking-related intelligence about this victim'
            end,
            case
                when is_repeat_victim and {{ weights['repeat_victim'] }} > 0
                    then
                        'Repeated: the victim is the victim of ' || victim_other_crimes
                        || ' other crimes within {{ window_days }} days'
            end
        ) as reasons
    from per_crime
),

-- The suspect's history with other victims (a stalking record, other victims) raises
-- attention but never by itself pulls in a crime against someone else: without a course
-- against this victim (2+ occasions of the pair), the crime's own points must reach the
-- threshold.
final as (
    select
        *,
        score >= {{ screening['threshold'] }}
        and (
            is_repeated
            or score
            - case when has_suspect_stalking_history then {{ weights['suspect_stalking'] }} else 0 end
            - case when has_other_victims then {{ weights['other_victims'] }} else 0 end
            >= {{ screening['threshold'] }}
        ) as is_flagged
    from scored
)

select * from final
