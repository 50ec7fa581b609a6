-- The victims on each subject page: every victim of the subject's events up to the quarter's
-- end (rpt_subject_events), in order of first contact as the page's events are listed, with
-- their crimes, intelligence reports, orders and breaches and the first and last contact. The
-- page calls them Victim A, B, ... AA, ... (victim_label) in contact_order; their identity stays
-- on the records system.
with

events as (
    select * from {{ ref('rpt_subject_events') }}
),

ordered as (
    select
        *,
        row_number() over (
            partition by quarter, person_key
            order by event_date asc nulls first, kind asc, reference asc, detail asc, victim_key asc
        ) as event_order
    from events
),

victims as (
    select
        quarter,
        person_key,
        victim_key,
        min(event_order) as contact_order,
        count(distinct reference) filter (where kind = 'crime') as crimes,
        count(*) filter (where kind = 'intelligence') as intelligence,
        count(*) filter (where kind = 'order') as orders,
        count(*) filter (where kind = 'breach') as breaches,
        min(event_date) as first_contact,
        max(event_date) as last_contact
    from ordered
    where victim_key is not null and victim_key != person_key
    group by quarter, person_key, victim_key
),

final as (
    select
        *,
        'Victim ' || {{ spreadsheet_letters(
            'row_number() over (partition by quarter, person_key order by contact_order)'
        ) }} as victim_label
    from victims
)

select * from final
