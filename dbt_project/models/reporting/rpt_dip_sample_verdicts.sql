-- The returned dip samples' verdicts in aggregate, per identification route (the profile's
-- assurance paragraph): crimes audited and how many the auditors judged stalking, not
-- stalking or unsure, recorded correctly, and Victims' Code met. Every route is a row (zero
-- when none audited). Counts before disclosure control: the profile prints the crimes audited
-- suppressed across the routes (against their unprinted total), the shares under the rate rule.
with

returns as (
    select * from {{ source('assurance', 'dip_sample_returns') }}
),

crimes as (
    select
        crime_id,
        identified_by
    from {{ ref('stalking_crimes') }}
),

routes as (
    select
        listed.identified_by,
        listed.route_order,
        listed.route_label
    from (
        values
        ('principal', 1, 'Principal classification is stalking'),
        ('included', 2, 'Stalking recorded as an included classification'),
        ('screened', 3, 'Flagged by screening (possible hidden stalking)')
    ) as listed (identified_by, route_order, route_label)
),

audited as (
    select
        crimes.identified_by,
        returns.*
    from returns
    inner join crimes
        on returns.crime_id = crimes.crime_id
),

final as (
    select
        routes.identified_by,
        cast(routes.route_order as integer) as route_order,
        routes.route_label,
        count(audited.crime_id) filter (where audited.verdict_is_stalking is not null) as audited,
        count(audited.crime_id) filter (where audited.verdict_is_stalking = 'yes') as judged_stalking,
        count(audited.crime_id) filter (where audited.verdict_is_stalking = 'no') as judged_not_stalking,
        count(audited.crime_id) filter (where audited.verdict_is_stalking = 'unsure') as judged_unsure,
        count(audited.crime_id) filter (where audited.verdict_correctly_recorded is not null) as recording_audited,
        count(audited.crime_id) filter (where audited.verdict_correctly_recorded = 'yes') as recorded_correctly,
        count(audited.crime_id) filter (where audited.verdict_victims_code_met is not null) as victims_code_audited,
        count(audited.crime_id) filter (where audited.verdict_victims_code_met = 'yes') as victims_code_met
    from routes
    left join audited
        on routes.identified_by = audited.identified_by
    group by routes.identified_by, routes.route_order, routes.route_label
)

select * from final
