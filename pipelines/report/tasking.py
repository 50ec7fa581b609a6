"""The restricted tasking pack: the ranked high-harm perpetrator list a tasking chair runs the
meeting from, as CSV, HTML and XLSX, and one printable page per subject at the top of the list
(pipelines.report.subjects). OFFICIAL-SENSITIVE: unlike the published profile it names people on
purpose. Every figure and sentence is a row of reporting.rpt_tasking_* (PACK_ROWS); this module
picks the quarter's rows and prints the views their YAML declares. Written only under
OUT/YYYY-Qn/restricted/ (folder 0700, files 0600 from creation), never linked from the
published profile.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
from openpyxl import Workbook

from pipelines.disclosure.formulas import neutralise_formulas
from pipelines.report.printed import PrintedColumn, printed_columns, printed_frame
from pipelines.report.profile import environment
from pipelines.report.restricted import (
    MARKING,
    RESTRICTED_DIR,
    SUBJECTS_DIR,
    fmt,
    mark_sheet,
    owner_only_dir,
    write_private,
)
from pipelines.report.sheets import from_printed, write_table
from pipelines.report.subjects import write_subject_profiles

# Each table the pack prints: its model and printed view, whose columns, labels and kinds
# live in the model's YAML (read when first printed, not on import).
TABLES = {
    "list": ("rpt_tasking_list", "tasking_list"),
    "page": ("rpt_tasking_list", "tasking_page"),
    "dropped": ("rpt_tasking_dropped_off", "dropped_off"),
    "backtest": ("rpt_tasking_backtest_summary", "pack"),
}


def columns_of(table: str) -> tuple[PrintedColumn, ...]:
    return printed_columns(*TABLES[table])


@dataclass(frozen=True)
class PackResult:
    csv: Path
    html: Path
    xlsx: Path
    rows: int
    above_cutoff: int
    seconds: float
    subject_profiles: tuple[Path, ...] = ()


@dataclass(frozen=True)
class PackData:
    """The quarter's rows of every reporting model the pack prints."""

    listed: pd.DataFrame
    dropped: pd.DataFrame
    summary: dict
    backtest: pd.DataFrame


# The quarter's rows of each model the pack prints: the model, the rows kept and their order.
PACK_ROWS = {
    "listed": ("rpt_tasking_list", "is_on_tasking_list", "rank"),
    "dropped": ("rpt_tasking_dropped_off", "true", "previous_rank"),
    "summary": ("rpt_tasking_summary", "true", "quarter"),
    # the latest ranking checked, then the mean over every ranking checked
    "backtest": (
        "rpt_tasking_backtest_summary",
        "true",
        "is_mean, horizon_quarters, list_length, method",
    ),
}


def pack_data(con: duckdb.DuckDBPyConnection, quarter: str) -> PackData:
    """Every column of the rows (each output prints its own view of them)."""
    frames = {
        name: con.execute(
            f"select * from reporting.{model} where quarter = ? and {where} order by {order}",
            [quarter],
        ).df()
        for name, (model, where, order) in PACK_ROWS.items()
    }
    summary = frames.pop("summary")
    return PackData(**frames, summary=summary.iloc[0].to_dict() if len(summary) else {})


HEADLINES = ("headline_counts", "headline_movement", "headline_identity")


def headline(data: PackData) -> list[str]:
    """The sentences above the list: counts, movement, identity changes, or that nothing was
    scored (reporting.rpt_tasking_summary)."""
    return [data.summary[name] for name in HEADLINES if data.summary.get(name)]


def write_tasking_pack(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    quarter_dir: Path,
    force: str = "",
    subject_profiles_top_n: int = 0,
    generated: dt.date | None = None,
    lookback_years: int = 3,
) -> PackResult:
    """Write the restricted pack: the list as CSV, HTML and XLSX, and one page for each of the
    top `subject_profiles_top_n` subjects (tasking.subject_profiles_top_n). The list length, the
    movement and flag rules live in the reporting models (settings reach them as dbt vars)."""
    started = time.perf_counter()
    generated = generated or dt.date.today()
    data = pack_data(con, quarter)
    frame = printed_frame(data.listed, columns_of("list"))
    folder = quarter_dir / RESTRICTED_DIR
    owner_only_dir(folder)
    csv_path = folder / "high_harm_perpetrators.csv"
    html_path = folder / "high_harm_perpetrators.html"
    xlsx_path = folder / "high_harm_perpetrators.xlsx"
    note = f"# {MARKING}: tasking list {quarter}. Do not forward outside the tasking group.\n"
    body = neutralise_formulas(frame).to_csv(
        index=False, quoting=csv.QUOTE_MINIMAL, float_format="%.2f", date_format="%Y-%m-%d"
    )
    write_private(csv_path, note + body)
    profiles = write_subject_profiles(
        con, quarter, data.listed.head(subject_profiles_top_n), folder, force, generated
    )
    write_private(
        html_path,
        render_pack_html(data, quarter, force, generated, profiles, lookback_years),
    )
    write_private(xlsx_path, render_pack_xlsx(data, quarter, force, generated))
    return PackResult(
        csv=csv_path,
        html=html_path,
        xlsx=xlsx_path,
        rows=len(frame),
        above_cutoff=int(data.summary.get("subjects_above_cutoff", 0) or 0),
        seconds=time.perf_counter() - started,
        subject_profiles=profiles,
    )


def render_pack_xlsx(data: PackData, quarter: str, force: str, generated: dt.date) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = f"{MARKING} tasking list {quarter}"
    workbook.properties.keywords = MARKING
    workbook.properties.creator = force or "Stalking Problem Profile"
    for title, frame, columns in (
        ("Tasking list", data.listed, columns_of("list")),
        ("Dropped off", data.dropped, columns_of("dropped")),
        ("Ranking back-test", data.backtest, columns_of("backtest")),
    ):
        sheet = workbook.create_sheet(title)
        write_table(sheet, printed_frame(frame, columns), from_printed(columns))
        mark_sheet(sheet)
    about = workbook.create_sheet("About")
    for line in [
        MARKING,
        f"{force}: tasking list {quarter}, produced {generated:%d %B %Y}.",
        *headline(data),
        "Names and dates of birth are the best values of each resolved person: confirm "
        "identity on the records system before any action.",
    ]:
        about.append([line])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render_pack_html(
    data: PackData,
    quarter: str,
    force: str,
    generated: dt.date,
    profiles: tuple[Path, ...] = (),
    lookback_years: int = 3,
) -> str:
    by_key = {p.stem.split("_", 1)[-1]: f"{SUBJECTS_DIR}/{p.name}" for p in profiles}
    # each table: its printed columns and its rows as text; a listed subject's page link
    shown = {"page": data.listed, "dropped": data.dropped, "backtest": data.backtest}
    template = environment().get_template("tasking_pack.html.j2")
    return template.render(
        marking=MARKING,
        quarter=quarter,
        force=force,
        profiles=len(profiles),
        lookback_years=lookback_years,
        generated=f"{generated:%d %B %Y}",
        headline=headline(data),
        tables={
            name: (columns_of(name), _text_rows(frame, columns_of(name)))
            for name, frame in shown.items()
        },
        links=[by_key.get(str(key)) for key in data.listed["person_key"]],
        data_cannot_tell=data.dropped["data_cannot_tell"].iloc[0] if len(data.dropped) else "",
    )


def _text_rows(frame: pd.DataFrame, columns: tuple[PrintedColumn, ...]) -> list[list[str]]:
    records = printed_frame(frame, columns).to_dict("records")
    return [[fmt(value) for value in record.values()] for record in records]
