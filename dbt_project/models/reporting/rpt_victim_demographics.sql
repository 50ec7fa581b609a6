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
    select
        named.dimension,
        named.category_label,
        named.category_order
    from (
        values
        ('sex', 'Female', 1),
        ('sex', 'Male', 2),
        ('sex', 'Other / not known', 3),
        ('age_band', 'Under 18', 1),
        ('age_band', '18–24', 2),
        ('age_band', '25–34', 3),
        ('age_band', '35–49', 4),
        ('age_band', '50–64', 5),
        ('age_band', '65 and over', 6),
        ('age_band', 'Not recorded', 7)
    ) as named (dimension, category_label, category_order)
),

labelled as (
    select
        quarter,
        case sex when 'F' then 'Female' when 'M' then 'Male' else 'Other / not known' end as sex,
        case
            when age between 0 and 17 then 'Under 18'
            when age between 18 and 24 then '18–24'
            when age between 25 and 34 then '25–34'
            when age between 35 and 49 then '35–49'
            when age between 50 and 64 then '50–64'
            when age between 65 and 200 then '65 and over'
            else 'Not recorded'
        end as age_band
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
