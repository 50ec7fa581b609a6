-- Every crime screened for hidden stalking, flagged or not, over all quarters: its score, its
-- flag level (the lowest threshold that flags it) and the threshold the run used. The
-- screening review sample is drawn from it (restricted/screening_review.csv) so that the
-- auditors' verdicts on crimes just below the threshold can calibrate it.
with

scored as (
    select * from {{ ref('int_screening_scored') }}
),

final as (
    select
        crime_id,
        reported_quarter as quarter,
        reported_date,
        offence_category,
        score,
        score_on_this_victim,
        flag_level,
        screening_threshold,
        is_flagged,
        reasons
    from scored
)

select * from final
