{%- set calibration = setting('screening')['calibration'] -%}
-- The profiled quarter's screened crimes the screening review sample is drawn from
-- (pipelines.screening_calibration.draw_review_sample, restricted/screening_review.csv): those
-- whose flag level reaches the lowest band floor of screening.calibration.bands, screened in
-- or just below the threshold.
with

run_quarter as (
    select {{ profile_quarter() }} as quarter
),

scores as (
    select * from {{ ref('screening_scores') }}
),

final as (
    select
        scores.crime_id,
        scores.quarter,
        scores.reported_date,
        scores.offence_category,
        scores.score,
        scores.flag_level,
        scores.is_flagged,
        scores.reasons
    from scores
    inner join run_quarter
        on scores.quarter = run_quarter.quarter
    where scores.flag_level >= {{ calibration['bands'] | min }}
)

select * from final
