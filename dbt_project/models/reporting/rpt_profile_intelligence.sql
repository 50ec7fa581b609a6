-- Intelligence reports per quarter of submission: volume (all, stalking-related, online), the
-- 3x5x2 grading (source evaluation 1-3, intelligence assessment A-E, handling code P/C) and
-- linkage (to a crime, to a stalking-universe crime, subject resolved to a person, subject a
-- high-harm perpetrator on that quarter's tasking list). Every category is a row in every
-- quarter; counts are reports, and stalking_related_reports the category's stalking-related ones
-- (the intelligence requirements measure their gaps on those: rpt_assessment_gaps).
with

quarters as (
    select quarter from {{ ref('int_quarters') }}
),

intelligence as (
    select * from {{ ref('int_intelligence_resolved') }}
),


gradings as (
    select
        stg.intel_id,
        nullif(split_part(stg.grading, '-', 1), '') as source_evaluation,
        nullif(split_part(stg.grading, '-', 2), '') as intelligence_assessment,
        nullif(split_part(stg.grading, '-', 3), '') as handling_code
    from {{ ref('stg_intelligence') }} as stg
),

stalking_crimes as (
    select crime_id from {{ ref('stalking_crimes') }}
),

all_crimes as (
    select crime_id from {{ ref('int_crimes_classified') }}
),

high_harm as (
    select
        quarter,
        person_key
    from {{ ref('perpetrators') }}
    where is_high_harm
),

categories as (
    select
        named.breakdown,
        named.category,
        named.category_label,
        named.category_order
    from (
        values
        ('volume', 'all', 'All intelligence reports', 1),
        ('volume', 'stalking_related', 'Marked stalking-related', 2),
        ('volume', 'online', 'About online conduct', 3),
        ('source_evaluation', '1', '1: reliable source', 1),
        ('source_evaluation', '2', '2: untested source', 2),
        ('source_evaluation', '3', '3: not reliable source', 3),
        ('source_evaluation', 'none', 'Not graded', 4),
        ('intelligence_assessment', 'A', 'A: known directly to the source', 1),
        ('intelligence_assessment', 'B', 'B: known indirectly, corroborated', 2),
        ('intelligence_assessment', 'C', 'C: known indirectly', 3),
        ('intelligence_assessment', 'D', 'D: not known', 4),
        ('intelligence_assessment', 'E', 'E: suspected false', 5),
        ('intelligence_assessment', 'none', 'Not graded', 6),
        ('handling', 'P', 'P: lawful sharing permitted', 1),
        ('handling', 'C', 'C: sharing with conditions', 2),
        ('handling', 'none', 'Not graded', 3),
        ('linkage', 'crime', 'Linked to a crime', 1),
        ('linkage', 'stalking_crime', 'Linked to a stalking-universe crime', 2),
        ('linkage', 'subject_resolved', 'Subject resolved to a known person', 3),
        ('linkage', 'tasking_subject', 'Subject is on the quarter''s high-harm tasking list', 4)
    ) as named (breakdown, category, category_label, category_order)
),

report_rows as (
    select
        intelligence.submitted_quarter as quarter,
        intelligence.is_stalking_related,
        intelligence.is_online,
        -- a code outside the 3x5x2 scheme counts as not graded, so each breakdown adds up
        case
            when gradings.source_evaluation in ('1', '2', '3') then gradings.source_evaluation else 'none'
        end as source_evaluation,
        case
            when upper(gradings.intelligence_assessment) in ('A', 'B', 'C', 'D', 'E')
                then upper(gradings.intelligence_assessment)
            else 'none'
        end as intelligence_assessment,
        case
            when upper(gradings.handling_code) in ('P', 'C') then upper(gradings.handling_code) else 'none'
        end as handling_code,
        all_crimes.crime_id is not null as is_linked_to_crime,
        stalking_crimes.crime_id is not null as is_linked_to_stalking_crime,
        intelligence.subject_person_key is not null as is_subject_resolved,
        high_harm.person_key is not null as is_tasking_subject
    from intelligence
    left join gradings on intelligence.intel_id = gradings.intel_id
    left join all_crimes on intelligence.crime_id = all_crimes.crime_id
    left join stalking_crimes on intelligence.crime_id = stalking_crimes.crime_id
    left join high_harm
        on
            intelligence.submitted_quarter = high_harm.quarter
            and intelligence.subject_person_key = high_harm.person_key
),

-- one row per report and breakdown it counts in (volume and linkage rows overlap by design)
report_categories as (
    select
        quarter,
        is_stalking_related,
        'volume' as breakdown,
        'all' as category
    from report_rows
    union all
    select
        quarter,
        is_stalking_related,
        'volume' as breakdown,
        'stalking_related' as category
    from report_rows
    where is_stalking_related
    union all
    select
        quarter,
        is_stalking_related,
        'volume' as breakdown,
        'online' as category
    from report_rows
    where is_online
    union all
    select
        quarter,
        is_stalking_related,
        'source_evaluation' as breakdown,
        source_evaluation as category
    from report_rows
    union all
    select
        quarter,
        is_stalking_related,
        'intelligence_assessment' as breakdown,
        intelligence_assessment as category
    from report_rows
    union all
    select
        quarter,
        is_stalking_related,
        'handling' as breakdown,
        handling_code as category
    from report_rows
    union all
    select
        quarter,
        is_stalking_related,
        'linkage' as breakdown,
        'crime' as category
    from report_rows
    where is_linked_to_crime
    union all
    select
        quarter,
        is_stalking_related,
        'linkage' as breakdown,
        'stalking_crime' as category
    from report_rows
    where is_linked_to_stalking_crime
    union all
    select
        quarter,
        is_stalking_related,
        'linkage' as breakdown,
        'subject_resolved' as category
    from report_rows
    where is_subject_resolved
    union all
    select
        quarter,
        is_stalking_related,
        'linkage' as breakdown,
        'tasking_subject' as category
    from report_rows
    where is_tasking_subject
),

counted as (
    select
        quarter,
        breakdown,
        category,
        count(*) as reports,
        count(*) filter (where is_stalking_related) as stalking_related_reports
    from report_categories
    group by quarter, breakdown, category
),

final as (
    select
        quarters.quarter,
        categories.breakdown,
        categories.category,
        categories.category_label,
        cast(categories.category_order as integer) as category_order,
        cast(coalesce(sum(counted.reports), 0) as bigint) as reports,
        cast(coalesce(sum(counted.stalking_related_reports), 0) as bigint) as stalking_related_reports
    from quarters
    cross join categories
    left join counted
        on
            quarters.quarter = counted.quarter
            and categories.breakdown = counted.breakdown
            and categories.category = counted.category
    group by all
)

select * from final
