-- The subject pages' linked records, one row per subject and source (a prolific subject has
-- dozens of records; the page must stay short): how many, under which roles, nominal ids,
-- recorded names and dates of birth, over which dates. source_order lists first the source of
-- the subject's most recent record, as the page does. Beside each row, the subject's totals the
-- page heads them with: every linked record, and every name recorded under any source.
with

records as (
    select * from {{ ref('rpt_subject_records') }}
),

ordered as (
    select
        *,
        row_number() over (
            partition by person_key
            order by event_date desc nulls last, source asc, record_key asc
        ) as record_order
    from records
),

dates_of_birth as (
    select
        person_key,
        source,
        string_agg(
            strftime(recorded_date_of_birth, '%d %b %Y'), ', ' order by recorded_date_of_birth
        ) as dates_of_birth
    from (
        select distinct
            person_key,
            source,
            recorded_date_of_birth
        from records
        where recorded_date_of_birth is not null
    ) as distinct_dates
    group by person_key, source
),

by_source as (
    select
        person_key,
        source,
        min(record_order) as source_order,
        count(*) as records,
        coalesce(string_agg(distinct role, ', ' order by role), '') as roles,
        coalesce(string_agg(distinct person_id, ', ' order by person_id), '') as person_ids,
        coalesce(string_agg(distinct recorded_name, '; ' order by recorded_name), '') as recorded_names,
        min(event_date) as first_date,
        max(event_date) as last_date
    from ordered
    group by person_key, source
),

subject_totals as (
    select
        person_key,
        count(*) as subject_records,
        coalesce(string_agg(distinct recorded_name, '; ' order by recorded_name), '') as subject_names
    from records
    group by person_key
),

final as (
    select
        by_source.person_key,
        by_source.source,
        case by_source.source
            when 'crime_persons' then 'crime record'
            when 'intelligence_subject' then 'intelligence (subject)'
            when 'intelligence_victim' then 'intelligence (victim)'
            when 'order_subject' then 'order (subject)'
            when 'order_protected' then 'order (protected person)'
            else by_source.source
        end as source_label,
        by_source.source_order,
        by_source.records,
        by_source.roles,
        by_source.person_ids,
        by_source.recorded_names,
        coalesce(dates_of_birth.dates_of_birth, '') as dates_of_birth,
        by_source.first_date,
        by_source.last_date,
        subject_totals.subject_records,
        subject_totals.subject_names
    from by_source
    left join dates_of_birth
        on by_source.person_key = dates_of_birth.person_key and by_source.source = dates_of_birth.source
    inner join subject_totals on by_source.person_key = subject_totals.person_key
)

select * from final
