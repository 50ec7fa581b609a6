"""What every restricted (OFFICIAL-SENSITIVE) output shares: its marking, its CSV note and its
sheets' page setup (written owner-only from creation: pipelines.run_safety); and the restricted
outputs besides the tasking pack (pipelines.publish.tasking): the assurance dip sample for the
auditors and the person-resolution diagnostics page. None is published or linked from the
profile."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from pipelines.dip_sample_returns import VERDICT_COLUMNS
from pipelines.disclosure.formulas import neutralise_formulas
from pipelines.publish.sheets import WrittenColumn, from_printed, write_table
from pipelines.report.printed import (
    PrintedColumn,
    environment,
    printed_columns,
    printed_frame,
    printed_table,
)
from pipelines.run_safety import RESTRICTED_DIR, owner_only_dir, write_private

MARKING = "OFFICIAL-SENSITIVE"
SUBJECTS_DIR = "subject_profiles"


def write_private_csv(path: Path, note: str, frame: pd.DataFrame, **options: Any) -> Path:
    """A CSV under its marking note (a `#` line), no cell able to start a formula."""
    body = neutralise_formulas(frame).to_csv(index=False, **options)
    return write_private(path, f"# {note}\n{body}")


def mark_sheet(sheet: Worksheet) -> None:
    """The marking in every printed page's header and footer, landscape, headings repeated."""
    for header_footer in (sheet.oddHeader, sheet.evenHeader, sheet.firstHeader):
        header_footer.center.text = MARKING
    for header_footer in (sheet.oddFooter, sheet.evenFooter, sheet.firstFooter):
        header_footer.center.text = MARKING
        header_footer.right.text = "Page &P of &N"
    sheet.page_setup.orientation = "landscape"
    sheet.print_title_rows = "1:1"


# --------------------------------------------------------------------------- the dip sample
def _returnable_workbook(title: str, note: str, names: list[str]) -> tuple[Workbook, Worksheet]:
    """A sheet for auditors to fill in and return: the marking note in red on row 1, the column
    names a return is read back by (pipelines.dip_sample_returns) on row 2."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append([note])
    sheet["A1"].font = Font(bold=True, color="9C0006")
    sheet.append(names)
    return book, sheet


def write_dip_sample(
    con: duckdb.DuckDBPyConnection, quarter: str, folder: Path, force_name: str
) -> list[Path]:
    """restricted/dip_sample.csv and .xlsx: the sample drawn in dbt (reporting.rpt_dip_sample:
    stratified, seeded) with empty verdict columns for the auditors, whose returns are read back
    by `pipelines.dip_sample_returns` under the column names the sheet's second row gives."""
    columns = printed_columns("rpt_dip_sample", "dip_sample")
    frame = con.execute("select * from reporting.rpt_dip_sample order by sample_id").df()
    frame = printed_frame(frame, columns).assign(**dict.fromkeys(VERDICT_COLUMNS, ""))
    for column in columns:
        if column.kind == "flag":
            frame[column.name] = frame[column.name].map({True: "yes", False: "no"})
    out_dir = owner_only_dir(folder / RESTRICTED_DIR)
    note = (
        f"{MARKING}: {force_name} stalking assurance dip sample {quarter}. Fill in the "
        "auditor columns and return the file to the assurance folder; do not forward."
    )
    csv = write_private_csv(out_dir / "dip_sample.csv", note, frame)
    book, sheet = _returnable_workbook("Dip sample", note, list(frame.columns))
    verdicts = [
        WrittenColumn(label, value=name, editable=True) for name, label in VERDICT_COLUMNS.items()
    ]
    written = (*from_printed(columns), *verdicts)
    write_table(sheet, frame, written, header_row=3, frozen_columns=2)
    sheet.oddHeader.center.text = MARKING
    sheet.oddFooter.center.text = MARKING
    return [csv, write_private(out_dir / "dip_sample.xlsx", book)]


# --------------------------------------------------------------------------- screening review
# The review sample's columns as the auditors see them (row 3 of the workbook; row 2 holds the
# names a return is read back by).
REVIEW_HEADINGS = {
    "sample_id": "Sample id",
    "crime_id": "Crime reference",
    "quarter": "Quarter",
    "reported_date": "Reported",
    "offence_category": "Offence category",
    "score": "Screening score",
    "is_flagged": "Screened in at this run's threshold",
    "reasons": "Screening reasons",
    "flag_level": "Lowest threshold that flags it",
    "band_floor": "Band (lowest threshold from)",
    "band_crimes": "Crimes in its band this quarter",
    "band_sample": "Sampled from its band",
    "verdict_is_stalking": "Auditor: is this stalking? (yes/no/unsure)",
    "auditor_notes": "Auditor: notes",
}


def write_screening_review(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    folder: Path,
    force_name: str,
    *,
    bands: list[int],
    per_band: int,
    seed: int,
) -> list[Path]:
    """restricted/screening_review.csv and .xlsx: the quarter's screened crimes drawn per band
    of flag level around the threshold (pipelines.screening_calibration.draw_review_sample,
    from reporting.rpt_screening_review_population), with the design of the draw and an empty
    verdict for the auditors; returned to the assurance folder, the verdicts measure
    screening's precision on the force (and set its threshold where calibration is on). The
    note says which threshold this run used and why. Nothing when no crime is drawn (per_band
    0, or no crime in the bands)."""
    from pipelines.screening_calibration import draw_review_sample

    population = con.execute(
        "select * from reporting.rpt_screening_review_population order by crime_id"
    ).df()
    drawn = draw_review_sample(population, quarter, bands, per_band, seed)
    if drawn.empty:
        return []
    frame = drawn.merge(
        population.drop(columns=["quarter", "flag_level"]), on="crime_id", how="left"
    ).assign(verdict_is_stalking="", auditor_notes="")
    frame["is_flagged"] = frame["is_flagged"].map({True: "yes", False: "no"})
    frame["reported_date"] = frame["reported_date"].astype(str)
    frame = frame[list(REVIEW_HEADINGS)]
    reason = con.execute("select reason from reporting.rpt_screening_threshold").fetchone()[0]
    out_dir = owner_only_dir(folder / RESTRICTED_DIR)
    note = (
        f"{MARKING}: {force_name} stalking screening review {quarter}: say whether each crime is "
        "stalking and return the file to the assurance folder; the verdicts measure screening's "
        f"precision on this force (and set its threshold where calibration is on). {reason} Do "
        "not forward."
    )
    csv = write_private_csv(out_dir / "screening_review.csv", note, frame)
    book, sheet = _returnable_workbook("Screening review", note, list(frame.columns))
    sheet.append(list(REVIEW_HEADINGS.values()))
    for row in neutralise_formulas(frame).itertuples(index=False):
        sheet.append([None if value == "" else value for value in row])
    mark_sheet(sheet)
    sheet.print_title_rows = "1:3"
    sheet.freeze_panes = "C4"
    return [csv, write_private(out_dir / "screening_review.xlsx", book)]


# --------------------------------------------------------------------------- diagnostics
def write_resolution_diagnostics(
    con: duckdb.DuckDBPyConnection, quarter: str, folder: Path
) -> list[Path]:
    """restricted/resolution_diagnostics.html, for analysts who check how people were linked:
    the run's counts, the blocking rules and the time per phase (reporting.rpt_resolution_run),
    how sure the joins are (reporting.rpt_resolution_link_confidence) and the trained model's
    match weights (marts.resolution_model, a declared dbt source); nothing when the run has no
    model."""
    from pipelines.resolution.diagnostics import match_weight_chart, parameter_table

    row = con.execute(
        "select model_json, match_probability_threshold from marts.resolution_model"
    ).fetchone()
    if row is None:
        return []
    model, threshold = json.loads(row[0]), float(row[1])

    def part(view: str, empty: str = "") -> dict[str, Any]:
        """A table of rpt_resolution_run (counts of a restricted page: no column declares a
        disclosure rule, so the threshold given is not used)."""
        clause = "where part = ? order by row_order"
        return {**printed_table(con, "rpt_resolution_run", view, 0, clause, [view]), "empty": empty}

    confidence = printed_table(
        con, "rpt_resolution_link_confidence", "diagnostics", 0, "order by band_order"
    )
    params = parameter_table(model)
    chart = match_weight_chart(params)
    number = PrintedColumn("", "", "number")
    html = (
        environment()
        .get_template("resolution_diagnostics.html.j2")
        .render(
            marking=MARKING,
            quarter=quarter,
            threshold=threshold,
            prior=f"{model.get('probability_two_random_records_match', float('nan')):.3g}",
            counts=part("run"),
            confidence={**confidence, "empty": ""},
            blocking=part("blocking", "No rule recorded."),
            # plotly.js embedded with the chart: the page opens offline, like every other page
            chart=Markup(chart.to_html(full_html=False, include_plotlyjs=True))
            if chart is not None
            else "",
            parameter_columns=(
                PrintedColumn("", "Field", "text"),
                PrintedColumn("", "Level", "text"),
                replace(number, label="m probability", digits=6),
                replace(number, label="u probability", digits=6),
                replace(number, label="Match weight (log2 m/u)", digits=2),
                PrintedColumn("", "Term-frequency adjusted", "flag"),
            ),
            parameters=params.to_dict("split")["data"],
            timings=part("timings"),
        )
    )
    out_dir = owner_only_dir(Path(folder) / RESTRICTED_DIR)
    return [write_private(out_dir / "resolution_diagnostics.html", html)]
