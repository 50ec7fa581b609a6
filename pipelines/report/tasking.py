"""The restricted tasking pack: the ranked high-harm perpetrator list for the tasking meeting.

OFFICIAL-SENSITIVE. Written only under OUT/YYYY-Qn/restricted/ with owner-only permissions,
never linked from the published profile, and never passed through the publish path.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.report.profile import environment
from pipelines.report.warehouse import Warehouse

MARKING = "OFFICIAL-SENSITIVE"
RESTRICTED_DIR = "restricted"
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


@dataclass(frozen=True)
class PackResult:
    csv: Path
    html: Path
    rows: int


def pseudonym(person_key: str, quarter: str) -> str:
    """A short label to say aloud in a meeting instead of a name: stable within a quarter's
    pack, not reversible to the key without the key list."""
    digest = hashlib.sha256(f"{quarter}|{person_key}".encode()).hexdigest()[:6].upper()
    return f"Subject {digest}"


def why_on_list(row: pd.Series) -> str:
    """Plain-English reasons, strongest first."""
    reasons = []
    victims = int(row.get("victims_total") or 0)
    crimes = int(row.get("crimes_total") or 0)
    if bool(row.get("is_serial")):
        reasons.append(f"serial: {victims} different victims")
    if crimes:
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
        top = max(scored, key=scored.get)
        reasons.append(f"score driven most by {top}")
    text = "; ".join(reasons)
    return text[:1].upper() + text[1:] if text else "Above the high-harm threshold"


def high_harm_list(con: duckdb.DuckDBPyConnection, quarter: str) -> pd.DataFrame:
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
    frame.insert(1, "label", [pseudonym(str(k), quarter) for k in frame["person_key"]])
    frame["why_on_list"] = frame.apply(why_on_list, axis=1)
    return frame


def _owner_only_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _write_private(path: Path, text: str) -> None:
    """Create with 0600 from the start (no window where the file is world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def write_tasking_pack(
    con: duckdb.DuckDBPyConnection, quarter: str, quarter_dir: Path, force: str = ""
) -> PackResult:
    frame = high_harm_list(con, quarter)
    folder = quarter_dir / RESTRICTED_DIR
    _owner_only_dir(folder)
    csv_path = folder / "high_harm_perpetrators.csv"
    html_path = folder / "high_harm_perpetrators.html"
    lines = [f"# {MARKING}: tasking list {quarter}. Do not forward outside the tasking group."]
    body = frame.to_csv(index=False, quoting=csv.QUOTE_MINIMAL, float_format="%.2f")
    _write_private(csv_path, "\n".join(lines) + "\n" + body)
    _write_private(html_path, render_pack_html(frame, quarter, force))
    return PackResult(csv=csv_path, html=html_path, rows=len(frame))


def render_pack_html(frame: pd.DataFrame, quarter: str, force: str) -> str:
    def fmt(value: Any) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return f"{value:.1f}"
        if isinstance(value, dt.date | pd.Timestamp):
            return f"{value:%d %b %Y}"
        return (
            "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
        )

    headers = [c.replace("_", " ") for c in frame.columns]
    rows = [[fmt(v) for v in record] for record in frame.itertuples(index=False)]
    template = environment().get_template("tasking_pack.html.j2")
    return template.render(
        marking=MARKING,
        quarter=quarter,
        force=force,
        headers=headers,
        rows=rows,
        generated=f"{dt.date.today():%d %B %Y}",
    )
