-- Quarterly counts of stalking and harassment crimes (principal classification) by the
-- domestic-abuse and online flags: the first trend chart of the profile.
with

classified as (
    select * from {{ ref('int_crimes_classified') }}
    where offence_category in ('stalking', 'harassment')
),

counted as (
    select
        reported_quarter as quarter,
        offence_category,
        is_domestic_abuse,
        is_online,
        count(*) as crimes
    from classified
    group by reported_quarter, offence_category, is_domestic_abuse, is_online
)

select
    quarter,
    offence_category,
    is_domestic_abuse,
    is_online,
    crimes
from counted
