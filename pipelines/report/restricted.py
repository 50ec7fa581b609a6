"""What every restricted (OFFICIAL-SENSITIVE) output shares: its marking, its CSV note and its
sheets' page setup (written owner-only from creation: pipelines.run_safety); and the restricted
outputs besides the tasking pack (pipelines.report.tasking): the assurance dip sample for the
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
from pipelines.report.printed import (
    PrintedColumn,
    WrittenColumn,
    environment,
    printed_columns,
    printed_frame,
)
from pipelines.report.sheets import from_printed, write_table
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
    book = Workbook()
    sheet = book.active
    sheet.title = "Dip sample"
    sheet.append([note])
    sheet["A1"].font = Font(bold=True, color="9C0006")
    sheet.append(list(frame.columns))  # the names a return is read back by
    verdicts = [
        WrittenColumn(label, value=name, editable=True) for name, label in VERDICT_COLUMNS.items()
    ]
    written = (*from_printed(columns), *verdicts)
    write_table(sheet, frame, written, header_row=3, frozen_columns=2)
    sheet.oddHeader.center.text = MARKING
    sheet.oddFooter.center.text = MARKING
    return [csv, write_private(out_dir / "dip_sample.xlsx", book)]


# --------------------------------------------------------------------------- diagnostics
# what the run's counts are called on the page (stats of pipelines.resolution.resolve_mentions)
RUN_COUNTS = (
    ("mentions", "Person mentions (records) read"),
    ("nodes", "Distinct nodes (a nominal id with one set of details is one node)"),
    ("comparisons_scored", "Pairs compared and scored by Splink"),
    ("clustering.edges_scored_above_threshold", "Pairs at or above the match threshold"),
    ("clustering.nominal_edges", "Joins by shared nominal id"),
    ("clustering.second_ids_joined", "Bare second ids joined by rule"),
    ("clustering.edges_dropped_same_incident", "Joins refused: two sides of one incident"),
    (
        "clustering.edges_rejected_by_constraints",
        "Joins refused by a constraint when re-clustering",
    ),
    ("clustering.components_reclustered", "Groups re-clustered under the constraints"),
    ("persons", "Resolved people"),
    ("multi_record_persons", "People of two or more records"),
    ("training.em_sessions", "Training sessions (expectation maximisation)"),
)


# resolve_mentions' phases in the order they run, the total last
PHASES = ("prepare_s", "select_blocking_s", "train_s", "block_s", "score_s", "cluster_s")
PHASES += ("outputs_s", "total_s")


def _stat(stats: dict[str, Any], dotted: str) -> Any:
    value: Any = stats
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def write_resolution_diagnostics(
    con: duckdb.DuckDBPyConnection, quarter: str, folder: Path
) -> list[Path]:
    """restricted/resolution_diagnostics.html, for analysts who check how people were linked:
    the run's counts, how sure the joins are (reporting.rpt_resolution_link_confidence), the
    blocking rules, the trained model's match weights (marts.resolution_model, a declared dbt
    source) and the time per phase; nothing when the run has no model."""
    from pipelines.resolution.diagnostics import match_weight_chart, parameter_table

    row = con.execute(
        "select model_json, stats_json, match_probability_threshold from marts.resolution_model"
    ).fetchone()
    if row is None:
        return []
    model, stats, threshold = json.loads(row[0]), json.loads(row[1]), float(row[2])
    count, text, number = (
        PrintedColumn("", label, kind)
        for label, kind in (("Count", "count"), ("", "text"), ("Value", "number"))
    )
    confidence_columns = printed_columns("rpt_resolution_link_confidence", "diagnostics")
    confidence = con.execute(
        "select * from reporting.rpt_resolution_link_confidence order by band_order"
    ).df()
    params = parameter_table(model)
    chart = match_weight_chart(params)
    html = (
        environment()
        .get_template("resolution_diagnostics.html.j2")
        .render(
            marking=MARKING,
            quarter=quarter,
            threshold=threshold,
            prior=f"{model.get('probability_two_random_records_match', float('nan')):.3g}",
            count_columns=(replace(text, label="Measure"), count),
            counts=[(label, _stat(stats, key)) for key, label in RUN_COUNTS],
            confidence={
                "columns": confidence_columns,
                "rows": printed_frame(confidence, confidence_columns).to_dict("split")["data"],
                "total": False,
                "empty": "",
            },
            blocking_columns=(
                replace(text, label="Rule (fields that must agree)"),
                replace(count, label="Pairs compared"),
            ),
            blocking=[(r.get("rule"), r.get("pairs")) for r in stats.get("blocking_rules") or []],
            # plotly.js embedded with the chart: the page opens offline, like every other page
            chart=Markup(chart.to_html(full_html=False, include_plotlyjs=True))
            if chart is not None
            else "",
            parameter_columns=(
                replace(text, label="Field"),
                replace(text, label="Level"),
                replace(number, label="m probability", digits=6),
                replace(number, label="u probability", digits=6),
                replace(number, label="Match weight (log2 m/u)", digits=2),
                PrintedColumn("", "Term-frequency adjusted", "flag"),
            ),
            parameters=params.to_dict("split")["data"],
            timing_columns=(
                replace(text, label="Phase"),
                replace(number, label="Seconds", digits=1),
            ),
            timings=[
                (phase.removesuffix("_s").replace("_", " "), seconds)
                for phase, seconds in sorted(
                    (stats.get("timings") or {}).items(),
                    key=lambda item: PHASES.index(item[0]) if item[0] in PHASES else len(PHASES),
                )
            ],
        )
    )
    out_dir = owner_only_dir(Path(folder) / RESTRICTED_DIR)
    return [write_private(out_dir / "resolution_diagnostics.html", html)]
