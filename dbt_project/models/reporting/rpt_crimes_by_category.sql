-- Stalking-universe crimes per quarter split six ways (the demand section's tables and
-- charts): every category of every breakdown has a row in every quarter with crimes, zero
-- when none, so the report's tables never infer a category from its absence.
with

crimes as (
    select * from {{ ref('stalking_crimes') }}
),

classified as (
    select
        quarter,
        case when is_domestic_abuse then 'domestic_abuse' else 'not_domestic_abuse' end as domestic_abuse,
        case when is_online then 'online' else 'not_online' end as online,
        identified_by as identification_route,
        coalesce(offence_category, 'other') as offence_category,
        case when risk_level in ('high', 'medium', 'standard') then risk_level else 'not_recorded' end as risk_level,
        case
            when outcome_group in ('charge_summons', 'out_of_court', 'no_further_action') then outcome_group
            else 'other'
        end as outcome_group
    from crimes
),

long as (
    select
        quarter,
        'domestic_abuse' as breakdown,
        domestic_abuse as category
    from classified
    union all
    select
        quarter,
        'online' as breakdown,
        online as category
    from classified
    union all
    select
        quarter,
        'identification_route' as breakdown,
        identification_route as category
    from classified
    union all
    select
        quarter,
        'offence_category' as breakdown,
        offence_category as category
    from classified
    union all
    select
        quarter,
        'risk_level' as breakdown,
        risk_level as category
    from classified
    union all
    select
        quarter,
        'outcome_group' as breakdown,
        outcome_group as category
    from classified
),

fixed_categories as (
    select
        named.breakdown,
        named.category,
        named.category_label,
        named.category_order
    from (
        values
        ('domestic_abuse', 'domestic_abuse', 'Domestic abuse', 1),
        ('domestic_abuse', 'not_domestic_abuse', 'Not domestic abuse', 2),
        ('online', 'online', 'Online', 1),
        ('online', 'not_online', 'Not online', 2),
        ('identification_route', 'principal', 'Principal classification is stalking', 1),
        ('identification_route', 'included', 'Stalking recorded as an included classification', 2),
        ('identification_route', 'screened', 'Flagged by screening (possible hidden stalking)', 3),
        ('risk_level', 'high', 'High', 1),
        ('risk_level', 'medium', 'Medium', 2),
        ('risk_level', 'standard', 'Standard', 3),
        ('risk_level', 'not_recorded', 'Not recorded', 4),
        ('outcome_group', 'charge_summons', 'Charged or summonsed', 1),
        ('outcome_group', 'out_of_court', 'Out-of-court disposal', 2),
        ('outcome_group', 'no_further_action', 'No further action (evidential or victim-led)', 3),
        ('outcome_group', 'other', 'Under investigation or other', 4)
    ) as named (breakdown, category, category_label, category_order)
),

-- Offence categories are whatever the offence_codes seed holds, in alphabetical order.
offence_categories as (
    select
        'offence_category' as breakdown,
        category,
        upper(left(category, 1)) || lower(substr(replace(category, '_', ' '), 2)) as category_label,
        row_number() over (order by category) as category_order
    from (select distinct offence_category as category from classified) as distinct_categories
),

categories as (
    select * from fixed_categories
    union all
    select * from offence_categories
),

quarters as (
    select distinct quarter from crimes
),

counts as (
    select
        quarter,
        breakdown,
        category,
        count(*) as crimes
    from long
    group by quarter, breakdown, category
),

final as (
    select
        quarters.quarter,
        categories.breakdown,
        categories.category,
        categories.category_label,
        cast(categories.category_order as integer) as category_order,
        coalesce(counts.crimes, 0) as crimes
    from quarters
    cross join categories
    left join counts
        on
            quarters.quarter = counts.quarter
            and categories.breakdown = counts.breakdown
            and categories.category = counts.category
)

select * from final
