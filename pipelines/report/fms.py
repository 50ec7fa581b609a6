"""The Force Management Statement files: fms/demand.csv and fms/demand.xlsx.

Both read the reporting models the profile's forecast section reads (`reporting.rpt_fms_*`),
through the same disclosure functions (`pipelines.disclosure.demand`), so a figure in the
workbook is the profile's figure for the same series and financial year. The workbook is
made for an FMS author to paste from: a README in plain words, history by financial year
with the last complete year as the baseline, the four-year projection with its 80/95% ranges
and how often such ranges held in testing, workload and hidden-demand scenarios whose every
figure is a live formula on assumption cells the author can change, and the early-warning
check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pipelines.disclosure.demand import (
    protect_demand_figure,
    protect_demand_quarters,
    protect_demand_years,
)
from pipelines.disclosure.formulas import neutralise_formulas
from pipelines.report.printed import (
    PrintedColumn,
    WrittenColumn,
    printed_columns,
    written_columns,
)

TOTAL_SERIES = "all_stalking"

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
    method: pd.DataFrame  # rpt_fms_method_sentences
    readme: pd.DataFrame  # rpt_fms_readme
    headline_accuracy: pd.DataFrame  # rpt_fms_headline_accuracy

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
        sentences=rows(
            "select * from reporting.rpt_fms_sentences order by sentence_kind, sentence_order"
        ),
        method=rows("select * from reporting.rpt_fms_method_sentences order by sentence_order"),
        readme=rows("select * from reporting.rpt_fms_readme order by line_order"),
        headline_accuracy=rows(
            "select * from reporting.rpt_fms_headline_accuracy order by column_order"
        ),
    )


# --------------------------------------------------------------------------- formatting
def format_figure(value: object) -> str:
    """A published figure as text: '[c]' stays, numbers get thousands separators."""
    return value if isinstance(value, str) else f"{int(value):,}"


# --------------------------------------------------------------------------- plain words
def sentences(figures: DemandFigures, kind: str) -> list[str]:
    """The sentences of one kind from reporting.rpt_fms_sentences, in order (none: nothing
    to say): backtest_warning, coverage, not_forecast or early_warning."""
    rows = figures.sentences
    return list(rows.loc[rows["sentence_kind"] == kind, "sentence"])


def not_forecast_sentence(figures: DemandFigures) -> str:
    """Which series have no forecast and why ('' when every series was forecast)."""
    return "".join(sentences(figures, "not_forecast"))


def method_sentences(figures: DemandFigures) -> list[str]:
    """How the figures were made, in plain words (profile and workbook README alike)."""
    return list(figures.method["sentence"])


# --------------------------------------------------------------------------- the CSV
def csv_table(figures: DemandFigures, k: int) -> pd.DataFrame:
    """fms/demand.csv: the current year and the projection (as before), plus the recorded
    history; its columns as before, the one-year-ahead back-test figures, then the columns
    added since (labels, baseline flag, measured coverage), as the model's YAML declares them."""
    years = protect_demand_years(figures.years, k)
    table = pd.DataFrame(index=years.index)
    for column in written_columns("rpt_fms_financial_years", "demand.csv"):
        table[column.label] = years[column.value]
    for accuracy in figures.headline_accuracy.itertuples():
        table[accuracy.column_name] = accuracy.value
    for column in written_columns("rpt_fms_financial_years", "demand.csv added"):
        table[column.label] = years[column.value]
    return table


# --------------------------------------------------------------------------- the workbook
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


README_FONTS = {
    "title": Font(bold=True, size=14),
    "heading": Font(bold=True),
    "warning": Font(bold=True, color="9C0006"),
}
WARNING_FILL = PatternFill("solid", fgColor="FFC7CE")


def _readme(ws: Worksheet, readme: pd.DataFrame, quarter: str, force: str) -> None:
    """The README sheet: the lines of reporting.rpt_fms_readme, each in its style."""
    ws.column_dimensions["A"].width = 120
    for row, line in enumerate(readme.itertuples(), start=1):
        text = None if pd.isna(line.line) else line.line
        if text:
            text = text.replace("{force}", force).replace("{quarter}", quarter)
        cell = ws.cell(row=row, column=1, value=text or None)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if line.style in README_FONTS:
            cell.font = README_FONTS[line.style]
        if line.style == "warning":
            cell.fill = WARNING_FILL


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


def _projection_value_column() -> str:
    """The Projection sheet's column of central figures (what `{projected:...}` points at)."""
    columns = written_columns("rpt_fms_financial_years", "Projection")
    return get_column_letter(1 + [c.value for c in columns].index("value"))


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


# `{row}`, `{baseline_row}`, `{assumption:<name>}` or `{projected:<series>}` in a formula
PLACEHOLDER = re.compile(r"\{(\w+)(?::(\w+))?\}")


@dataclass(frozen=True)
class SheetRows:
    """Where a declared formula's references point: the Assumptions row of each assumption,
    the Projection row of each (series, financial year) and of each series' baseline."""

    assumptions: dict[str, int]
    projection: dict[tuple[str, str], int]
    baselines: dict[str, int]


def _live_cell(template: str, row: int, record: dict, rows: SheetRows) -> str | int | None:
    """A declared formula with its references filled in; 0 where the Projection sheet has no
    row for the series and year it points at; None (no cell) on a series' baseline row or
    where it has no baseline, for a formula that compares with the baseline."""
    unresolved = []
    baseline = rows.baselines.get(str(record.get("series")))

    def cell(match: re.Match[str]) -> str:
        kind, name = match.groups()
        if kind == "row":
            return str(row)
        if kind == "baseline_row":
            return str(baseline)
        if kind == "assumption":
            return f"Assumptions!$B${rows.assumptions[name]}"
        projected = rows.projection.get((name, record["financial_year"]))
        if projected is None:
            unresolved.append(name)
            return ""
        return f"Projection!{_projection_value_column()}{projected}"

    if "{baseline_row}" in template and baseline in (None, row):
        return None
    formula = PLACEHOLDER.sub(cell, template)
    return 0 if unresolved else formula


def _formula_sheet(
    ws: Worksheet, frame: pd.DataFrame, columns: tuple[WrittenColumn, ...], rows: SheetRows
) -> None:
    """A sheet as its model's YAML declares it (`written_as`): one row per row of `frame`,
    each column a model column or a live formula on the Assumptions and Projection sheets."""
    ws.append([column.label for column in columns])
    for row, record in enumerate(frame.to_dict("records"), start=2):
        for index, column in enumerate(columns, start=1):
            if column.formula is None:
                value = record[column.value]
            else:
                value = _live_cell(column.formula, row, record, rows)
                if value is None:
                    continue
            cell = ws.cell(row=row, column=index, value=_cell_value(value))
            if column.number_format is not None:
                cell.number_format = column.number_format
    _finish_table(ws, 1, len(columns), len(frame) + 1)


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
    con: duckdb.DuckDBPyConnection, quarter: str, folder: Path, min_count: int, force_name: str
) -> FmsFiles:
    """Write fms/demand.csv and fms/demand.xlsx under `folder` (the quarter's output folder)
    from the reporting models, disclosure-controlled."""
    figures = read_demand_figures(con)
    out_dir = folder / "fms"
    out_dir.mkdir(parents=True, exist_ok=True)
    csv = out_dir / "demand.csv"
    neutralise_formulas(csv_table(figures, min_count)).to_csv(csv, index=False)

    years = protect_demand_years(figures.years, min_count)
    book = Workbook()
    readme = book.active
    readme.title = "README"
    _readme(readme, figures.readme, quarter, force_name)
    _history(book.create_sheet("History"), years)
    # baseline, current year and projection per series, in the years' order
    projected = years[years["is_baseline"] | years["years_ahead"].notna()]
    keys = list(zip(projected["series"], projected["financial_year"], strict=True))
    projection_rows = {key: row for row, key in enumerate(keys, start=2)}
    baselines = projected.loc[projected["is_baseline"], ["series", "financial_year"]]
    projection = book.create_sheet("Projection")
    rows = SheetRows(
        _assumptions(book.create_sheet("Assumptions"), figures.assumptions),
        projection_rows,
        {series: projection_rows[(series, year)] for series, year in baselines.values},
    )
    _formula_sheet(
        projection, projected, written_columns("rpt_fms_financial_years", "Projection"), rows
    )
    for sheet in ("Workload", "Hidden demand"):
        _formula_sheet(
            book.create_sheet(sheet),
            figures.workload_years,
            written_columns("rpt_fms_workload_years", sheet),
            rows,
        )
    tracking = figures.tracking.copy()
    for column in ("actual", "expected", "lo80", "hi80"):
        figures_of_column = tracking[column].to_numpy(float)
        tracking[column] = [protect_demand_figure(v, min_count) for v in figures_of_column]
    for sheet, frame, model in (
        ("Quarterly", protect_demand_quarters(figures.quarters, min_count), "rpt_fms_quarters"),
        ("Testing", figures.backtest, "rpt_fms_backtest"),
        ("Early warning", tracking, "rpt_fms_tracking"),
    ):
        _frame_sheet(book.create_sheet(sheet), frame, printed_columns(model, "workbook"))
    book.properties.title = f"Stalking demand for the FMS, {quarter}"
    book.save(out_dir / "demand.xlsx")
    return FmsFiles(csv=csv, workbook=out_dir / "demand.xlsx", rows=len(years))
