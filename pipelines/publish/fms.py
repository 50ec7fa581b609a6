"""The Force Management Statement files, fms/demand.csv and fms/demand.xlsx, from the
reporting models the profile's forecast section reads (`reporting.rpt_fms_*`) through the same
disclosure functions (`pipelines.disclosure.demand`): a figure in the workbook is the profile's.
The workbook is for an FMS author to paste from: a README, history by financial year, the
projection with its 80/95% ranges and their tested coverage, workload and hidden-demand
scenarios as live formulas on assumption cells the author can change, the early warning.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from pipelines.disclosure.demand import (
    protect_demand_quarters,
    protect_demand_tracking,
    protect_demand_years,
)
from pipelines.disclosure.formulas import neutralise_formulas
from pipelines.publish.sheets import WrittenColumn, write_table, written_columns
from pipelines.report.printed import model_frames, read_by
from pipelines.report.sections import DEMAND

# The workbook's sheets after its README and History: each one's rows (as published), written
# as its model's YAML declares the sheet (`written_as`).
WORKBOOK_SHEETS = {
    "Projection": "years",  # the projection rows of the financial years
    "Assumptions": "assumptions",
    "Workload": "workload_years",
    "Hidden demand": "workload_years",
    "Quarterly": "quarters",
    "Testing": "backtest",
    "Early warning": "tracking",
}


# --------------------------------------------------------------------------- the CSV
def csv_table(
    years: pd.DataFrame, headline_accuracy: pd.DataFrame, not_forecast: pd.DataFrame
) -> pd.DataFrame:
    """fms/demand.csv from the financial years as published: the current year and the
    projection (as before), plus the recorded history; its columns as before, the one-year-ahead
    back-test figures, then the columns added since (labels, baseline flag, measured coverage),
    as the model's YAML declares them. A series not forecast follows as a row whose status says
    why (no figures), so a delivery too short to forecast does not give a header-only file."""
    table = pd.DataFrame(index=years.index)
    for column in written_columns("rpt_fms_financial_years", "demand.csv"):
        table[column.label] = years[column.value]
    for accuracy in headline_accuracy.itertuples():
        table[accuracy.column_name] = accuracy.value
    for column in written_columns("rpt_fms_financial_years", "demand.csv added"):
        table[column.label] = years[column.value]
    if not_forecast.empty:
        return table
    unforecast = pd.DataFrame(
        {
            column.label: not_forecast[column.value].to_numpy()
            for column in written_columns("rpt_fms_not_forecast", "demand.csv")
        }
    )
    return pd.concat([table, unforecast], ignore_index=True)[table.columns]


# --------------------------------------------------------------------------- the workbook
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
        text = (
            line.line.replace("{force}", force).replace("{quarter}", quarter) if line.line else None
        )
        cell = ws.cell(row=row, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if line.style in README_FONTS:
            cell.font = README_FONTS[line.style]
        if line.style == "warning":
            cell.fill = WARNING_FILL


def _history(years: pd.DataFrame) -> tuple[pd.DataFrame, tuple[WrittenColumn, ...]]:
    """The History sheet: a series a row, its complete recorded years as columns, headed as
    the model heads them (`history_heading`)."""
    recorded = years[years["status"] == "recorded"]
    headings = list(dict.fromkeys(recorded["history_heading"]))
    wide = recorded.pivot(
        index=["series_order", "series_label"], columns="history_heading", values="recorded"
    )
    table = wide[headings].reset_index()
    columns = [WrittenColumn(heading, value=heading) for heading in headings]
    return table, (WrittenColumn("Series", value="series_label", width=30), *columns)


def write_fms(
    con: duckdb.DuckDBPyConnection, quarter: str, folder: Path, min_count: int, force_name: str
) -> list[Path]:
    """Write fms/demand.csv and fms/demand.xlsx under `folder` (the quarter's output folder)
    from the reporting models, disclosure-controlled. Every sheet but the README is a table
    written as its model's YAML declares it (`written_as`)."""
    figures = model_frames(con, DEMAND)
    out_dir = folder / "fms"
    out_dir.mkdir(parents=True, exist_ok=True)
    years = protect_demand_years(figures["years"], min_count)
    csv = out_dir / "demand.csv"
    neutralise_formulas(
        csv_table(years, figures["headline_accuracy"], figures["not_forecast"])
    ).to_csv(csv, index=False)
    shown = {
        **figures,
        "years": years[years["is_projection_row"]],
        "quarters": protect_demand_quarters(figures["quarters"], min_count),
        "tracking": protect_demand_tracking(figures["tracking"], min_count),
    }
    book = Workbook()
    book.active.title = "README"
    _readme(book.active, figures["readme"], quarter, force_name)
    write_table(book.create_sheet("History"), *_history(years), yes_no=True)
    for sheet, rows in WORKBOOK_SHEETS.items():
        columns = written_columns(read_by(DEMAND)[rows]["model"], sheet)
        write_table(book.create_sheet(sheet), shown[rows], columns, yes_no=True)
    book.properties.title = f"Stalking demand for the FMS, {quarter}"
    book.save(out_dir / "demand.xlsx")
    return [csv, out_dir / "demand.xlsx"]
