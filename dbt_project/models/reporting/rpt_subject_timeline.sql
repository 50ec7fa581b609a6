-- OFFICIAL-SENSITIVE. The timeline of each subject page: the subject's events up to the
-- quarter's end (rpt_subject_events) newest first, a crime with two victims one row naming both
-- by their page labels (rpt_subject_victims: Victim A, B, ...). timeline_order numbers the
-- rows as printed; the page prints the first ten (is_shown: about one A4 sheet) and says how
-- many earlier events it leaves on the records system (rows_not_shown, not_shown_note).
with

events as (
    select * from {{ ref('rpt_subject_events') }}
),

victims as (
    select * from {{ ref('rpt_subject_victims') }}
),

rows_of_events as (
    select
        events.quarter,
        events.person_key,
        events.event_date,
        events.kind,
        events.reference,
        events.detail,
        coalesce(
            string_agg(distinct victims.victim_label, ', ' order by victims.victim_label), ''
        ) as victim
    from events
    left join victims
        on
            events.quarter = victims.quarter
            and events.person_key = victims.person_key
            and events.victim_key = victims.victim_key
    group by
        events.quarter, events.person_key, events.event_date, events.kind, events.reference,
        events.detail
),

numbered as (
    select
        *,
        row_number() over (
            partition by quarter, person_key
            order by
                event_date desc nulls last, kind desc nulls first, reference desc nulls first,
                detail desc nulls first
        ) as timeline_order,
        count(*) over (partition by quarter, person_key) as timeline_rows
    from rows_of_events
),

final as (
    select
        quarter,
        person_key,
        cast(timeline_order as integer) as timeline_order,
        event_date,
        kind,
        reference,
        detail,
        victim,
        timeline_order <= 10 as is_shown,
        cast(greatest(timeline_rows - 10, 0) as integer) as rows_not_shown,
        -- the page's line under the timeline, when it leaves events out
        case
            when timeline_rows > 10
                then
                    (timeline_rows - 10) || ' earlier event'
                    || case when timeline_rows - 10 = 1 then '' else 's' end
                    || ' not shown (on the records system).'
        end as not_shown_note
    from numbered
)

select * from final
