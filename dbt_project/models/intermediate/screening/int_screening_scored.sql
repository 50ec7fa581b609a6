{%- set screening = setting('screening') -%}
{%- set weights = screening['weights'] -%}
{%- set window_days = screening['course_window_days'] -%}
{%- set intense_days = screening['intense_window_days'] -%}
{%- set history_days = screening['suspect_history_days'] -%}
-- Hidden-stalking screening score: every screened crime (int_screening_candidates) with the
-- indicators of each family (the course against this victim, unwanted contact, the suspect's
-- history with other victims, the victim's situation), their points (settings
-- screening.weights) and the reasons in words. All screened crimes are kept with their score so
-- the threshold can be evaluated; the mart screening_candidates keeps the flagged ones. The
-- threshold is the run's (int_screening_threshold: calibrated on the force's reviewed sample,
-- an override, else settings screening.threshold).
with

candidates as (
    select * from {{ ref('int_screening_candidates') }}
),

pair_course as (
    select * from {{ ref('int_screening_pair_course') }}
),

unwanted_contact as (
    select * from {{ ref('int_screening_unwanted_contact') }}
),

suspect_history as (
    select * from {{ ref('int_screening_suspect_history') }}
),

victim_signals as (
    select * from {{ ref('int_screening_victim_signals') }}
),

run_threshold as (
    select * from {{ ref('int_screening_threshold') }}
),

per_crime as (
    select
        candidates.crime_id,
        candidates.reported_quarter,
        candidates.reported_date,
        candidates.offence_category,
        coalesce(pair_course.occasions_in_window, 1) as occasions_in_window,
        coalesce(pair_course.occasions_intense, 1) as occasions_intense,
        coalesce(pair_course.concern_occasions, 0) as concern_occasions,
        coalesce(pair_course.has_repeated_concern, false) as has_repeated_concern,
        coalesce(pair_course.is_varied_intense, false) as is_varied_intense,
        coalesce(pair_course.has_high_risk_periods, false) as has_high_risk_periods,
        coalesce(pair_course.is_repeated, false) as is_repeated,
        coalesce(pair_course.has_recorded_stalking, false) as has_recorded_stalking,
        coalesce(pair_course.has_pair_stalking_history, false) as has_pair_stalking_history,
        coalesce(pair_course.has_pair_stalking_order, false) as has_pair_stalking_order,
        coalesce(pair_course.is_persistent, false) as is_persistent,
        coalesce(pair_course.course_span_days, 0) as course_span_days,
        candidates.is_long_course,
        candidates.is_sustained,
        coalesce(pair_course.is_obsessive, false) as is_obsessive,
        coalesce(pair_course.is_fixated, false) as is_fixated,
        coalesce(unwanted_contact.is_unwanted, false) as is_unwanted,
        coalesce(pair_course.is_escalating, false) as is_escalating,
        coalesce(pair_course.is_online_repeated, false) as is_online_repeated,
        candidates.has_linked_intelligence,
        -- stalking is most often recorded as harassment (DOMAIN.md s2): intelligence that the
        -- harassment is stalking-related says so about this very crime
        candidates.offence_category = 'harassment' and candidates.has_linked_intelligence
            as has_harassment_intelligence,
        coalesce(pair_course.has_pair_intelligence, false) as has_pair_intelligence,
        candidates.is_high_risk,
        candidates.is_medium_risk,
        candidates.is_ex_partner,
        coalesce(suspect_history.has_other_victims, false) as has_other_victims,
        coalesce(suspect_history.has_suspect_stalking_history, false) as has_suspect_stalking_history,
        coalesce(victim_signals.has_victim_intelligence, false) as has_victim_intelligence,
        coalesce(victim_signals.victim_other_crimes, 0) as victim_other_crimes,
        coalesce(victim_signals.is_repeat_victim, false) as is_repeat_victim,
        coalesce(victim_signals.victim_unnamed_suspect_crimes, 0) as victim_unnamed_suspect_crimes,
        coalesce(victim_signals.has_unnamed_suspect_course, false) as has_unnamed_suspect_course,
        coalesce(victim_signals.has_victim_recorded_stalking, false) as has_victim_recorded_stalking,
        candidates.offence_span_days
    from candidates
    left join pair_course
        on candidates.crime_id = pair_course.crime_id
    left join unwanted_contact
        on candidates.crime_id = unwanted_contact.crime_id
    left join suspect_history
        on candidates.crime_id = suspect_history.crime_id
    left join victim_signals
        on candidates.crime_id = victim_signals.crime_id
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
            + case when has_pair_stalking_order then {{ weights['stalking_order'] }} else 0 end
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
            + case when is_sustained then {{ weights['sustained'] }} else 0 end
            + case when has_unnamed_suspect_course then {{ weights['unnamed_suspect_course'] }} else 0 end
            + case when has_victim_recorded_stalking then {{ weights['victim_recorded_stalking'] }} else 0 end
            + case when has_repeated_concern then {{ weights['repeated_concern'] }} else 0 end
            + case when is_varied_intense then {{ weights['varied_intense_course'] }} else 0 end
            + case when has_harassment_intelligence then {{ weights['harassment_intelligence'] }} else 0 end
            + case when has_high_risk_periods then {{ weights['high_risk_periods'] }} else 0 end
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
                -- the pair's suspect may be the unknown person behind the victim's unnamed crimes
                when has_recorded_stalking and {{ weights['recorded_stalking'] }} > 0
                    then
                        'Repeated: a crime recorded as stalking against this victim, by this '
                        || 'suspect or (where none is named) an unnamed one'
            end,
            case
                when has_pair_stalking_order and {{ weights['stalking_order'] }} > 0
                    then 'Repeated: a stalking protection order was sought between the suspect and this victim'
            end,
            case
                when is_persistent and {{ weights['persistent'] }} > 0
                    then 'Repeated: contacts with this victim span ' || course_span_days || ' days'
            end,
            case
                -- a sustained period says it once, below
                when
                    is_long_course and {{ weights['long_course'] }} > 0
                    and not (is_sustained and {{ weights['sustained'] }} > 0)
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
            end,
            case
                when is_sustained and {{ weights['sustained'] }} > 0
                    then
                        'Repeated: the offence period spans ' || offence_span_days
                        || ' days (a week or more)'
            end,
            case
                when has_unnamed_suspect_course and {{ weights['unnamed_suspect_course'] }} > 0
                    then
                        'Repeated: ' || victim_unnamed_suspect_crimes
                        || ' other crime(s) against this victim within {{ window_days }} days name no suspect'
            end,
            case
                when has_victim_recorded_stalking and {{ weights['victim_recorded_stalking'] }} > 0
                    then
                        'Repeated: this crime names no suspect and a crime against this victim within '
                        || '{{ window_days }} days is recorded as stalking'
            end,
            case
                when has_repeated_concern and {{ weights['repeated_concern'] }} > 0
                    then
                        'Repeated: ' || concern_occasions || ' occasions by the same suspect against '
                        || 'this victim within {{ window_days }} days graded medium or high risk or '
                        || 'reported as stalking intelligence'
            end,
            case
                when is_varied_intense and {{ weights['varied_intense_course'] }} > 0
                    then
                        'Fixated: {{ screening['varied_course_min_occasions'] }} or more occasions by the same '
                        || 'suspect against this victim within {{ intense_days }} days, by '
                        || '{{ screening['varied_course_min_categories'] }} or more kinds of offence'
            end,
            case
                when has_harassment_intelligence and {{ weights['harassment_intelligence'] }} > 0
                    then 'Intelligence: stalking-related intelligence on this harassment'
            end,
            case
                when has_high_risk_periods and {{ weights['high_risk_periods'] }} > 0
                    then
                        'Repeated: a crime by the same suspect against this victim graded high risk, and '
                        || '{{ screening['period_min_crimes'] }} or more recorded over a period, not one moment'
            end
        ) as reasons
    from per_crime
),

-- The suspect's history with other victims (a stalking record, other victims) raises
-- attention but never by itself pulls in a crime against someone else: without a course
-- against this victim (has_course_on_this_victim), the crime's points without that history
-- (score_on_this_victim) must reach the threshold. has_course_on_this_victim is the one test of
-- a course of conduct against the crime's victim; has_stalking_course_on_this_victim (below) is
-- the one test that the course reads as stalking on evidence about this pair, which is what the
-- serial rule (int_perpetrator_victims) counts a screened victim by.
on_this_victim as (
    select
        *,
        score
        - case when has_suspect_stalking_history then {{ weights['suspect_stalking'] }} else 0 end
        - case when has_other_victims then {{ weights['other_victims'] }} else 0 end
            as score_on_this_victim,
        -- 2+ occasions of the pair in the window, the pair's stalking record or a stalking
        -- order sought between them
        is_repeated or has_pair_stalking_history or has_pair_stalking_order
            as has_course_on_this_victim,
        -- A course against this victim that reads as stalking on what the records say of
        -- this pair, not of the suspect's other victims nor of the victim's other crimes: the
        -- police's own stalking record or a stalking order between the pair, or 2+ occasions
        -- with a stalking marker recorded on the pair's crime: stalking-related intelligence
        -- linked to it, an offence period of days in the record itself, the ex-partner
        -- relationship (fixation on a former partner) or a high risk grading of this crime.
        -- Repetition alone (2+ occasions, a span of weeks) is a course of conduct, which
        -- harassment is too (DOMAIN.md s2); a medium risk grading is what most crimes get; the
        -- victim's other crimes and intelligence about the victim whoever the subject say
        -- nothing of this suspect; and the suspect's stalking of someone else is what made the
        -- crime worth screening, so it cannot also be the evidence that this victim was
        -- stalked.
        has_pair_stalking_history
        or has_pair_stalking_order
        or (
            is_repeated
            and (
                has_linked_intelligence
                or is_long_course
                or is_ex_partner
                or is_high_risk
            )
        ) as has_stalking_course_on_this_victim
    from scored
),

final as (
    select
        on_this_victim.*,
        -- the lowest threshold that flags the crime: what the review sample is banded by
        case
            when on_this_victim.has_course_on_this_victim then on_this_victim.score
            else on_this_victim.score_on_this_victim
        end as flag_level,
        run_threshold.threshold as screening_threshold,
        on_this_victim.score >= run_threshold.threshold
        and (
            on_this_victim.has_course_on_this_victim
            or on_this_victim.score_on_this_victim >= run_threshold.threshold
        ) as is_flagged
    from on_this_victim
    cross join run_threshold
)

select * from final
