"""The restricted tasking pack: the ranked high-harm perpetrator list for the tasking meeting.

OFFICIAL-SENSITIVE. Unlike the published profile it names people on purpose: best name and
date of birth of each resolved person (marts.dim_persons), RFGV components, 12-month crimes and
breaches, orders in force with their expiry, flags and a plain-English reason; plus one-page
subject profiles for the top N (pipelines.report.subjects). Written only under
OUT/YYYY-Qn/restricted/ (folder 0700, files 0600 from creation), never linked from the
published profile, and never passed through the publish path.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipelines.disclosure.formulas import neutralise_formulas
from pipelines.quarters import quarter_end
from pipelines.report.profile import environment
from pipelines.report.warehouse import Warehouse
from pipelines.settings import load_settings

MARKING = "OFFICIAL-SENSITIVE"
RESTRICTED_DIR = "restricted"
SUBJECTS_DIR = "subject_profiles"
BASE_COLUMNS = [
    "rank",
    "person_key",
    "rfgv_score",
    "recency_score",
    "frequency_score",
    "gravity_score",
    "victims_score",
    "crimes_total",
    "victims_total",
    "breaches_12m",
    "has_active_order",
    "is_repeat",
    "is_serial",
]
# Used when the perpetrators mart carries them (it may grow; the spec's columns are a minimum).
OPTIONAL_COLUMNS = [
    "crimes_12m",
    "harm_total",
    "last_reported_date",
    "days_since_last_crime",
    "risk_level",
    "highest_recorded_risk_12m",
    "has_domestic_abuse",
    "is_online",
    "active_order_types",
    "active_order_expiry",
]


# The pack's columns and their headings, in the order the tasking meeting reads them (issue 8).
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


def _names(wh: Warehouse, keys: list[str]) -> pd.DataFrame:
    """Best name and date of birth per resolved person (marts.dim_persons, resolution step)."""
    if not wh.has("marts.dim_persons") or not keys:
        return pd.DataFrame({"person_key": keys, "best_name": None, "date_of_birth": None})
    return wh.df(
        "select person_key, nullif(trim(concat_ws(' ', forename, upper(surname))), '') "
        "as best_name, date_of_birth from marts.dim_persons where list_contains(?, person_key)",
        [keys],
    )


def _active_orders(wh: Warehouse, keys: list[str], as_of: dt.date) -> pd.DataFrame:
    """Orders in force on the quarter's last day, per subject: "SPO to 03 Mar 2027; ..."."""
    empty = pd.DataFrame({"person_key": keys, "active_orders": None})
    if not wh.has("intermediate.int_orders_resolved") or not keys:
        return empty
    orders = wh.df(
        "select subject_person_key as person_key, order_type, expiry_date "
        "from intermediate.int_orders_resolved "
        "where list_contains(?, subject_person_key) and was_in_force "
        "and granted_date <= ? and coalesce(expiry_date, date '9999-12-31') >= ? "
        "order by person_key, expiry_date nulls last, order_type",
        [keys, as_of, as_of],
    )
    if orders.empty:
        return empty
    orders["text"] = [
        f"{t} to {e:%d %b %Y}" if e is not None and pd.notna(e) else f"{t} (no expiry)"
        for t, e in zip(orders["order_type"], orders["expiry_date"], strict=True)
    ]
    return orders.groupby("person_key", as_index=False).agg(active_orders=("text", "; ".join))


def _online(wh: Warehouse, keys: list[str], since: dt.date, as_of: dt.date) -> pd.DataFrame:
    """Any online stalking-universe crime in the look-back (the perpetrators mart has no flag)."""
    if not wh.has("intermediate.int_perpetrations") or not keys:
        return pd.DataFrame({"person_key": keys, "is_online": None})
    return wh.df(
        "select person_key, bool_or(coalesce(is_online, false)) as is_online "
        "from intermediate.int_perpetrations where list_contains(?, person_key) "
        "and reported_date > ? and reported_date <= ? group by person_key",
        [keys, since, as_of],
    )


def high_harm_list(con: duckdb.DuckDBPyConnection, quarter: str) -> pd.DataFrame:
    """The ranked tasking list with names, orders and flags (columns: PACK_COLUMNS)."""
    wh = Warehouse(con)
    if not wh.has("marts.perpetrators"):
        raise RuntimeError("marts.perpetrators is not available: cannot build the tasking pack")
    present = wh.columns("marts.perpetrators")
    columns = [c for c in BASE_COLUMNS + OPTIONAL_COLUMNS if c in present]
    frame = wh.df(
        f"select {', '.join(columns)} from marts.perpetrators "
        "where quarter = ? and is_high_harm order by rank, rfgv_score desc",
        [quarter],
    )
    if frame.empty:
        # A quarter with nobody over the high-harm cut-off still gets its (empty) pack.
        return pd.DataFrame({column: pd.Series(dtype=object) for column in PACK_COLUMNS})
    keys = [str(k) for k in frame["person_key"]]
    as_of = quarter_end(quarter)
    lookback_years = load_settings().perpetrators.serial_lookback_years
    since = as_of.replace(year=as_of.year - lookback_years)
    for extra in (_names(wh, keys), _active_orders(wh, keys, as_of)):
        frame = frame.merge(extra, on="person_key", how="left")
    if "is_online" not in frame:
        frame = frame.merge(_online(wh, keys, since, as_of), on="person_key", how="left")
    if "last_reported_date" in frame:
        frame["last_offence_date"] = frame["last_reported_date"]
    frame["flags"] = frame.apply(flags, axis=1)
    frame["why_on_list"] = frame.apply(why_on_list, axis=1)
    for column in PACK_COLUMNS:
        if column not in frame:
            frame[column] = None
    return frame[PACK_COLUMNS].reset_index(drop=True)


def owner_only_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def write_private(path: Path, text: str) -> None:
    """Create with 0600 from the start (no window where the file is world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def write_tasking_pack(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    quarter_dir: Path,
    force: str = "",
    subject_profiles_top_n: int | None = None,
    generated: dt.date | None = None,
) -> PackResult:
    """Write the restricted pack: the list (CSV + HTML) and the top N subject profiles."""
    from pipelines.report.subjects import write_subject_profiles

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
    if subject_profiles_top_n is None:
        subject_profiles_top_n = load_settings().tasking.subject_profiles_top_n
    profiles = write_subject_profiles(
        con, quarter, frame.head(subject_profiles_top_n), folder, force, generated
    )
    write_private(html_path, render_pack_html(frame, quarter, force, generated, profiles))
    return PackResult(csv=csv_path, html=html_path, rows=len(frame), subject_profiles=profiles)


def fmt(value: Any) -> str:
    """A cell as the meeting reads it: yes/no, one decimal, 03 Mar 2026, blank for missing."""
    if value is None or (not isinstance(value, str | list | tuple) and pd.isna(value)):
        return ""  # None, NaN and NaT (a missing date is a datetime instance)
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        if pd.isna(value):
            return ""
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    if isinstance(value, dt.date | pd.Timestamp):
        return f"{value:%d %b %Y}"
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def render_pack_html(
    frame: pd.DataFrame,
    quarter: str,
    force: str,
    generated: dt.date | None = None,
    profiles: tuple[Path, ...] = (),
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
        lookback_years=load_settings().perpetrators.serial_lookback_years,
        generated=f"{(generated or dt.date.today()):%d %B %Y}",
    )
