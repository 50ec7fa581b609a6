"""Restricted one-page subject profiles for the top of the tasking list (OFFICIAL-SENSITIVE).

One HTML file per subject under OUT/YYYY-Qn/restricted/subject_profiles/ (plus an index),
written owner-only like the rest of the pack and never linked from the published profile.
Victims are pseudonymised within each page (Victim A, B, ... in order of first contact):
the meeting discusses the subject, and a victim's identity stays on the records system.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.report.profile import environment
from pipelines.report.restricted import (
    MARKING,
    SUBJECTS_DIR,
    fmt,
    owner_only_dir,
    write_private,
)


@dataclass
class Subject:
    """Everything one page shows; built by subject_profile(), rendered by the template."""

    header: dict
    timeline: list[dict] = field(default_factory=list)
    timeline_hidden: int = 0
    victims: list[dict] = field(default_factory=list)
    names_used: str = ""  # every name recorded under any source
    records: list[dict] = field(default_factory=list)  # per source
    n_records: int = 0
    evidence: list[dict] = field(default_factory=list)
    evidence_hidden: int = 0


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> list[dict]:
    """The rows of a query as dicts of Python values (dates as dates, missing as None)."""
    cursor = con.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def subject_profile(con: duckdb.DuckDBPyConnection, quarter: str, header: dict) -> Subject:
    """One subject's page; `header` is the subject's row of the tasking list. Victims carry
    their page label (Victim A, B, ...), never their key."""
    key = str(header["person_key"])
    timeline = _rows(
        con,
        "select * from reporting.rpt_subject_timeline where quarter = ? and person_key = ? "
        "and is_shown order by timeline_order",
        [quarter, key],
    )
    victims = _rows(
        con,
        "select * exclude (victim_key) from reporting.rpt_subject_victims "
        "where quarter = ? and person_key = ? order by contact_order",
        [quarter, key],
    )
    records = _rows(
        con,
        "select * from reporting.rpt_subject_sources where person_key = ? order by source_order",
        [key],
    )
    evidence = _rows(
        con,
        "select * from reporting.rpt_subject_match_evidence where person_key = ? and is_shown "
        "order by evidence_order",
        [key],
    )
    return Subject(
        header=header,
        timeline=timeline,
        timeline_hidden=timeline[0]["rows_not_shown"] if timeline else 0,
        victims=victims,
        names_used=records[0]["subject_names"] if records else "",
        records=records,
        n_records=records[0]["subject_records"] if records else 0,
        evidence=evidence,
        evidence_hidden=evidence[0]["rows_not_shown"] if evidence else 0,
    )


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
    """One owner-only page per subject of `top` (the head of the tasking list) and an index."""
    folder = restricted_dir / SUBJECTS_DIR
    owner_only_dir(folder)
    for stale in folder.glob("*.html"):  # a re-run replaces the quarter's pages
        stale.unlink()
    env = environment()
    env.filters["cell"] = fmt
    page = env.get_template("subject_profile.html.j2")
    written = []
    subjects = []
    for header in top.to_dict("records"):
        subject = subject_profile(con, quarter, header)
        path = folder / subject_file_name(header["rank"], str(header["person_key"]))
        write_private(
            path,
            page.render(
                marking=MARKING,
                quarter=quarter,
                force=force,
                generated=f"{generated:%d %B %Y}",
                s=subject,
                h=header,
            ),
        )
        written.append(path)
        subjects.append((path.name, header))
    if written:
        index = env.get_template("subject_index.html.j2")
        write_private(
            folder / "index.html",
            index.render(
                marking=MARKING,
                quarter=quarter,
                force=force,
                generated=f"{generated:%d %B %Y}",
                subjects=subjects,
            ),
        )
    return tuple(written)
