"""The landing folder: which complete, settled deliveries of the five extracts are waiting.

Used by the Dagster sensor and schedule (pipelines/assets/automation.py). A delivery is a folder
(the landing folder itself, or one of its immediate sub-folders, e.g. `2026-Q3/`) holding all
five extracts as CSV or Parquet, none modified for `settle_seconds` (so a half-copied file is
never picked up). Its fingerprint (names, sizes, modification times) tells a new delivery from
one already launched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.contracts.schema import BOUNDARY_FILE_NAMES, EXTRACTS
from pipelines.contracts.structure import (
    ExtractFile,
    StructuralError,
    explain_read_error,
    find_extract_file,
    inspect_extract,
    reader_sql,
)
from pipelines.quarters import quarter_end, quarter_of, shift_quarter

QUARTER_NAME = re.compile(r"^\d{4}-Q[1-4]$")


@dataclass(frozen=True)
class Delivery:
    folder: Path
    fingerprint: str
    newest_mtime: float


def delivery_in(folder: Path, settle_seconds: float, now: float | None = None) -> Delivery | None:
    """The delivery in `folder` when it is complete and settled, else None."""
    now = time.time() if now is None else now
    parts, newest = [], 0.0
    for extract in EXTRACTS:
        try:
            path = find_extract_file(folder, extract)
        except StructuralError:
            return None
        stat = path.stat()
        newest = max(newest, stat.st_mtime)
        parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    for name in BOUNDARY_FILE_NAMES:
        if (boundary := folder / name).exists():
            stat = boundary.stat()
            newest = max(newest, stat.st_mtime)
            parts.append(f"{boundary.name}:{stat.st_size}:{stat.st_mtime_ns}")
    if now - newest < settle_seconds:
        return None
    digest = hashlib.sha256(f"{folder.resolve()}|{'|'.join(parts)}".encode()).hexdigest()[:16]
    return Delivery(folder, digest, newest)


def find_deliveries(
    landing: Path, settle_seconds: float, now: float | None = None
) -> list[Delivery]:
    """Complete, settled deliveries in the landing folder and its sub-folders, oldest first."""
    landing = Path(landing)
    if not landing.is_dir():
        return []
    folders = [landing, *sorted(p for p in landing.iterdir() if p.is_dir())]
    found = [d for f in folders if (d := delivery_in(f, settle_seconds, now)) is not None]
    return sorted(found, key=lambda d: d.newest_mtime)


def delivery_quarter(folder: Path) -> str:
    """The quarter a delivery profiles: its folder name when that is `YYYY-Qn`, else the last
    complete quarter of its crimes."""
    if QUARTER_NAME.match(folder.name):
        return folder.name
    return last_complete_quarter_in_crimes(folder)


def _reported_text() -> str:
    return "trim(cast(reported_date as varchar))"


def reported_range_sql(
    today: dt.date | None, earliest: dt.date | None = None
) -> tuple[tuple[str, str], list[object]]:
    """The first and last parseable reported_date as two aggregates over the crimes file, with
    their parameters: the last on or before `today` when given, both on or after `earliest`
    when given (a crime outside them is quarantined, `date_in_future` / `date_too_early`, and
    is no part of the data's range)."""
    text = _reported_text()
    day = f"try_cast({text} as date)"
    bounds: list[tuple[str, dt.date]] = [("<= ?", today)] if today is not None else []
    bounds += [(">= ?", earliest)] if earliest is not None else []
    last_where = " and ".join(f"{day} {op}" for op, _ in bounds)
    first_where = " and ".join(f"{day} {op}" for op, _ in bounds if op == ">= ?")
    first = f"min({day})" + (f" filter (where {first_where})" if first_where else "")
    last = f"max({day})" + (f" filter (where {last_where})" if last_where else "")
    parameters: list[object] = [earliest] if earliest is not None else []
    parameters += [value for _, value in bounds]
    return (first, last), parameters


def crimes_date_range(folder: Path, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """First and last parseable reported_date of the crimes extract, read with the same strict
    reader as the load (never DuckDB's sniffer, whose errors echo raw lines). With `today`,
    the last is the last on or before it: one mistyped year (2062 for 2026) would otherwise
    make an empty future quarter the default."""
    source = inspect_extract(folder, "crimes")
    (first_sql, last_sql), parameters = reported_range_sql(today)
    with duckdb.connect() as con:
        try:
            first, last = con.execute(
                f"select {first_sql}, {last_sql} from {reader_sql(source)}", parameters
            ).fetchone()
        except duckdb.Error as error:
            raise explain_read_error(source, error) from None
    return checked_range(source, first, last)


def checked_range(
    source: ExtractFile, first: dt.date | None, last: dt.date | None
) -> tuple[dt.date, dt.date]:
    """The crimes' date range, or the structural error of a file with no usable date (why,
    from a second read of the file: only a failing delivery pays for it)."""
    if last is None:
        text = _reported_text()
        with duckdb.connect() as con:
            rows, day_first = con.execute(
                f"select count(*), count(*) filter (where regexp_matches({text}, "
                f"'^[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{2,4}}')) from {reader_sql(source)}"
            ).fetchone()
        if rows == 0:
            raise StructuralError(source.path, "no crimes in the file (header only)")
        hint = "dates are written YYYY-MM-DD"
        if day_first * 2 > rows:
            hint = (
                "the dates look DD/MM/YYYY: the contract wants YYYY-MM-DD (a mapping file converts)"
            )
        raise StructuralError(
            source.path,
            "no parseable reported_date, cannot choose a quarter",
            column="reported_date",
            hint=hint,
        )
    return first, last


def default_quarter(last_reported: dt.date, first_reported: dt.date | None = None) -> str:
    """The quarter of the latest reported crime, less one when the data stop more than two weeks
    before that quarter ends (a delivery cut mid-quarter profiles the quarter before), unless
    the data hold nothing before it (then the one partial quarter there is)."""
    quarter = quarter_of(last_reported)
    if (quarter_end(quarter) - last_reported).days > 14:
        earlier = shift_quarter(quarter, -1)
        if first_reported is None or quarter_end(earlier) >= first_reported:
            quarter = earlier
    return quarter


def last_complete_quarter_in_crimes(folder: Path, today: dt.date | None = None) -> str:
    """The quarter a delivery's crimes support (see `default_quarter`)."""
    first, last = crimes_date_range(folder, today or dt.date.today())
    return default_quarter(last, first)
