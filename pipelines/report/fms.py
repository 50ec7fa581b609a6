"""The Force Management Statement files: fms/demand.csv and fms/demand.xlsx.

Both read the reporting models the profile's forecast section reads (`reporting.rpt_fms_*`),
through the same disclosure function (`public_years`), so a figure in the workbook is the
profile's figure for the same series and financial year. The workbook is made for an FMS
author to paste from: a README in plain words, history by financial year with the last
complete year as the baseline, the four-year projection with its 80/95% ranges and how often
such ranges held in testing, workload and hidden-demand scenarios whose every figure is a
live formula on assumption cells the author can change, and the early-warning check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pipelines.disclosure import SUPPRESSED, protect_count, protect_table
from pipelines.disclosure.formulas import neutralise_formulas
from pipelines.report.printed import (
    PrintedColumn,
    WrittenColumn,
    printed_columns,
    written_columns,
)

FIGURE_COLUMNS = ["recorded", "value", "lo80", "hi80", "lo95", "hi95"]
# Splits whose parts add up to all crimes: their recorded years are suppressed together.
SPLIT_FAMILIES = ("domestic_abuse", "online")
TOTAL_SERIES = "all_stalking"
BREACH_SERIES = "breaches"

# The CSV keeps the columns it has always had (spec/outputs.md: columns only grow).
CSV_COLUMNS = [
    "series",
    "financial_year",
    "status",
    "months_recorded",
    "months_covered",
    "actual_to_date",
    "value",
    "lo80",
    "hi80",
    "lo95",
    "hi95",
    "model",
    "break_applied",
    "cv_mase",
]
CSV_EXTRA_COLUMNS = [
    "series_label",
    "financial_year_start",
    "years_ahead",
    "is_baseline",
    "reconciliation",
    "measured_coverage80",
    "measured_coverage95",
    "backtest_is_poor",
]

# The candidate models in plain words (statsforecast names in the warehouse). The ensemble's
# label is built from the configured members (`ensemble_label`).
MODEL_LABELS = {
    "naive": "naive (last month repeated)",
    "seasonal_naive": "seasonal naive (same month last year)",
    "ets": "exponential smoothing (ETS)",
    "theta": "Theta",
    "arima": "ARIMA",
    "pooled_drift": "same month last year grown at the rate shared by the force's series",
}
# Each base model as a part of the ensemble's average.
MEMBER_LABELS = {
    "naive": "the last month repeated",
    "seasonal_naive": "the same month last year",
    "ets": "exponential smoothing (ETS)",
    "theta": "Theta",
    "arima": "ARIMA",
    "pooled_drift": "the growth shared by the force's series",
}

HEADER_FILL = PatternFill("solid", fgColor="1F3864")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
HEADER_FONT = Font(bold=True, color="FFFFFF")


@dataclass(frozen=True)
class DemandFigures:
    """The reporting rows behind every demand figure of the profile and the FMS files."""

    years: pd.DataFrame  # rpt_fms_financial_years
    quarters: pd.DataFrame  # rpt_fms_quarters
    backtest: pd.DataFrame  # rpt_fms_backtest
    assumptions: pd.DataFrame  # rpt_fms_assumptions
    workload_years: pd.DataFrame  # rpt_fms_workload_years
    tracking: pd.DataFrame  # rpt_fms_tracking
    sentences: pd.DataFrame  # rpt_fms_sentences
    not_forecast: pd.DataFrame  # rpt_fms_not_forecast

    @property
    def empty(self) -> bool:
        return self.years.empty


def read_demand_figures(con: duckdb.DuckDBPyConnection) -> DemandFigures:
    def rows(sql: str) -> pd.DataFrame:
        return con.execute(sql).df()

    return DemandFigures(
        years=rows(
            "select * from reporting.rpt_fms_financial_years "
            "order by series_order, series, financial_year_start"
        ),
        quarters=rows(
            "select * from reporting.rpt_fms_quarters order by series_order, series, quarter"
        ),
        backtest=rows("select * from reporting.rpt_fms_backtest order by dataset, horizon_years"),
        assumptions=rows("select * from reporting.rpt_fms_assumptions order by assumption_order"),
        workload_years=rows(
            "select * from reporting.rpt_fms_workload_years order by financial_year_start"
        ),
        tracking=rows("select * from reporting.rpt_fms_tracking order by series"),
        not_forecast=rows("select * from reporting.rpt_fms_not_forecast order by series"),
        sentences=rows(
            "select * from reporting.rpt_fms_sentences order by sentence_kind, sentence_order"
        ),
    )


# --------------------------------------------------------------------------- disclosure
def _rounded(value: float) -> int:
    return int(round(float(value)))


def public_years(years: pd.DataFrame, k: int) -> pd.DataFrame:
    """The financial-year table as every output prints it: figures rounded to whole crimes;
    recorded counts of 1..k-1 shown as '[c]', with the parts of a split suppressed together
    (secondary suppression per year, so no part can be worked out from the total); forecast
    figures below k shown as '[c]' too (the FMS export's rule), since a forecast of 2 a year
    reads as a count."""
    return _public(years, k, "financial_year", years["status"] == "recorded", FIGURE_COLUMNS)


def public_quarters(quarters: pd.DataFrame, k: int) -> pd.DataFrame:
    """The quarterly table under the same rules as `public_years`."""
    columns = FIGURE_COLUMNS[1:]
    return _public(quarters, k, "quarter", quarters["kind"] == "recorded", columns)


def _public(
    frame: pd.DataFrame, k: int, period: str, recorded: pd.Series, columns: list[str]
) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        out[column] = [public_count(v, k) for v in out[column].to_numpy(float)]
    for family in SPLIT_FAMILIES:
        parts = frame[recorded & (frame["series_family"] == family)]
        if parts["series"].nunique() < 2:
            continue
        wide = (
            parts.pivot_table(index="series", columns=period, values="value", aggfunc="sum")
            .round()
            .astype("int64")
        )
        public = protect_table(wide, k, row_totals=False, column_totals=True).public()
        for series in wide.index:
            for when in wide.columns:
                if pd.isna(public.at[series, when]):
                    mask = recorded & (out["series"] == series) & (out[period] == when)
                    out.loc[mask, columns] = SUPPRESSED
    return out


def ensemble_label(members: Sequence[str]) -> str:
    """'average of ARIMA and the growth shared by the force's series' for the configured
    `forecasting.ensemble_members`."""
    parts = [MEMBER_LABELS.get(m, m) for m in members]
    if len(parts) < 2:
        return f"average of {''.join(parts)}"
    return f"average of {', '.join(parts[:-1])} and {parts[-1]}"


def model_label(model: object, ensemble_members: Sequence[str]) -> str:
    if model is None or (isinstance(model, float) and np.isnan(model)) or model == "":
        return "–"
    if model == "ensemble":
        return ensemble_label(ensemble_members)
    return MODEL_LABELS.get(str(model), str(model))


def format_figure(value: object) -> str:
    """A published figure as text: '[c]' stays, numbers get thousands separators."""
    return value if isinstance(value, str) else f"{int(value):,}"


def public_count(value: float, k: int) -> int | str:
    return SUPPRESSED if protect_count(_rounded(value), k).suppressed else _rounded(value)


# --------------------------------------------------------------------------- plain words
def sentences(figures: DemandFigures, kind: str) -> list[str]:
    """The sentences of one kind from reporting.rpt_fms_sentences, in order (none: nothing
    to say): backtest_warning, coverage, not_forecast or early_warning."""
    rows = figures.sentences
    return list(rows.loc[rows["sentence_kind"] == kind, "sentence"])


def not_forecast_sentence(figures: DemandFigures) -> str:
    """Which series have no forecast and why ('' when every series was forecast)."""
    return "".join(sentences(figures, "not_forecast"))


def method_sentences(figures: DemandFigures, ensemble_members: Sequence[str]) -> list[str]:
    """How the figures were made, in plain words (profile and workbook README alike)."""
    years = figures.years
    forecast_models = years.loc[years["status"] != "recorded", "model"]
    models = sorted({model_label(m, ensemble_members) for m in forecast_models})
    missing = [s for s in [not_forecast_sentence(figures)] if s]
    return missing + [
        "Financial years run from April to March. Recorded figures count the crimes reported "
        "in each month (breaches: recorded breaches of protective orders by breach date).",
        "Each series is forecast month by month by the method that predicted best when tested "
        "on the recorded stalking and harassment of other police forces (Home Office "
        "figures), among seasonal naive, exponential smoothing, Theta, ARIMA, the growth "
        "shared by the force's series and averages of them; used here: "
        f"{'; '.join(models) or 'none'}.",
        "The parts of each split (domestic abuse and not; online and not online) are scaled "
        "month by month so that they add up to the forecast of all stalking crimes: the total "
        "rests on the most data and is the figure the FMS leads with; each part keeps its own "
        "pattern and its share. Quarters and years are sums of the months, so every table "
        "adds up.",
        "The ranges: the 80% range should hold the actual number in 8 years out of 10, the "
        "95% range in 19 out of 20. A year's range comes from how far off forecasts of a "
        "year's stalking and harassment were, that far ahead, in the Home Office figures of 22 "
        "police forces, 2009 to 2018 (when recorded harassment doubled); the Assumptions sheet "
        "says how often each year's ranges held when tested on forces the method had never "
        "seen. A quarter's range adds up the monthly ranges.",
    ]


# --------------------------------------------------------------------------- the CSV
def csv_table(figures: DemandFigures, k: int) -> pd.DataFrame:
    """fms/demand.csv: the current year and the projection (as before), plus the recorded
    history; columns as before plus labels, baseline flag and measured coverage."""
    years = public_years(figures.years, k)
    table = years.assign(
        months_covered=years["months_recorded"] + years["months_forecast"],
        actual_to_date=years["recorded"],
        cv_mase=years["cv_mase"].round(3),
    )
    for name, value in headline_accuracy(figures.backtest).items():
        table[name] = value
    accuracy = [c for c in headline_accuracy(figures.backtest)]
    return table[CSV_COLUMNS + accuracy + CSV_EXTRA_COLUMNS]


def headline_accuracy(backtest: pd.DataFrame) -> dict[str, float]:
    """One-year-ahead MASE and 80% coverage of the chosen model per back-test dataset (the
    CSV's backtest_* columns)."""
    out: dict[str, float] = {}
    for row in backtest[backtest["horizon_years"] == 1].itertuples():
        name = str(row.dataset).replace(":", "_")
        out[f"backtest_{name}_mase_1y"] = round(float(row.mase), 3)
        out[f"backtest_{name}_coverage80"] = round(float(row.coverage80), 3)
    return out


# --------------------------------------------------------------------------- the workbook
PROJECTION_HEADERS = [
    ("Series", "series_label"),
    ("Financial year", "financial_year"),
    ("Status", "status"),
    ("Years ahead", "years_ahead"),
    ("Months recorded", "months_recorded"),
    ("Recorded so far", "recorded"),
    ("Expected (central figure)", "value"),
    ("80% range: low", "lo80"),
    ("80% range: high", "hi80"),
    ("95% range: low", "lo95"),
    ("95% range: high", "hi95"),
    ("Tested: how often the 80% range held", "measured_coverage80"),
    ("Tested: how often the 95% range held", "measured_coverage95"),
    ("Forecast model", "model"),
    ("How the figure was made", "reconciliation"),
]
PROJECTION_VALUE_COLUMN = 7  # "Expected (central figure)", 1-based


def _style_header(ws: Worksheet, row: int, columns: int) -> None:
    for col in range(1, columns + 1):
        cell = ws.cell(row=row, column=col)
        cell.fill = HEADER_FILL
        cell.font = HEADER_FONT
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _finish_table(ws: Worksheet, header_row: int, columns: int, last_row: int) -> None:
    """Frozen header, filter over the table, readable widths."""
    _style_header(ws, header_row, columns)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(columns)}{max(last_row, header_row)}"
    for col in range(1, columns + 1):
        ws.column_dimensions[get_column_letter(col)].width = 16 if col > 1 else 30


def _cell_value(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def _write_rows(ws: Worksheet, start_row: int, rows: list[list[object]]) -> int:
    for offset, row in enumerate(rows):
        for col, value in enumerate(row, start=1):
            ws.cell(row=start_row + offset, column=col, value=_cell_value(value))
    return start_row + len(rows) - 1


@dataclass(frozen=True)
class FmsFiles:
    csv: Path
    workbook: Path
    rows: int

    @property
    def paths(self) -> list[Path]:
        return [self.csv, self.workbook]


def _readme(
    ws: Worksheet,
    quarter: str,
    force: str,
    figures: DemandFigures,
    k: int,
    baseline: str,
    ensemble_members: Sequence[str],
) -> None:
    current = figures.years[figures.years["years_ahead"] == 0]["financial_year"]
    last = figures.years[figures.years["years_ahead"].notna()]["financial_year"]
    lines: list[tuple[str, str]] = [
        ("Stalking demand for the Force Management Statement", "title"),
        (f"{force}. Figures to the end of {quarter}. OFFICIAL.", ""),
        ("", ""),
        ("What this workbook holds", "heading"),
        (
            f"Stalking crimes recorded by financial year (April to March), the last complete "
            f"year ({baseline or 'none yet'}) as the baseline, the current year "
            f"({current.iloc[0] if len(current) else '-'}) and the years to "
            f"{last.iloc[-1] if len(last) else '-'}: the current demand and the demand "
            "expected over the next four years that the FMS asks for.",
            "",
        ),
        (
            "Sheets: History (recorded crimes per year), Projection (baseline, current year "
            "and four years ahead with ranges), Assumptions (the numbers you can change), "
            "Workload (hours and posts that demand means), Hidden demand (if screened-in "
            "crimes are stalking), Quarterly (the same figures per quarter), Testing (how "
            "well the method forecast in tests), Early warning (is demand leaving the "
            "forecast range). On the Projection sheet, years ahead 0 is the current year.",
            "",
        ),
        ("", ""),
        ("How the figures were made", "heading"),
        *[(line, "") for line in method_sentences(figures, ensemble_members)],
    ]
    for warning in sentences(figures, "backtest_warning"):
        lines += [("", ""), (warning, "warning")]
    lines += [(sentence, "") for sentence in sentences(figures, "coverage")]
    lines += [
        ("", ""),
        ("Changing the assumptions", "heading"),
        (
            "Yellow cells on the Assumptions sheet are yours to change (hours per "
            "investigation, share of crimes with a stalking protection order application, "
            "and so on). Every figure on the Workload and Hidden demand sheets is a formula "
            "on those cells and on the Projection sheet, so it updates as you type. The "
            "starting shares are measured in the baseline year; the hours are starting "
            "values to agree locally.",
            "",
        ),
        ("", ""),
        ("Small numbers", "heading"),
        (
            f"Numbers from 1 to {k - 1} are shown as {SUPPRESSED} so that no victim can be "
            "identified; where one part of a split is hidden, the other part is hidden too. "
            "Figures are rounded to whole crimes, so parts may differ from the total by one.",
            "",
        ),
        ("", ""),
        ("Early warning", "heading"),
        *[(line, "") for line in sentences(figures, "early_warning")],
    ]
    ws.column_dimensions["A"].width = 120
    for row, (text, kind) in enumerate(lines, start=1):
        cell = ws.cell(row=row, column=1, value=text or None)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if kind == "title":
            cell.font = Font(bold=True, size=14)
        elif kind == "heading":
            cell.font = Font(bold=True)
        elif kind == "warning":
            cell.font = Font(bold=True, color="9C0006")
            cell.fill = PatternFill("solid", fgColor="FFC7CE")


def _history(ws: Worksheet, years: pd.DataFrame) -> None:
    recorded = years[years["status"] == "recorded"]
    columns = list(dict.fromkeys(recorded["financial_year"]))
    baseline = recorded.loc[recorded["is_baseline"], "financial_year"]
    headers = ["Series"] + [
        f"{y} (baseline)" if len(baseline) and y == baseline.iloc[0] else y for y in columns
    ]
    ws.append(headers)
    rows = []
    for _, part in recorded.groupby("series_order", sort=True):
        values = part.set_index("financial_year")["recorded"]
        rows.append([part["series_label"].iloc[0], *[values.get(y) for y in columns]])
    last = _write_rows(ws, 2, rows)
    _finish_table(ws, 1, len(headers), last)


def _projection(
    ws: Worksheet, years: pd.DataFrame, ensemble_members: Sequence[str]
) -> dict[tuple[str, str], int]:
    """Baseline, current year and projection per series; returns the row of each (series,
    financial year) so other sheets' formulas can point at its central figure."""
    shown = years[years["is_baseline"] | years["years_ahead"].notna()]
    headers = [h for h, _ in PROJECTION_HEADERS] + ["Change on baseline"]
    ws.append(headers)
    where: dict[tuple[str, str], int] = {}
    row_number = 2
    value_col = get_column_letter(PROJECTION_VALUE_COLUMN)
    for _, part in shown.groupby("series_order", sort=True):
        base_row = None
        for record in part.sort_values("financial_year_start").to_dict("records"):
            record["model"] = model_label(record["model"], ensemble_members)
            values = [record[c] for _, c in PROJECTION_HEADERS]
            if record["is_baseline"]:
                values[2] = "baseline: last complete financial year"
                base_row = row_number
            _write_rows(ws, row_number, [values])
            for col in (12, 13):
                ws.cell(row=row_number, column=col).number_format = "0%"
            if base_row and row_number != base_row:
                # A live formula: the author sees the change if a figure is edited.
                this, base = f"{value_col}{row_number}", f"{value_col}{base_row}"
                ws.cell(
                    row=row_number,
                    column=len(headers),
                    value=f"=IF(AND(ISNUMBER({this}),ISNUMBER({base}),{base}<>0),"
                    f'{this}/{base}-1,"")',
                ).number_format = "+0%;-0%;0%"
            where[(record["series"], record["financial_year"])] = row_number
            row_number += 1
    _finish_table(ws, 1, len(headers), row_number - 1)
    return where


def _assumptions(ws: Worksheet, assumptions: pd.DataFrame) -> dict[str, int]:
    """The editable assumptions (reporting.rpt_fms_assumptions), yellow where the author types;
    returns the row of each assumption for the formulas that read it."""
    columns = printed_columns("rpt_fms_assumptions", "workbook")
    ws.append([column.label for column in columns])
    last = _write_rows(ws, 2, assumptions[[c.name for c in columns]].values.tolist())
    for row, unit in enumerate(assumptions["unit"], start=2):
        cell = ws.cell(row=row, column=2)
        cell.fill = INPUT_FILL
        cell.number_format = "0%" if unit == "share" else "#,##0.0"
    _finish_table(ws, 1, len(columns), last)
    ws.column_dimensions["A"].width = 55
    ws.column_dimensions["D"].width = 45
    return dict(zip(assumptions["assumption"], range(2, last + 1), strict=True))


# `{row}`, `{assumption:<name>}` or `{projected:<series>}` in a declared formula
PLACEHOLDER = re.compile(r"\{(\w+)(?::(\w+))?\}")


def _live_cell(
    template: str,
    row: int,
    financial_year: str,
    assumption_rows: dict[str, int],
    projection_rows: dict[tuple[str, str], int],
) -> str | int:
    """A declared formula with its references filled in; 0 where the Projection sheet has no
    row for the series and year it points at."""
    unresolved = []

    def cell(match: re.Match[str]) -> str:
        kind, name = match.groups()
        if kind == "row":
            return str(row)
        if kind == "assumption":
            return f"Assumptions!$B${assumption_rows[name]}"
        projected = projection_rows.get((name, financial_year))
        if projected is None:
            unresolved.append(name)
            return ""
        return f"Projection!{get_column_letter(PROJECTION_VALUE_COLUMN)}{projected}"

    formula = PLACEHOLDER.sub(cell, template)
    return 0 if unresolved else formula


def _formula_sheet(
    ws: Worksheet,
    years: pd.DataFrame,
    columns: tuple[WrittenColumn, ...],
    assumption_rows: dict[str, int],
    projection_rows: dict[tuple[str, str], int],
) -> None:
    """A sheet of live formulas as its model's YAML declares it (`written_as`): one row per
    year, each column a model column or a formula on the Assumptions and Projection sheets."""
    ws.append([column.label for column in columns])
    for row, record in enumerate(years.to_dict("records"), start=2):
        for index, column in enumerate(columns, start=1):
            value = (
                record[column.value]
                if column.formula is None
                else _live_cell(
                    column.formula, row, record["financial_year"], assumption_rows,
                    projection_rows,
                )
            )  # fmt: skip
            cell = ws.cell(row=row, column=index, value=_cell_value(value))
            if column.number_format is not None:
                cell.number_format = column.number_format
    _finish_table(ws, 1, len(columns), len(years) + 1)


def _frame_sheet(ws: Worksheet, frame: pd.DataFrame, columns: tuple[PrintedColumn, ...]) -> None:
    ws.append([column.label for column in columns])
    names = [column.name for column in columns]
    rows = frame[names].astype(object).values.tolist() if len(frame) else []
    last = _write_rows(ws, 2, rows)
    _finish_table(ws, 1, len(columns), last)
    for index, column in enumerate(columns, start=1):
        if column.kind == "rate":
            for cell in ws[get_column_letter(index)][1:]:
                cell.number_format = "0%"


def write_fms(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    folder: Path,
    min_count: int,
    force_name: str,
    ensemble_members: Sequence[str],
) -> FmsFiles:
    """Write fms/demand.csv and fms/demand.xlsx under `folder` (the quarter's output folder)
    from the reporting models, disclosure-controlled."""
    figures = read_demand_figures(con)
    out_dir = folder / "fms"
    out_dir.mkdir(parents=True, exist_ok=True)
    csv = out_dir / "demand.csv"
    neutralise_formulas(csv_table(figures, min_count)).to_csv(csv, index=False)

    years = public_years(figures.years, min_count)
    baseline_rows = years.loc[years["is_baseline"], "financial_year"]
    baseline = str(baseline_rows.iloc[0]) if len(baseline_rows) else ""
    book = Workbook()
    readme = book.active
    readme.title = "README"
    _readme(readme, quarter, force_name, figures, min_count, baseline, ensemble_members)
    _history(book.create_sheet("History"), years)
    projection_rows = _projection(book.create_sheet("Projection"), years, ensemble_members)
    assumption_rows = _assumptions(book.create_sheet("Assumptions"), figures.assumptions)
    for sheet in ("Workload", "Hidden demand"):
        _formula_sheet(
            book.create_sheet(sheet),
            figures.workload_years,
            written_columns("rpt_fms_workload_years", sheet),
            assumption_rows,
            projection_rows,
        )
    _frame_sheet(
        book.create_sheet("Quarterly"),
        public_quarters(figures.quarters, min_count),
        printed_columns("rpt_fms_quarters", "workbook"),
    )
    _frame_sheet(
        book.create_sheet("Testing"),
        figures.backtest,
        printed_columns("rpt_fms_backtest", "workbook"),
    )
    tracking = figures.tracking.copy()
    for column in ("actual", "expected", "lo80", "hi80"):
        tracking[column] = [public_count(v, min_count) for v in tracking[column].to_numpy(float)]
    _frame_sheet(
        book.create_sheet("Early warning"),
        tracking,
        printed_columns("rpt_fms_tracking", "workbook"),
    )
    book.properties.title = f"Stalking demand for the FMS, {quarter}"
    book.save(out_dir / "demand.xlsx")
    return FmsFiles(csv=csv, workbook=out_dir / "demand.xlsx", rows=len(years))
