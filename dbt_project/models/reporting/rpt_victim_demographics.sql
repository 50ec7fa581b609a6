-- Victims of each quarter's stalking-universe crimes by sex and by age at report (distinct
-- resolved people). A victim recorded differently on two crimes of the quarter is counted
-- once, as recorded on the earliest-reported one.
with

victims as (
    select * from {{ ref('int_victims_of_stalking_crimes') }}
),

one_per_victim as (
    select *
    from victims
    where person_key is not null
    qualify row_number() over (
        partition by quarter, person_key order by reported_date, crime_id, sex nulls last, age nulls last
    ) = 1
),

categories as (
    select * from {{ ref('demographic_categories') }}
),

labelled as (
    select
        quarter,
        {{ sex_label('sex') }} as sex,
        {{ age_band_label('age') }} as age_band
    from one_per_victim
),

counts as (
    select
        quarter,
        'sex' as dimension,
        sex as category_label,
        count(*) as victims
    from labelled
    group by quarter, sex
    union all
    select
        quarter,
        'age_band' as dimension,
        age_band as category_label,
        count(*) as victims
    from labelled
    group by quarter, age_band
),

quarters as (
    select distinct quarter from victims
),

final as (
    select
        quarters.quarter,
        categories.dimension,
        categories.category_label,
        cast(categories.category_order as integer) as category_order,
        coalesce(counts.victims, 0) as victims
    from quarters
    cross join categories
    left join counts
        on
            quarters.quarter = counts.quarter
            and categories.dimension = counts.dimension
            and categories.category_label = counts.category_label
)

select * from final
