-- Movement of every listed subject since the previous quarter, both quarters scored on this
-- run's data and person keys (so a late-recorded crime counts in both, and a subject whose
-- records merged or split since the last run is followed: identity_note names the change from
-- person_key_lineage for the run's quarter).
--   new        never on the list in an earlier quarter of the data
--   returning  on the list in an earlier quarter, not the previous one
--   up / down  on the previous list, at a higher (smaller) / lower rank than there
--   same       on the previous list, at the same rank
-- The movement is the rank's, which the chair reads: a subject going from rank 7 to 10 is down,
-- whatever its score did (score_change says that; the list's ranks move with everyone's scores).
with

quarters as (
    select
        quarter,
        lag(quarter) over (order by q_start) as previous_quarter
    from {{ ref('int_quarters') }}
),

perpetrators as (
    select * from {{ ref('perpetrators') }}
),

listed as (
    select
        perpetrators.quarter,
        perpetrators.person_key,
        perpetrators.rank,
        perpetrators.rfgv_score,
        quarters.previous_quarter
    from perpetrators
    inner join quarters on perpetrators.quarter = quarters.quarter
    where perpetrators.is_on_tasking_list
),

ever_listed as (
    select
        listed.quarter,
        listed.person_key,
        bool_or(earlier.is_on_tasking_list) as listed_before_previous
    from listed
    inner join perpetrators as earlier
        on
            listed.person_key = earlier.person_key
            and listed.previous_quarter > earlier.quarter
    group by listed.quarter, listed.person_key
),

lineage as (
    select
        run_quarter,
        current_key,
        string_agg(
            change || ' since the ' || previous_run_quarter || ' run (was ' || previous_key || ')',
            '; ' order by previous_key
        ) as identity_note
    from {{ ref('person_key_lineage') }}
    group by run_quarter, current_key
),

final as (
    select
        listed.quarter,
        listed.person_key,
        previous.rank as previous_rank,
        previous.rfgv_score as previous_score,
        round(listed.rfgv_score - coalesce(previous.rfgv_score, 0), 1) as score_change,
        case
            when coalesce(previous.is_on_tasking_list, false)
                then
                    case
                        when listed.rank < previous.rank then 'up'
                        when listed.rank > previous.rank then 'down'
                        else 'same'
                    end
            when coalesce(ever_listed.listed_before_previous, false) then 'returning'
            else 'new'
        end as movement,
        lineage.identity_note
    from listed
    left join perpetrators as previous
        on listed.previous_quarter = previous.quarter and listed.person_key = previous.person_key
    left join ever_listed
        on listed.quarter = ever_listed.quarter and listed.person_key = ever_listed.person_key
    left join lineage
        on listed.quarter = lineage.run_quarter and listed.person_key = lineage.current_key
)

select * from final
