-- The README sheet of fms/demand.xlsx, line by line: what the workbook holds, how the figures
-- were made (rpt_fms_method_sentences), the back-test warning and coverage, how to change the
-- assumptions, the small-numbers rule and the early warning (rpt_fms_sentences). `style` says
-- how the line is set (title, heading, warning or plain text); an empty line has no text.
-- `{force}` and `{quarter}` in a line are the force's name and the profile's quarter.
with

years as (
    select * from {{ ref('rpt_fms_financial_years') }}
),

sentences as (
    select * from {{ ref('rpt_fms_sentences') }}
),

method as (
    select * from {{ ref('rpt_fms_method_sentences') }}
),

-- the years the opening sentence names, in the workbook's row order
named_years as (
    select
        arg_min(
            years.financial_year, (years.series_order, years.series, years.financial_year_start)
        ) filter (where years.is_baseline) as baseline,
        arg_min(
            years.financial_year, (years.series_order, years.series, years.financial_year_start)
        ) filter (where years.years_ahead = 0) as current_year,
        arg_max(
            years.financial_year, (years.series_order, years.series, years.financial_year_start)
        ) filter (where years.years_ahead is not null) as last_year
    from years
),

-- The workbook's fixed lines, by section: the opening (1), what it holds (3) and the closing
-- notes (7); sections 2, 4, 5, 6 and 8 are the model-made sentences below.
fixed_lines as (
    select
        fixed.section_order,
        fixed.line_order,
        fixed.line,
        fixed.style
    from (
        values
        (1, 1, 'Stalking demand for the Force Management Statement', 'title'),
        (1, 2, '{force}. Figures to the end of {quarter}. OFFICIAL.', 'text'),
        (1, 3, null, 'text'),
        (1, 4, 'What this workbook holds', 'heading'),
        (
            3,
            1,
            'Sheets: History (recorded crimes per year), Projection (baseline, current year '
            || 'and four years ahead with ranges), Assumptions (the numbers you can change), '
            || 'Workload (hours and posts that demand means), Hidden demand (if screened-in '
            || 'crimes are stalking), Quarterly (the same figures per quarter), Testing (how '
            || 'well the method forecast in tests), Early warning (is demand leaving the '
            || 'forecast range). On every sheet, years ahead counts financial years after the '
            || 'current one: 0 is the current year, whose total ends within a year of the last '
            || 'recorded month (the CSV''s back-test columns marked 1y test that total). The '
            || 'Projection sheet''s last column is the naive forecast the tests measure the '
            || 'method against (the last 12 recorded months repeated), to show what the model '
            || 'adds. On the Testing sheet, the error (MASE) is the forecast''s average miss '
            || 'divided by the series'' average change from one period to the next in its '
            || 'history (a month, a quarter or a year, by the test data), so a total several '
            || 'years ahead reads in the tens or hundreds: read it beside the naive '
            || 'forecast''s error, and their ratio (below 1: the method beat naive; 0.80: it '
            || 'missed by a fifth less).',
            'text'
        ),
        (3, 2, null, 'text'),
        (3, 3, 'How the figures were made', 'heading'),
        (7, 1, null, 'text'),
        (7, 2, 'Changing the assumptions', 'heading'),
        (
            7,
            3,
            'Yellow cells on the Assumptions sheet are yours to change (hours per '
            || 'investigation, share of crimes with a stalking protection order application, '
            || 'and so on). Every figure on the Workload and Hidden demand sheets is a formula '
            || 'on those cells and on the Projection sheet, so it updates as you type. The '
            || 'starting shares are measured in the baseline year; the hours are starting '
            || 'values to agree locally.',
            'text'
        ),
        (7, 4, null, 'text'),
        (7, 5, 'Small numbers', 'heading'),
        (
            7,
            6,
            'Numbers from 1 to {{ setting("disclosure")["min_count"] - 1 }} are shown as [c] '
            || 'so that no victim can be identified; where one part of a split is hidden, the '
            || 'other part is hidden too. Figures are rounded to whole crimes, so parts may '
            || 'differ from the total by one.',
            'text'
        ),
        (7, 7, null, 'text'),
        (7, 8, 'Early warning', 'heading')
    ) as fixed (section_order, line_order, line, style)
),

lines as (
    select
        section_order,
        line_order,
        line,
        style
    from fixed_lines
    union all
    select
        2 as section_order,
        1 as line_order,
        'Stalking crimes recorded by financial year (April to March), the last complete year ('
        || coalesce(baseline, 'none yet') || ') as the baseline, the current year ('
        || coalesce(named_years.current_year, '-') || ') and the years to '
        || coalesce(named_years.last_year, '-')
        || ': the current demand and the demand expected over the next four years that the FMS '
        || 'asks for.' as line,
        'text' as style
    from named_years
    union all
    -- what the history leaves out (crimes before continuous recording, delivery gaps)
    select
        2 as section_order,
        1 + notes.note_order as line_order,
        notes.note as line,
        'text' as style
    from {{ ref('rpt_demand_history_notes') }} as notes
    union all
    select
        4 as section_order,
        method.sentence_order as line_order,
        method.sentence as line,
        'text' as style
    from method
    union all
    -- each warning after an empty line
    select
        5 as section_order,
        2 * sentences.sentence_order - 1 + offsets.offset_line as line_order,
        case when offsets.offset_line = 1 then sentences.sentence end as line,
        case when offsets.offset_line = 1 then 'warning' else 'text' end as style
    from sentences
    cross join (values (0), (1)) as offsets (offset_line)
    where sentences.sentence_kind = 'backtest_warning'
    union all
    -- the coverage sentences, then (after the closing notes) the early warning
    select
        case sentences.sentence_kind when 'coverage' then 6 else 8 end as section_order,
        sentences.sentence_order as line_order,
        sentences.sentence as line,
        'text' as style
    from sentences
    where sentences.sentence_kind in ('coverage', 'early_warning')
),

final as (
    select
        cast(row_number() over (order by section_order, line_order) as integer) as line_order,
        line,
        style
    from lines
)

select * from final
