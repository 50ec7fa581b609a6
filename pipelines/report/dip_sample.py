"""The assurance dip sample: restricted/dip_sample.csv and .xlsx, and the auditors' returns.

The sample is drawn in dbt (reporting.rpt_dip_sample: stratified by identification route and
domestic abuse, screened crimes over-sampled, seeded so the same crimes come out every time);
this module writes it for the auditors with empty verdict columns, OFFICIAL-SENSITIVE and
owner-only (it lists crime references). Completed samples the auditors return to the
configured folder are read back by `read_returned_samples` (loaded into the warehouse by the
assurance asset) so the profile can report the verdicts in aggregate.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from pipelines.disclosure.formulas import neutralise_formulas, neutralise_text
from pipelines.report.printed import PrintedColumn, printed_columns, printed_frame
from pipelines.report.restricted import MARKING, RESTRICTED_DIR, owner_only_dir, write_private

# The auditor's columns, left empty: yes / no / unsure, then free text.
VERDICT_COLUMNS = {
    "verdict_is_stalking": "Auditor: is this stalking? (yes/no/unsure)",
    "verdict_correctly_recorded": "Auditor: recorded correctly? (yes/no/unsure)",
    "verdict_victims_code_met": "Auditor: Victims' Code met? (yes/no/unsure)",
    "auditor_notes": "Auditor: notes",
}
RETURN_COLUMNS = ["sample_id", "crime_id", *list(VERDICT_COLUMNS)[:3]]
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}


@dataclass(frozen=True)
class DipSampleFiles:
    csv: Path
    workbook: Path
    rows: int

    @property
    def paths(self) -> list[Path]:
        return [self.csv, self.workbook]


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
) -> DipSampleFiles:
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
    sheet.append([c.name for c in sample_columns()] + list(VERDICT_COLUMNS))
    sheet.append([c.label for c in sample_columns()] + list(VERDICT_COLUMNS.values()))
    for row in frame.astype(object).where(frame.notna(), None).values.tolist():
        sheet.append([_cell(v) for v in row])
    fill = PatternFill("solid", fgColor="FFF2CC")
    first_verdict = len(sample_columns()) + 1
    for row in sheet.iter_rows(min_row=4, min_col=first_verdict, max_col=sheet.max_column):
        for cell in row:
            cell.fill = fill
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "C4"
    sheet.auto_filter.ref = f"A3:{sheet.cell(row=3, column=sheet.max_column).column_letter}" + str(
        max(sheet.max_row, 3)
    )
    sheet.oddHeader.center.text = MARKING
    sheet.oddFooter.center.text = MARKING
    workbook = out_dir / "dip_sample.xlsx"
    buffer = io.BytesIO()
    book.save(buffer)
    write_private(workbook, buffer.getvalue())
    return DipSampleFiles(csv=csv, workbook=workbook, rows=len(frame))


def _cell(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):
        return value.item()
    return neutralise_text(value)


# --------------------------------------------------------------------------- returned samples
def normalise_verdict(value: object) -> str | None:
    """yes / no / unsure from what an auditor typed; None when left empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    return "yes" if text in YES else "no" if text in NO else "unsure"


def _read_one(path: Path) -> pd.DataFrame:
    """A returned sample as written (csv with its marking line, or the workbook)."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig") as handle:
            marked = handle.readline().startswith("#")
        return pd.read_csv(path, skiprows=1 if marked else 0, dtype=str, keep_default_na=False)
    # Row 1 is the marking, row 2 the column names, row 3 the headings.
    return pd.read_excel(path, header=1, skiprows=[2], dtype=str).fillna("")


def read_returned_samples(folder: Path) -> pd.DataFrame:
    """Every verdict in the completed samples found in `folder` (csv or xlsx; files that are
    not a returned sample are skipped). One row per crime: the file read last (by name) wins,
    so a corrected return replaces an earlier one."""
    rows: dict[str, dict[str, object]] = {}
    files = sorted(p for p in Path(folder).glob("*") if p.suffix.lower() in (".csv", ".xlsx"))
    for path in files:
        try:
            frame = _read_one(path)
        except (OSError, ValueError, KeyError):
            continue  # not a sample we wrote (or unreadable): nothing to count from it
        if not {"crime_id", "verdict_is_stalking"} <= set(frame.columns):
            continue
        for record in frame.to_dict("records"):
            crime = str(record.get("crime_id") or "").strip().lstrip("'")
            verdicts = {
                column: normalise_verdict(record.get(column)) for column in RETURN_COLUMNS[2:]
            }
            if not crime or not any(verdicts.values()):
                continue  # an unaudited row
            rows[crime] = {
                "sample_id": str(record.get("sample_id") or ""),
                "crime_id": crime,
                **verdicts,
            }
    return pd.DataFrame(list(rows.values()), columns=RETURN_COLUMNS)
