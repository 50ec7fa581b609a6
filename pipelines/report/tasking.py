"""The restricted tasking pack: the ranked high-harm perpetrator list for the tasking meeting.

OFFICIAL-SENSITIVE. Unlike the published profile it names people on purpose: best name and
date of birth of each resolved person, RFGV components, 12-month crimes and breaches, orders in
force with their expiry (all from reporting.rpt_tasking_list), flags and a plain-English
reason; plus one-page subject profiles for the top N (pipelines.report.subjects). Written only under
OUT/YYYY-Qn/restricted/ (folder 0700, files 0600 from creation), never linked from the
published profile, and never passed through the publish path.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.disclosure.formulas import neutralise_formulas
from pipelines.report.profile import environment
from pipelines.report.restricted import (
    MARKING,
    RESTRICTED_DIR,
    SUBJECTS_DIR,
    fmt,
    owner_only_dir,
    write_private,
)
from pipelines.report.subjects import write_subject_profiles

# The pack's columns and their headings, in the order the tasking meeting reads them.
HEADINGS = {
    "rank": "Rank",
    "person_key": "Person key",
    "best_name": "Name",
    "date_of_birth": "Date of birth",
    "rfgv_score": "RFGV score (0-100)",
    "recency_score": "R",
    "frequency_score": "F",
    "gravity_score": "G",
    "victims_score": "V",
    "victims_total": "Victims",
    "crimes_total": "Crimes (look-back)",
    "crimes_12m": "Crimes 12 m",
    "breaches_12m": "Breaches 12 m",
    "has_active_order": "Active order",
    "active_orders": "Active orders (expiry)",
    "last_offence_date": "Last offence reported",
    "risk_level": "Risk",
    "flags": "Flags",
    "why_on_list": "Why on this list",
}
PACK_COLUMNS = list(HEADINGS)
NUMERIC = {
    "rank",
    "rfgv_score",
    "recency_score",
    "frequency_score",
    "gravity_score",
    "victims_score",
    "victims_total",
    "crimes_total",
    "crimes_12m",
    "breaches_12m",
}


@dataclass(frozen=True)
class PackResult:
    csv: Path
    html: Path
    rows: int
    subject_profiles: tuple[Path, ...] = ()


def why_on_list(row: pd.Series) -> str:
    """Plain-English reasons, strongest first."""
    reasons = []
    victims = int(row.get("victims_total") or 0)
    crimes = int(row.get("crimes_total") or 0)
    if bool(row.get("is_serial")):
        reasons.append(f"serial: {victims} different victims")
    crimes_12m = row.get("crimes_12m")
    if crimes_12m is not None and pd.notna(crimes_12m):
        reasons.append(
            f"{int(crimes_12m)} stalking crime{'s' if int(crimes_12m) != 1 else ''} in 12 months "
            f"({crimes} in the look-back)"
        )
    elif crimes:
        reasons.append(f"{crimes} stalking-universe crime{'s' if crimes != 1 else ''}")
    breaches = int(row.get("breaches_12m") or 0)
    if breaches:
        reasons.append(f"{breaches} order breach{'es' if breaches != 1 else ''} in 12 months")
    if not bool(row.get("has_active_order")):
        reasons.append("no active protective order")
    risk = row.get("highest_recorded_risk_12m") or row.get("risk_level")
    if str(risk or "").lower() == "high":
        reasons.append("risk assessed as high")
    components = {
        "recent offending": row.get("recency_score"),
        "frequent offending": row.get("frequency_score"),
        "grave offending": row.get("gravity_score"),
        "several victims": row.get("victims_score"),
    }
    scored = {k: float(v) for k, v in components.items() if v is not None and pd.notna(v)}
    if scored:
        best = max(scored.values())
        top = [k for k, v in scored.items() if v == best]  # ties named together
        joined = " and ".join([", ".join(top[:-1]), top[-1]] if len(top) > 1 else top)
        reasons.append(f"score driven most by {joined}")
    text = "; ".join(reasons)
    return text[:1].upper() + text[1:] if text else "Above the high-harm threshold"


def flags(row: pd.Series) -> str:
    out = []
    if bool(row.get("is_serial")):
        out.append("serial")
    if bool(row.get("has_domestic_abuse")):
        out.append("DA")
    if bool(row.get("is_online")):
        out.append("online")
    return ", ".join(out)


def high_harm_list(con: duckdb.DuckDBPyConnection, quarter: str) -> pd.DataFrame:
    """The ranked tasking list with names, orders and flags (columns: PACK_COLUMNS), from
    reporting.rpt_tasking_list."""
    frame = con.execute(
        "select * exclude (quarter) from reporting.rpt_tasking_list "
        "where quarter = ? order by rank, rfgv_score desc",
        [quarter],
    ).df()
    if frame.empty:
        # A quarter with nobody over the high-harm cut-off still gets its (empty) pack.
        return pd.DataFrame({column: pd.Series(dtype=object) for column in PACK_COLUMNS})
    frame["flags"] = frame.apply(flags, axis=1)
    frame["why_on_list"] = frame.apply(why_on_list, axis=1)
    return frame[PACK_COLUMNS].reset_index(drop=True)


def write_tasking_pack(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    quarter_dir: Path,
    force: str = "",
    subject_profiles_top_n: int = 0,
    generated: dt.date | None = None,
    lookback_years: int = 3,
) -> PackResult:
    """Write the restricted pack: the list (CSV + HTML) and the top N subject profiles."""
    generated = generated or dt.date.today()
    frame = high_harm_list(con, quarter)
    folder = quarter_dir / RESTRICTED_DIR
    owner_only_dir(folder)
    csv_path = folder / "high_harm_perpetrators.csv"
    html_path = folder / "high_harm_perpetrators.html"
    lines = [f"# {MARKING}: tasking list {quarter}. Do not forward outside the tasking group."]
    body = neutralise_formulas(frame).to_csv(
        index=False, quoting=csv.QUOTE_MINIMAL, float_format="%.2f", date_format="%Y-%m-%d"
    )
    write_private(csv_path, "\n".join(lines) + "\n" + body)
    profiles = write_subject_profiles(
        con, quarter, frame.head(subject_profiles_top_n), folder, force, generated
    )
    write_private(
        html_path, render_pack_html(frame, quarter, force, generated, profiles, lookback_years)
    )
    return PackResult(csv=csv_path, html=html_path, rows=len(frame), subject_profiles=profiles)


def render_pack_html(
    frame: pd.DataFrame,
    quarter: str,
    force: str,
    generated: dt.date | None = None,
    profiles: tuple[Path, ...] = (),
    lookback_years: int = 3,
) -> str:
    columns = [c for c in frame.columns if c != "has_active_order"]
    headers = [(HEADINGS.get(c, c.replace("_", " ")), c in NUMERIC) for c in columns]
    by_key = {p.stem.split("_", 1)[-1]: p for p in profiles}
    rows = []
    shown = frame[columns].copy()
    shown["active_orders"] = shown["active_orders"].fillna("none")
    for record in shown.to_dict("records"):
        cells = [(fmt(record[c]), c in NUMERIC) for c in columns]
        profile = by_key.get(str(record["person_key"]))
        link = f"{SUBJECTS_DIR}/{profile.name}" if profile else None
        rows.append({"cells": cells, "link": link, "key_index": columns.index("person_key")})
    template = environment().get_template("tasking_pack.html.j2")
    return template.render(
        marking=MARKING,
        quarter=quarter,
        force=force,
        headers=headers,
        rows=rows,
        profiles=len(profiles),
        lookback_years=lookback_years,
        generated=f"{(generated or dt.date.today()):%d %B %Y}",
    )
