"""Restricted one-page subject profiles for the top of the tasking list (OFFICIAL-SENSITIVE).

One HTML file per subject under OUT/YYYY-Qn/restricted/subject_profiles/ (plus an index),
written owner-only like the rest of the pack and never linked from the published profile.
Victims are pseudonymised within each page (Victim A, B, ... in order of first contact):
the meeting discusses the subject, and a victim's identity stays on the records system.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.report.profile import environment
from pipelines.report.restricted import MARKING, SUBJECTS_DIR, fmt, owner_only_dir, write_private

# Each part of a subject's page: its model, the columns it reads (a victim's key never), the
# rows it shows (`is_shown`: the models cut long timelines and evidence) and their order.
PAGE_PARTS = {
    "timeline": ("rpt_subject_timeline", "*", "quarter = $quarter and is_shown", "timeline_order"),
    "victims": (
        "rpt_subject_victims",
        "* exclude (victim_key)",
        "quarter = $quarter",
        "contact_order",
    ),
    "records": ("rpt_subject_sources", "*", "true", "source_order"),
    "evidence": ("rpt_subject_match_evidence", "*", "is_shown", "evidence_order"),
}


def subject_pages(
    con: duckdb.DuckDBPyConnection, quarter: str, keys: list[str]
) -> dict[str, dict[str, list[dict]]]:
    """Each subject's rows of every page part (Python values: dates as dates, missing as
    None), by person key: one query per model for every subject on the list."""
    pages: dict[str, dict[str, list[dict]]] = {
        key: {part: [] for part in PAGE_PARTS} for key in keys
    }
    for part, (model, columns, where, order) in PAGE_PARTS.items():
        params = {"keys": keys} | ({"quarter": quarter} if "$quarter" in where else {})
        cursor = con.execute(
            f"select {columns} from reporting.{model} "
            f"where person_key in (select unnest($keys)) and {where} order by {order}",
            params,
        )
        names = [column[0] for column in cursor.description]
        for row in cursor.fetchall():
            record = dict(zip(names, row, strict=True))
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
    the page) and an index."""
    folder = restricted_dir / SUBJECTS_DIR
    owner_only_dir(folder)
    for stale in folder.glob("*.html"):  # a re-run replaces the quarter's pages
        stale.unlink()
    env = environment()
    env.filters["cell"] = fmt
    page = env.get_template("subject_profile.html.j2")
    headers = top.to_dict("records")
    pages = subject_pages(con, quarter, [str(header["person_key"]) for header in headers])
    shared = {"marking": MARKING, "quarter": quarter, "force": force}
    shared["generated"] = f"{generated:%d %B %Y}"
    subjects = []
    for header in headers:
        path = folder / subject_file_name(header["rank"], str(header["person_key"]))
        write_private(path, page.render(**shared, s=pages[str(header["person_key"])], h=header))
        subjects.append((path, header))
    if subjects:
        index = env.get_template("subject_index.html.j2")
        listed = [(path.name, header) for path, header in subjects]
        write_private(folder / "index.html", index.render(**shared, subjects=listed))
    return tuple(path for path, _ in subjects)
