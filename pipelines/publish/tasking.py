"""The restricted tasking pack (OFFICIAL-SENSITIVE: it names people on purpose): the ranked
high-harm perpetrator list as CSV, HTML and XLSX, and a printable page per top subject with an
index. Every figure and sentence is a row of reporting.rpt_tasking_* and rpt_subject_*; this
module picks the quarter's rows and prints the views their YAML declares. Written only under
OUT/YYYY-Qn/restricted/ (owner-only), never linked from the profile; a subject's victims are
pseudonymised (Victim A, B, ...): their identity stays on the records system.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
from openpyxl import Workbook

from pipelines.publish.restricted import MARKING, SUBJECTS_DIR, mark_sheet, write_private_csv
from pipelines.publish.sheets import from_printed, write_table
from pipelines.report.printed import (
    PrintedColumn,
    environment,
    model_frames,
    printed_columns,
    printed_frame,
    read_by,
)
from pipelines.run_safety import RESTRICTED_DIR, owner_only_dir, write_private

# The quarter's rows of each model the pack prints: those whose YAML declares `read_by` it.
PACK = "tasking_pack"
# Each table the pack prints: its rows, their model's printed view (whose columns, labels and
# kinds live in the model's YAML, read when first printed, not on import) and its sheet.
TABLES = {
    "list": ("listed", "tasking_list", "Tasking list"),
    "page": ("listed", "tasking_page", None),  # the HTML page's view of the list
    "dropped": ("dropped", "dropped_off", "Dropped off"),
    "backtest": ("backtest", "pack", "Ranking back-test"),
}
HEADLINES = (
    "headline_counts",
    "headline_beyond_list",
    "headline_movement",
    "headline_identity",
    "headline_backtest",
)


def printed(
    data: dict[str, pd.DataFrame],
) -> dict[str, tuple[tuple[PrintedColumn, ...], pd.DataFrame]]:
    """Each table's printed columns and its rows as its view prints them."""
    tables = {}
    for table, (rows, view, _) in TABLES.items():
        columns = printed_columns(read_by(PACK)[rows]["model"], view)
        tables[table] = (columns, printed_frame(data[rows], columns))
    return tables


@dataclass(frozen=True)
class PackResult:
    csv: Path
    html: Path
    xlsx: Path
    rows: int
    above_cutoff: int
    seconds: float
    subject_profiles: tuple[Path, ...] = ()


def headline(data: dict[str, pd.DataFrame]) -> list[str]:
    """The sentences above the list: counts, movement, identity changes, or that nothing was
    scored (reporting.rpt_tasking_summary)."""
    summary = data["summary"].head(1).to_dict("records")
    return [line for name in HEADLINES for row in summary if (line := row[name])]


def write_tasking_pack(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    quarter_dir: Path,
    force: str,
    *,
    subject_profiles_top_n: int,
    lookback_years: int,
    generated: dt.date | None = None,
) -> PackResult:
    """Write the restricted pack: the list as CSV, HTML and XLSX, and one page for each of the
    top `subject_profiles_top_n` subjects (tasking.subject_profiles_top_n; `lookback_years`:
    perpetrators.serial_lookback_years, which the page states). The list length, the movement
    and flag rules live in the reporting models (settings reach them as dbt vars)."""
    started = time.perf_counter()
    generated = generated or dt.date.today()
    data = model_frames(con, PACK, [quarter])  # each output prints its own view of them
    folder = owner_only_dir(quarter_dir / RESTRICTED_DIR)
    csv_path = write_private_csv(
        folder / "high_harm_perpetrators.csv",
        f"{MARKING}: tasking list {quarter}. Do not forward outside the tasking group.",
        printed(data)["list"][1],
        float_format="%.2f",
        date_format="%Y-%m-%d",
    )
    top = data["listed"].head(subject_profiles_top_n)
    profiles = write_subject_profiles(con, quarter, top, folder, force, generated)
    html = render_pack_html(
        data, quarter, force, generated, profiles=profiles, lookback_years=lookback_years
    )
    return PackResult(
        csv=csv_path,
        html=write_private(folder / "high_harm_perpetrators.html", html),
        xlsx=write_private(
            folder / "high_harm_perpetrators.xlsx",
            render_pack_xlsx(data, quarter, force, generated),
        ),
        rows=len(data["listed"]),
        above_cutoff=int(data["summary"]["subjects_above_cutoff"].sum()),  # one row or none
        seconds=time.perf_counter() - started,
        subject_profiles=profiles,
    )


def render_pack_xlsx(
    data: dict[str, pd.DataFrame], quarter: str, force: str, generated: dt.date
) -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = f"{MARKING} tasking list {quarter}"
    workbook.properties.keywords = MARKING
    workbook.properties.creator = force or "Stalking Problem Profile"
    for table, (columns, frame) in printed(data).items():
        if title := TABLES[table][2]:
            sheet = workbook.create_sheet(title)
            write_table(sheet, frame, from_printed(columns))
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
    return workbook


def render_pack_html(
    data: dict[str, pd.DataFrame],
    quarter: str,
    force: str,
    generated: dt.date,
    *,
    lookback_years: int,
    profiles: tuple[Path, ...] = (),
) -> str:
    by_key = {p.stem.split("_", 1)[-1]: f"{SUBJECTS_DIR}/{p.name}" for p in profiles}
    dropped = data["dropped"]
    # each table: its printed columns and its rows (the template prints each cell by cell_text)
    tables = {
        name: (c, frame.to_dict("split")["data"]) for name, (c, frame) in printed(data).items()
    }
    return (
        environment()
        .get_template("tasking_pack.html.j2")
        .render(
            marking=MARKING,
            quarter=quarter,
            force=force,
            profiles=len(profiles),
            lookback_years=lookback_years,
            generated=f"{generated:%d %B %Y}",
            headline=headline(data),
            tables=tables,
            links=[by_key.get(str(key)) for key in data["listed"]["person_key"]],
            data_cannot_tell=dropped["data_cannot_tell"].iloc[0] if len(dropped) else "",
        )
    )


# --------------------------------------------------------------------------- subject pages
def subject_pages(
    con: duckdb.DuckDBPyConnection, quarter: str, keys: list[str]
) -> dict[str, dict[str, list[dict]]]:
    """Each subject's rows of every page part (Python values: dates as dates, missing as
    None), by person key: one query per model for every subject on the list. The parts are
    the models declaring `read_by: subject_page`: the rows each shows (`where`; `is_shown`: the
    models cut long timelines and evidence), their order and the columns never read
    (`exclude`: a victim's key)."""
    parts = read_by("subject_page")
    pages: dict[str, dict[str, list[dict]]] = {key: {part: [] for part in parts} for key in keys}
    for part, spec in parts.items():
        where = spec.get("where", "true")
        params = {"keys": keys} | ({"quarter": quarter} if "$quarter" in where else {})
        columns = f"* exclude ({spec['exclude']})" if "exclude" in spec else "*"
        rows = con.sql(
            f"select {columns} from reporting.{spec['model']} "
            f"where person_key in (select unnest($keys)) and {where} order by {spec['order']}",
            params=params,
        )
        for record in rows.to_arrow_table().to_pylist():
            pages[record["person_key"]][part].append(record)
    return pages


def subject_file_name(rank: int, person_key: str) -> str:
    return f"{int(rank):02d}_{person_key}.html"


def write_subject_profiles(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    top: pd.DataFrame,
    restricted_dir: Path,
    force: str,
    generated: dt.date,
) -> tuple[Path, ...]:
    """One owner-only page per subject of `top` (the head of the tasking list, whose row heads
    the page) under restricted/subject_profiles/, and an index."""
    folder = owner_only_dir(restricted_dir / SUBJECTS_DIR)
    for stale in folder.glob("*.html"):  # a re-run replaces the quarter's pages
        stale.unlink()
    headers = {str(header["person_key"]): header for header in top.to_dict("records")}
    pages = subject_pages(con, quarter, list(headers))
    shared = {"marking": MARKING, "quarter": quarter, "force": force}
    shared["generated"] = f"{generated:%d %B %Y}"
    # the list's row heads the page: its figures printed as the list prints them (declared digits)
    columns = {
        column.name: column
        for column in printed_columns(read_by(PACK)["listed"]["model"], "tasking_page")
    }
    page = environment().get_template("subject_profile.html.j2")
    listed = [(subject_file_name(h["rank"], key), h) for key, h in headers.items()]
    for (name, header), key in zip(listed, headers, strict=True):
        write_private(folder / name, page.render(**shared, s=pages[key], h=header, columns=columns))
    if listed:
        index = environment().get_template("subject_index.html.j2")
        write_private(folder / "index.html", index.render(**shared, subjects=listed))
    return tuple(folder / name for name, _ in listed)
