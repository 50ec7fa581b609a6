"""The restricted tasking pack: the ranked high-harm perpetrator list a tasking chair runs the
meeting from.

OFFICIAL-SENSITIVE. Unlike the published profile it names people on purpose. Every figure comes
from the reporting layer: the list with its movement, flags, suggested actions and link
confidence (reporting.rpt_tasking_list), who dropped off and why (rpt_tasking_dropped_off), the
headline counts (rpt_tasking_summary), identity changes since the last run
(rpt_tasking_identity_changes) and the ranking back-test (rpt_tasking_backtest). This module
only picks the quarter's rows, words the reasons and formats: the list as CSV, HTML and XLSX
(one row per subject, frozen header, filters, the marking in header and footer) and one
printable page per subject at the top of the list (pipelines.report.subjects). Written only
under OUT/YYYY-Qn/restricted/ (folder 0700, files 0600 from creation), never linked from the
published profile.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

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

# The list's columns and their headings, in the order the tasking meeting reads them. Owner and
# review date are left empty for the meeting to fill in.
HEADINGS = {
    "rank": "Rank",
    "movement": "Movement",
    "score_change": "Score change",
    "previous_rank": "Previous rank",
    "subject_reference": "Subject ref",
    "person_key": "Person key",
    "best_name": "Name",
    "date_of_birth": "Date of birth",
    "area": "Area",
    "rfgv_score": "RFGV score (0-100)",
    "recency_score": "R",
    "frequency_score": "F",
    "gravity_score": "G",
    "victims_score": "V",
    "score_band": "Score band",
    "victims_total": "Victims",
    "crimes_total": "Crimes (look-back)",
    "crimes_12m": "Crimes 12 m",
    "breaches_12m": "Breaches 12 m",
    "has_active_order": "Active order",
    "active_orders": "Active orders (expiry)",
    "last_offence_date": "Last offence reported",
    "flags": "Flags",
    "flag_reasons": "Flag reasons",
    "suggested_action": "Suggested action",
    "owner": "Owner",
    "review_date": "Review date",
    "weakest_link_probability": "Weakest link (probability)",
    "distinct_victims_confident": "Distinct victims (confident)",
    "is_serial_recorded": "Serial (recorded stalking)",
    "is_serial_including_screened": "Serial (incl. screened courses)",
    "identity_note": "Identity since last run",
    "why_on_list": "Why on this list",
}
PACK_COLUMNS = list(HEADINGS)
NUMERIC = {
    "rank",
    "score_change",
    "previous_rank",
    "rfgv_score",
    "recency_score",
    "frequency_score",
    "gravity_score",
    "victims_score",
    "victims_total",
    "crimes_total",
    "crimes_12m",
    "breaches_12m",
    "weakest_link_probability",
    "distinct_victims_confident",
}
FLAG_LABELS = {
    "flag_order_not_working": "order not working",
    "flag_escalation": "escalating",
    "flag_new_victim": "new victim",
    "flag_no_spo_considered": "no SPO considered",
    "flag_online_only": "online only",
    "is_serial": "serial",
    "has_domestic_abuse": "DA",
}
DROPPED_HEADINGS = {
    "previous_rank": "Previous rank",
    "subject_reference": "Subject ref",
    "person_key": "Person key",
    "best_name": "Name",
    "previous_score": "Previous score",
    "current_score": "Score now",
    "current_rank": "Rank now",
    "reason": "Why off the list",
    "context": "Also this quarter",
}
BACKTEST_HEADINGS = {
    "origin_quarter": "Ranking of",
    "horizon_quarters": "Follow-up (quarters)",
    "method": "Ranking",
    "list_length": "Top k",
    "listed_reoffending": "Re-offended (of top k)",
    "precision_at_k": "Precision at k",
    "recall_of_harm": "Share of follow-up harm",
    "auc": "AUC",
}
METHOD_LABELS = {
    "rfgv": "RFGV score",
    "crime_count_12m": "Baseline: crimes in 12 months",
    "most_recent": "Baseline: most recent offending",
}


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
    identity: dict | None
    backtest: pd.DataFrame


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
    if str(row.get("highest_recorded_risk_12m") or "").lower() == "high":
        reasons.append("risk assessed as high on a crime in the last 12 months")
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
    """Short labels of the flags raised (their reasons are in flag_reasons)."""
    return ", ".join(label for column, label in FLAG_LABELS.items() if bool(row.get(column)))


def high_harm_list(con: duckdb.DuckDBPyConnection, quarter: str) -> pd.DataFrame:
    """The quarter's listed subjects (columns: PACK_COLUMNS), from reporting.rpt_tasking_list."""
    frame = con.execute(
        "select * exclude (quarter) from reporting.rpt_tasking_list "
        "where quarter = ? and is_on_tasking_list order by rank",
        [quarter],
    ).df()
    if frame.empty:
        # A quarter with nobody over the high-harm cut-off still gets its (empty) pack.
        return pd.DataFrame({column: pd.Series(dtype=object) for column in PACK_COLUMNS})
    frame["flags"] = frame.apply(flags, axis=1)
    frame["why_on_list"] = frame.apply(why_on_list, axis=1)
    frame["owner"] = ""
    frame["review_date"] = ""
    return frame[PACK_COLUMNS].reset_index(drop=True)


def pack_data(con: duckdb.DuckDBPyConnection, quarter: str) -> PackData:
    listed = high_harm_list(con, quarter)
    dropped = con.execute(
        "select d.*, l.subject_reference, l.best_name "
        "from reporting.rpt_tasking_dropped_off d "
        "left join (select distinct person_key, subject_reference, best_name "
        "           from reporting.rpt_tasking_list) l using (person_key) "
        "where d.quarter = ? order by d.previous_rank",
        [quarter],
    ).df()
    summary = con.execute(
        "select * from reporting.rpt_tasking_summary where quarter = ?", [quarter]
    ).df()
    identity = con.execute(
        "select * from reporting.rpt_tasking_identity_changes where run_quarter = ?", [quarter]
    ).df()
    backtest = con.execute(
        "select * from reporting.rpt_tasking_backtest where quarter = ? "
        "order by origin_quarter desc, horizon_quarters, list_length, method",
        [quarter],
    ).df()
    return PackData(
        listed=listed,
        dropped=dropped,
        summary=summary.iloc[0].to_dict() if len(summary) else {},
        identity=identity.iloc[0].to_dict() if len(identity) else None,
        backtest=backtest,
    )


def headline(data: PackData, quarter: str) -> list[str]:
    """The sentences above the list: counts, movement, identity changes."""
    s = data.summary
    if not s:
        return [f"No subject was scored for {quarter}."]
    lines = [
        f"{int(s['subjects_above_cutoff'])} subject(s) at or above the high-harm cut-off "
        f"(RFGV {s['cutoff_score']:g}) of {int(s['subjects_scored'])} scored; the top "
        f"{int(s['subjects_listed'])} are listed (list length {int(s['list_length'])}).",
        f"Since the previous quarter: {int(s['subjects_new'])} new, "
        f"{int(s['subjects_returning'])} returning, {int(s['subjects_up'])} up, "
        f"{int(s['subjects_down'])} down, {int(s['subjects_same'])} about the same; "
        f"{int(s['subjects_dropped_off'])} dropped off (below).",
    ]
    identity = data.identity
    if identity:
        lines.append(
            f"Identity since the {identity['previous_run_quarter']} run: "
            f"{int(identity['persons_keeping_key']):,} of {int(identity['persons_in_both']):,} "
            f"people in both runs kept their key; {int(identity['keys_merged'])} key(s) merged, "
            f"{int(identity['keys_split'])} split, {int(identity['keys_rekeyed'])} re-keyed "
            "(named in the list's last columns)."
        )
    else:
        lines.append(
            "No earlier run is kept in this warehouse, so no identity change can be shown; "
            "movement compares both quarters on this delivery's person keys."
        )
    return lines


def backtest_view(backtest: pd.DataFrame) -> pd.DataFrame:
    """The latest ranking old enough to check, and the mean over every ranking checked."""
    if backtest.empty:
        return backtest
    latest = backtest[backtest["origin_quarter"] == backtest["origin_quarter"].max()]
    mean = (
        backtest.groupby(["horizon_quarters", "list_length", "method"], as_index=False)
        .agg(
            listed_reoffending=("listed_reoffending", "sum"),
            precision_at_k=("precision_at_k", "mean"),
            recall_of_harm=("recall_of_harm", "mean"),
            auc=("auc", "mean"),
            rankings=("origin_quarter", "nunique"),
        )
        .assign(origin_quarter=lambda f: "mean of " + f["rankings"].astype(str) + " rankings")
    )
    view = pd.concat([latest, mean], ignore_index=True)[list(BACKTEST_HEADINGS)]
    view["method"] = view["method"].map(METHOD_LABELS)
    for column in ("precision_at_k", "recall_of_harm", "auc"):
        view[column] = view[column].astype(float).round(3)
    return view


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
    frame = data.listed
    folder = quarter_dir / RESTRICTED_DIR
    owner_only_dir(folder)
    csv_path = folder / "high_harm_perpetrators.csv"
    html_path = folder / "high_harm_perpetrators.html"
    xlsx_path = folder / "high_harm_perpetrators.xlsx"
    lines = [f"# {MARKING}: tasking list {quarter}. Do not forward outside the tasking group."]
    body = neutralise_formulas(frame).to_csv(
        index=False, quoting=csv.QUOTE_MINIMAL, float_format="%.2f", date_format="%Y-%m-%d"
    )
    write_private(csv_path, "\n".join(lines) + "\n" + body)
    profiles = write_subject_profiles(
        con, quarter, frame.head(subject_profiles_top_n), folder, force, generated
    )
    write_private(
        html_path,
        render_pack_html(frame, quarter, force, generated, profiles, data, lookback_years),
    )
    write_private_bytes(xlsx_path, render_pack_xlsx(data, quarter, force, generated))
    return PackResult(
        csv=csv_path,
        html=html_path,
        xlsx=xlsx_path,
        rows=len(frame),
        above_cutoff=int(data.summary.get("subjects_above_cutoff", 0) or 0),
        seconds=time.perf_counter() - started,
        subject_profiles=profiles,
    )


def write_private_bytes(path: Path, payload: bytes) -> None:
    """Binary twin of write_private: 0600 from creation."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(payload)
    os.chmod(path, 0o600)


def _sheet(workbook: Workbook, title: str, frame: pd.DataFrame, headings: dict[str, str]) -> None:
    """One sheet: headed columns, frozen header row, filters, marking in header and footer."""
    sheet = workbook.create_sheet(title)
    columns = [c for c in headings if c in frame.columns]
    sheet.append([headings[c] for c in columns])
    for record in neutralise_formulas(frame[columns]).itertuples(index=False):
        sheet.append([_cell(v) for v in record])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, column in enumerate(columns, start=1):
        wide = column in {"flag_reasons", "suggested_action", "why_on_list", "reason", "context"}
        sheet.column_dimensions[get_column_letter(index)].width = 48 if wide else 14
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for header_footer in (sheet.oddHeader, sheet.evenHeader, sheet.firstHeader):
        header_footer.center.text = MARKING
    for header_footer in (sheet.oddFooter, sheet.evenFooter, sheet.firstFooter):
        header_footer.center.text = MARKING
        header_footer.right.text = "Page &P of &N"
    sheet.page_setup.orientation = "landscape"
    sheet.print_title_rows = "1:1"


def _cell(value: object) -> object:
    """Excel-native values: numbers and dates stay typed, missing is empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().date()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def render_pack_xlsx(data: PackData, quarter: str, force: str, generated: dt.date) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = f"{MARKING} tasking list {quarter}"
    workbook.properties.keywords = MARKING
    workbook.properties.creator = force or "Stalking Problem Profile"
    _sheet(workbook, "Tasking list", data.listed, HEADINGS)
    _sheet(workbook, "Dropped off", data.dropped, DROPPED_HEADINGS)
    _sheet(workbook, "Ranking back-test", backtest_view(data.backtest), BACKTEST_HEADINGS)
    about = workbook.create_sheet("About")
    for line in [
        MARKING,
        f"{force}: tasking list {quarter}, produced {generated:%d %B %Y}.",
        *headline(data, quarter),
        "Names and dates of birth are the best values of each resolved person: confirm "
        "identity on the records system before any action.",
    ]:
        about.append([line])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render_pack_html(
    frame: pd.DataFrame,
    quarter: str,
    force: str,
    generated: dt.date | None = None,
    profiles: tuple[Path, ...] = (),
    data: PackData | None = None,
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
    dropped, backtest = [], []
    if data is not None:
        dropped_cols = [c for c in DROPPED_HEADINGS if c in data.dropped.columns]
        dropped = [[fmt(r[c]) for c in dropped_cols] for r in data.dropped.to_dict("records")]
        view = backtest_view(data.backtest)
        backtest = [[fmt(r[c]) for c in BACKTEST_HEADINGS] for r in view.to_dict("records")]
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
        headline=headline(data, quarter) if data is not None else [],
        dropped_headers=list(DROPPED_HEADINGS.values()) if dropped else [],
        dropped=dropped,
        data_cannot_tell=(
            data.dropped["data_cannot_tell"].iloc[0]
            if data is not None and len(data.dropped)
            else ""
        ),
        backtest_headers=list(BACKTEST_HEADINGS.values()),
        backtest=backtest,
    )
