-- Suspect and offender records on stalking-universe crimes by their recorded relationship to
-- the victim (records, not people: a suspect on two crimes counts twice). Every relationship
-- has a row in every quarter with crimes.
with

crimes as (
    select * from {{ ref('stalking_crimes') }}
),

crime_persons as (
    select * from {{ ref('int_crime_persons_resolved') }}
),

relationships as (
    select
        named.relationship,
        named.relationship_label,
        named.relationship_order
    from (
        values
        ('partner', 'Partner', 1),
        ('ex_partner', 'Ex-partner', 2),
        ('family', 'Family', 3),
        ('acquaintance', 'Acquaintance', 4),
        ('stranger', 'Stranger', 5),
        ('unknown', 'Unknown', 6)
    ) as named (relationship, relationship_label, relationship_order)
),

records as (
    select
        crimes.quarter,
        coalesce(relationships.relationship, 'unknown') as relationship
    from crimes
    inner join crime_persons on crimes.crime_id = crime_persons.crime_id
    left join relationships on crime_persons.relationship_to_victim = relationships.relationship
    where crime_persons.role in ('suspect', 'offender')
),

counts as (
    select
        quarter,
        relationship,
        count(*) as perpetrator_records
    from records
    group by quarter, relationship
),

quarters as (
    select distinct quarter from crimes
),

final as (
    select
        quarters.quarter,
        relationships.relationship,
        relationships.relationship_label,
        cast(relationships.relationship_order as integer) as relationship_order,
        coalesce(counts.perpetrator_records, 0) as perpetrator_records
    from quarters
    cross join relationships
    left join counts
        on quarters.quarter = counts.quarter and relationships.relationship = counts.relationship
)

select * from final
