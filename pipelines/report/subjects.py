"""Restricted one-page subject profiles for the top of the tasking list (OFFICIAL-SENSITIVE).

One HTML file per subject under OUT/YYYY-Qn/restricted/subject_profiles/ (plus an index),
written owner-only like the rest of the pack and never linked from the published profile.
Victims are pseudonymised within each page (Victim A, B, ... in order of first contact):
the meeting discusses the subject, and a victim's identity stays on the records system.
"""

from __future__ import annotations

import datetime as dt
import string
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

# Rows shown per subject, so that a page prints on about one A4 sheet.
MAX_EVIDENCE_ROWS = 4
MAX_TIMELINE_ROWS = 10
WEIGHT_LABELS = {
    "mw_forename": "forename",
    "mw_surname": "surname",
    "mw_dob": "date of birth",
    "mw_postcode": "postcode",
    "mw_sex": "sex",
    "mw_counterpart": "same other party",
    "mw_crime_role": "role",
    "mw_active": "active in same period",
}


@dataclass
class Subject:
    """Everything one page shows; built by subject_profile(), rendered by the template."""

    header: dict
    timeline: list[dict] = field(default_factory=list)
    timeline_hidden: int = 0
    victims: list[dict] = field(default_factory=list)
    names_used: list[str] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)  # per source
    n_records: int = 0
    evidence: list[dict] = field(default_factory=list)
    evidence_hidden: int = 0


def victim_label(index: int) -> str:
    """A, B, ... Z, AA, AB, ... (spreadsheet-style) for the index-th victim."""
    letters = string.ascii_uppercase
    label = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        label = letters[rest] + label
    return f"Victim {label}"


def _date(value) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


def _events(con: duckdb.DuckDBPyConnection, quarter: str, key: str) -> pd.DataFrame:
    """Crimes, intelligence, orders and breaches of one subject up to the quarter's end:
    one row per event with its date, kind, reference, detail and the victim's person_key."""
    events = con.execute(
        "select event_date, kind, reference, detail, victim_key "
        "from reporting.rpt_subject_events where quarter = ? and person_key = ? "
        "order by event_date nulls first, kind, reference, detail, victim_key",
        [quarter, key],
    ).df()
    events["event_date"] = [_date(v) for v in events["event_date"]]
    return events


def _pseudonymise(
    con: duckdb.DuckDBPyConnection, quarter: str, key: str, events: pd.DataFrame
) -> tuple[pd.DataFrame, list[dict]]:
    """Replace victim keys with Victim A, B, ... in order of first contact
    (reporting.rpt_subject_victims, which also counts each victim's events)."""
    victims = con.execute(
        "select * from reporting.rpt_subject_victims where quarter = ? and person_key = ? "
        "order by contact_order",
        [quarter, key],
    ).df()
    labels = {k: victim_label(i) for i, k in enumerate(victims["victim_key"])}
    events = events.assign(victim=events["victim_key"].map(labels).fillna(""))
    # the page carries the label, never the victim's key
    summary = victims.assign(label=victims["victim_key"].map(labels)).drop(columns=["victim_key"])
    return events.drop(columns=["victim_key"]), summary.to_dict("records")


def _timeline(events: pd.DataFrame) -> tuple[list[dict], int]:
    """Newest first (what the meeting needs first); a crime with two victims is one row."""
    grouped = (
        events.groupby(["event_date", "kind", "reference", "detail"], dropna=False, sort=False)
        .agg(victim=("victim", lambda v: ", ".join(sorted({x for x in v if x}))))
        .reset_index()
    )
    grouped = grouped.iloc[::-1]
    rows = grouped.to_dict("records")
    return rows[:MAX_TIMELINE_ROWS], max(0, len(rows) - MAX_TIMELINE_ROWS)


def _linked_records(con: duckdb.DuckDBPyConnection, key: str) -> tuple[list[dict], list[str]]:
    """The subject's own records joined by resolution, one row per source (the columns of
    reporting.rpt_subject_sources), and the names they were recorded under."""
    sources = con.execute(
        "select * from reporting.rpt_subject_sources where person_key = ? order by source_order",
        [key],
    ).df()
    names = con.execute(
        "select distinct recorded_name from reporting.rpt_subject_records "
        "where person_key = ? and recorded_name is not null order by recorded_name",
        [key],
    ).fetchall()
    rows = sources.to_dict("records")
    return rows, [name for (name,) in names]


def _evidence(con: duckdb.DuckDBPyConnection, key: str) -> tuple[list[dict], int]:
    """How the records were joined, weakest links first (the joins worth checking), with the
    three fields that weighed most for each and any field that weighed against."""
    frame = con.execute(
        "select * from reporting.rpt_subject_match_evidence where person_key = ? "
        "order by match_weight asc nulls last, mention_id_l, mention_id_r",
        [key],
    ).df()
    weight_columns = [c for c in frame.columns if c.startswith("mw_")]
    rows = []
    for r in frame.head(MAX_EVIDENCE_ROWS).to_dict("records"):
        weights = {c: r[c] for c in weight_columns if r[c] is not None and pd.notna(r[c])}
        top = sorted(weights.items(), key=lambda kv: -kv[1])[:3]
        against = [WEIGHT_LABELS.get(c, c[3:]) for c, w in weights.items() if w < -1]
        rows.append(
            {
                "left": str(r["mention_id_l"]).split(":", 1)[-1],
                "right": str(r["mention_id_r"]).split(":", 1)[-1],
                "joined_by": "same nominal id" if r["joined_by"] == "nominal_id" else "Splink",
                "probability": r.get("match_probability"),
                "weight": r.get("match_weight"),
                "for": ", ".join(f"{WEIGHT_LABELS.get(c, c[3:])} {w:+.1f}" for c, w in top),
                "against": ", ".join(against),
            }
        )
    return rows, max(0, len(frame) - MAX_EVIDENCE_ROWS)


def subject_profile(con: duckdb.DuckDBPyConnection, quarter: str, header: dict) -> Subject:
    """One subject's page; `header` is the subject's row of the tasking list."""
    key = str(header["person_key"])
    events, victims = _pseudonymise(con, quarter, key, _events(con, quarter, key))
    timeline, hidden = _timeline(events)
    records, names = _linked_records(con, key)
    evidence, evidence_hidden = _evidence(con, key)
    return Subject(
        header=header,
        timeline=timeline,
        timeline_hidden=hidden,
        victims=victims,
        names_used=names,
        records=records,
        n_records=sum(r["records"] for r in records),
        evidence=evidence,
        evidence_hidden=evidence_hidden,
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
