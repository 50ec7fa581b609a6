-- The years the workbook's Workload and Hidden demand sheets convert into hours and scenarios:
-- the baseline year, the current year and the projection years of all stalking-universe
-- crimes, in time order. Their figures are formulas on the Projection sheet's rows.
select
    financial_year_start,
    financial_year,
    case when is_baseline then 'baseline' else status end as status
from {{ ref('rpt_fms_financial_years') }}
where series = 'all_stalking' and (is_baseline or years_ahead is not null)
