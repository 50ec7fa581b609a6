-- Victims per quarter: distinct resolved victims of the quarter's stalking-universe crimes,
-- and repeat victims (marts.repeat_victims) in total, with a crime in the quarter itself, and
-- by their number of crimes in the 12-month window.
with

victims as (
    select * from {{ ref('int_victims_of_stalking_crimes') }}
),

repeat_victims as (
    select * from {{ ref('repeat_victims') }}
),

victim_counts as (
    select
        quarter,
        count(distinct person_key) as victims
    from victims
    group by quarter
),

repeat_counts as (
    select
        quarter,
        count(*) as repeat_victims,
        count(*) filter (where crimes_in_quarter > 0) as repeat_victims_with_crime_in_quarter,
        count(*) filter (where crimes_12m < 3) as repeat_victims_2_crimes,
        count(*) filter (where crimes_12m between 3 and 4) as repeat_victims_3_to_4_crimes,
        count(*) filter (where crimes_12m >= 5) as repeat_victims_5_or_more_crimes
    from repeat_victims
    group by quarter
),

quarters as (
    select quarter from victim_counts
    union
    select quarter from repeat_counts
),

final as (
    select
        quarters.quarter,
        coalesce(victim_counts.victims, 0) as victims,
        coalesce(repeat_counts.repeat_victims, 0) as repeat_victims,
        coalesce(repeat_counts.repeat_victims_with_crime_in_quarter, 0) as repeat_victims_with_crime_in_quarter,
        coalesce(repeat_counts.repeat_victims_2_crimes, 0) as repeat_victims_2_crimes,
        coalesce(repeat_counts.repeat_victims_3_to_4_crimes, 0) as repeat_victims_3_to_4_crimes,
        coalesce(repeat_counts.repeat_victims_5_or_more_crimes, 0) as repeat_victims_5_or_more_crimes
    from quarters
    left join victim_counts on quarters.quarter = victim_counts.quarter
    left join repeat_counts on quarters.quarter = repeat_counts.quarter
)

select * from final
