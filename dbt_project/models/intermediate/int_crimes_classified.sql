-- Each crime with the category, harm weight and stalking status of its principal
-- classification, the stalking status of its included classifications (super-complaint
-- Recommendation 7) and the meaning of its outcome code.
with

crimes as (
    select * from {{ ref('stg_crimes') }}
),

offence_codes as (
    select * from {{ ref('offence_codes') }}
),

outcome_codes as (
    select * from {{ ref('outcome_codes') }}
),

-- one row per included classification recorded inside a crime. The list is unnested in the
-- select, not by a lateral join: DuckDB decorrelates a lateral unnest into a join of the crimes
-- with their own lists, estimates its output at ~1e18 rows, and then builds the final left join's
-- hash table on all 4.5 M crimes of a national delivery (every column) instead of on the ~0.2 M
-- crimes with included classifications (the same rows: a null list unnests to none either way)
included as (
    select
        crime_id,
        upper(trim(code)) as offence_code
    from (
        select
            crime_id,
            unnest(string_split(included_offence_codes, '|')) as code
        from crimes
    ) as included
    where nullif(trim(code), '') is not null
),

included_summary as (
    select
        included.crime_id,
        bool_or(coalesce(offence_codes.is_stalking_offence, false)) as has_included_stalking,
        string_agg(
            distinct coalesce(offence_codes.category, 'other'), '|'
            order by coalesce(offence_codes.category, 'other')
        ) as included_categories
    from included
    left join offence_codes
        on included.offence_code = offence_codes.offence_code
    group by included.crime_id
),

-- outcome codes arrive as '1', '01' or '1a': each distinct form recorded is matched to the
-- seed's form once (a few dozen forms, not a regular expression per crime)
outcome_forms as (
    select
        recorded.outcome_code as recorded_code,
        outcome_codes.outcome_code,
        outcome_codes.outcome_group,
        outcome_codes.is_no_further_action
    from (select distinct outcome_code from crimes) as recorded
    inner join outcome_codes
        on
            upper(ltrim(regexp_replace(trim(recorded.outcome_code), '^(?i)(oc|outcome)\s*', ''), '0'))
            = outcome_codes.outcome_code
),

classified as (
    select
        crimes.*,
        coalesce(offence_codes.category, 'other') as offence_category,
        coalesce(offence_codes.is_stalking_offence, false) as is_principal_stalking,
        coalesce(included_summary.has_included_stalking, false) as has_included_stalking,
        included_summary.included_categories,
        -- unknown codes weigh nothing rather than a guess
        coalesce(offence_codes.harm_weight_days, 0) as harm_weight_days,
        offence_codes.order_type as breached_order_type,
        outcome_forms.outcome_code as outcome_code_normalised,
        outcome_forms.outcome_group,
        coalesce(outcome_forms.is_no_further_action, false) as is_no_further_action,
        cast(date_trunc('month', crimes.reported_date) as date) as reported_month,
        coalesce(cast(crimes.offence_start as date), crimes.reported_date) as occasion_date
    from crimes
    left join offence_codes
        on crimes.offence_code = offence_codes.offence_code
    left join included_summary
        on crimes.crime_id = included_summary.crime_id
    left join outcome_forms
        on crimes.outcome_code = outcome_forms.recorded_code
)

select * from classified
