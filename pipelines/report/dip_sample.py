"""The assurance dip sample: restricted/dip_sample.csv and .xlsx, and the auditors' returns.

The sample is drawn in dbt (reporting.rpt_dip_sample: stratified by identification route and
domestic abuse, screened crimes over-sampled, seeded so the same crimes come out every time);
this module writes it for the auditors with empty verdict columns, OFFICIAL-SENSITIVE and
owner-only (it lists crime references). Completed samples the auditors return to the
configured folder are read back by `pipelines.dip_sample_returns` (loaded into the warehouse
by the assurance asset) so the profile can report the verdicts in aggregate.
"""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from pipelines.dip_sample_returns import VERDICT_COLUMNS
from pipelines.disclosure.formulas import neutralise_formulas
from pipelines.report.printed import PrintedColumn, WrittenColumn, printed_columns, printed_frame
from pipelines.report.restricted import MARKING, RESTRICTED_DIR, owner_only_dir, write_private
from pipelines.report.sheets import from_printed, write_table


def sample_columns() -> tuple[PrintedColumn, ...]:
    """The sample's columns and headings (reporting.rpt_dip_sample's YAML)."""
    return printed_columns("rpt_dip_sample", "dip_sample")


def sample_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    frame = con.execute("select * from reporting.rpt_dip_sample order by sample_id").df()
    frame = printed_frame(frame, sample_columns())
    for column in sample_columns():
        if column.kind == "flag":
            frame[column.name] = frame[column.name].map({True: "yes", False: "no"})
    for column in VERDICT_COLUMNS:
        frame[column] = ""
    return frame


def write_dip_sample(
    con: duckdb.DuckDBPyConnection, quarter: str, folder: Path, force_name: str
) -> list[Path]:
    """Write restricted/dip_sample.csv and .xlsx under `folder` (owner-only, marked)."""
    frame = neutralise_formulas(sample_frame(con))
    out_dir = folder / RESTRICTED_DIR
    owner_only_dir(out_dir)
    note = (
        f"# {MARKING}: {force_name} stalking assurance dip sample {quarter}. Fill in the "
        "auditor columns and return the file to the assurance folder; do not forward."
    )
    csv = out_dir / "dip_sample.csv"
    write_private(csv, note + "\n" + frame.to_csv(index=False))

    book = Workbook()
    sheet = book.active
    sheet.title = "Dip sample"
    sheet.append([note.lstrip("# ")])
    sheet["A1"].font = Font(bold=True, color="9C0006")
    # the auditors' file is read back by these names (pipelines.dip_sample_returns)
    sheet.append([c.name for c in sample_columns()] + list(VERDICT_COLUMNS))
    verdicts = [
        WrittenColumn(label, value=name, editable=True) for name, label in VERDICT_COLUMNS.items()
    ]
    columns = (*from_printed(sample_columns()), *verdicts)
    write_table(sheet, frame, columns, header_row=3, frozen_columns=2)
    sheet.oddHeader.center.text = MARKING
    sheet.oddFooter.center.text = MARKING
    workbook = out_dir / "dip_sample.xlsx"
    buffer = io.BytesIO()
    book.save(buffer)
    write_private(workbook, buffer.getvalue())
    return [csv, workbook]
