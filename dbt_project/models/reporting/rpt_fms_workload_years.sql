-- The years the workbook's Workload and Hidden demand sheets convert into hours and scenarios:
-- the baseline year, the current year and the projection years of all stalking-universe
-- crimes, in time order. Each figure is a live formula written here in full, its references
-- resolved: the sheet's own row, the Projection sheet's central figure (column G) of a series'
-- year (0 where the Projection sheet has no such row) and the Assumptions sheet's value cell
-- (column B) of an assumption, which the FMS author may change.
with

years as (
    select
        financial_year_start,
        financial_year,
        case when is_baseline then 'baseline' else status end as status,
        cast(row_number() over (order by financial_year_start) + 1 as integer) as sheet_row
    from {{ ref('rpt_fms_financial_years') }}
    where series = 'all_stalking' and (is_baseline or years_ahead is not null)
),

projected as (
    select
        financial_year,
        max(projection_row) filter (where series = 'all_stalking') as crimes_row,
        max(projection_row) filter (where series = 'breaches') as breaches_row
    from {{ ref('rpt_fms_financial_years') }}
    group by financial_year
),

assumption_rows as (
    select
        assumption,
        'Assumptions!$B$' || (row_number() over (order by assumption_order) + 1) as cell
    from {{ ref('rpt_fms_assumptions') }}
),

cells as (
    select
        max(cell) filter (where assumption = 'hours_per_investigation') as investigation,
        max(cell) filter (where assumption = 'stalking_order_applications_per_crime')
            as applications,
        max(cell) filter (where assumption = 'hours_per_spo_application') as application,
        max(cell) filter (where assumption = 'support_referral_share') as referrals,
        max(cell) filter (where assumption = 'hours_per_support_referral') as referral,
        max(cell) filter (where assumption = 'hours_per_breach_investigation') as breach,
        max(cell) filter (where assumption = 'productive_hours_per_fte') as fte,
        max(cell) filter (where assumption = 'screened_share') as screened,
        max(cell) filter (where assumption = 'screened_confirmation_share') as confirmed
    from assumption_rows
)

select
    years.financial_year_start,
    years.financial_year,
    years.status,
    years.sheet_row,
    '=' || coalesce('Projection!G' || projected.crimes_row, '0') as crimes_formula,
    '=' || coalesce('Projection!G' || projected.breaches_row, '0') as breaches_formula,
    '=N(C' || years.sheet_row || ')*' || cells.investigation as investigation_hours_formula,
    '=N(C' || years.sheet_row || ')*' || cells.applications as applications_formula,
    '=F' || years.sheet_row || '*' || cells.application as application_hours_formula,
    '=N(C' || years.sheet_row || ')*' || cells.referrals as referrals_formula,
    '=H' || years.sheet_row || '*' || cells.referral as referral_hours_formula,
    '=N(D' || years.sheet_row || ')*' || cells.breach as breach_hours_formula,
    replace('=E{r}+G{r}+I{r}+J{r}', '{r}', cast(years.sheet_row as varchar)) as total_hours_formula,
    '=K' || years.sheet_row || '/' || cells.fte as posts_formula,
    '=N(C' || years.sheet_row || ')*(1-' || cells.screened || ')' as recorded_only_formula,
    '=N(C' || years.sheet_row || ')*(1-' || cells.screened || '*(1-' || cells.confirmed || '))'
        as scenario_formula,
    '=E' || years.sheet_row || '-D' || years.sheet_row as scenario_difference_formula
from years
left join projected on years.financial_year = projected.financial_year
cross join cells
