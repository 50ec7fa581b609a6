-- Ranks run 1..n in each quarter in descending score order; a serial perpetrator has at least
-- as many victims as the setting; high harm never falls below the cut-off.
with

perpetrators as (
    select * from {{ ref('perpetrators') }}
),

rank_gaps as (
    select
        quarter,
        'ranks are not 1..n' as problem
    from perpetrators
    group by quarter
    having max(rank) <> count(*) or min(rank) <> 1
),

order_breaks as (
    select
        higher.quarter,
        'a lower rank has a higher score' as problem
    from perpetrators as higher
    inner join perpetrators as lower_ranked
        on
            higher.quarter = lower_ranked.quarter
            and lower_ranked.rank = higher.rank + 1
    where lower_ranked.rfgv_score > higher.rfgv_score
),

flag_breaks as (
    select
        quarter,
        'flag inconsistent with settings' as problem
    from perpetrators
    where
        (is_serial and victims_total < {{ setting('perpetrators')['serial_min_victims'] }})
        or (is_high_harm and rfgv_score < {{ setting('high_harm')['min_rfgv_score'] }})
        or rfgv_score < 0
        or rfgv_score > 100
)

select * from rank_gaps
union all
select * from order_breaks
union all
select * from flag_breaks
