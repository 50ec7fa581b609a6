-- Numerators never exceed denominators, DA + non-DA add up to all, and rates lie in [0, 1]
-- (null only when nothing was due).
select
    quarter,
    measure
from {{ ref('compliance') }}
where
    numerator > denominator
    or numerator_da + numerator_non_da <> numerator
    or denominator_da + denominator_non_da <> denominator
    or (denominator > 0 and (rate is null or rate < 0 or rate > 1))
    or (denominator = 0 and rate is not null)
