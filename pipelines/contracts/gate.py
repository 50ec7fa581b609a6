"""The structural gate: the one check a delivery passes before anything else runs.

`spp profile` and `spp check` call it first, before the default quarter is worked out and
before Dagster starts: every file's header, encoding, quoting and field counts, the force area
file, and the quarter asked for against the dates the crimes actually cover. A failure is one
line naming file, column and data row (never a value from the file).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.contracts import geo
from pipelines.contracts.landing import checked_range, default_quarter, reported_range_sql
from pipelines.contracts.loader import EARLIEST_PLAUSIBLE_DATE
from pipelines.contracts.structure import (
    ExtractFile,
    StructuralError,
    check_delivery,
    check_readable,
    ensure_readable,
    mark_readable,
)
from pipelines.quarters import parse_quarter, quarter_end, quarter_of, quarter_start, shift_quarter


class QuarterOutsideData(ValueError):
    """The quarter asked for is not covered by the delivery's crimes."""


@dataclass(frozen=True)
class GatePassed:
    files: dict[str, ExtractFile]
    first_reported: dt.date
    last_reported: dt.date
    quarter: str
    area: geo.ForceArea


def check_quarter(
    quarter: str, first: dt.date, last: dt.date, today: dt.date | None = None
) -> None:
    """Refuse a quarter that ends before the first crime or starts after the last one, or
    that has not ended by `today` (the run date): its crimes are not all recorded yet, and its
    counts, compared with whole quarters, would read as a fall."""
    parse_quarter(quarter)
    if quarter_end(quarter) < first or quarter_start(quarter) > last:
        raise QuarterOutsideData(
            f"quarter {quarter} is outside the data: crimes were reported from "
            f"{first.isoformat()} to {last.isoformat()} "
            f"({quarter_of(first)} to {quarter_of(last)})"
        )
    if today is not None and quarter_end(quarter) > today:
        running = quarter_of(today)
        ended = running if quarter_end(running) <= today else shift_quarter(running, -1)
        raise QuarterOutsideData(
            f"quarter {quarter} ends {quarter_end(quarter).isoformat()}, after the run date "
            f"{today.isoformat()}: a quarter is profiled once it has ended (the last that has: "
            f"{ended})"
        )


def default_quarter_by(last: dt.date, first: dt.date, today: dt.date) -> str:
    """`default_quarter`, never one still running on the run date (data that stop within two
    weeks of a quarter's end choose that quarter; on a run date inside it, the one before)."""
    chosen = default_quarter(last, first)
    return shift_quarter(chosen, -1) if quarter_end(chosen) > today else chosen


def structural_gate(
    extracts_dir: Path,
    quarter: str | None = None,
    configured_area: str = "",
    today: dt.date | None = None,
    earliest: dt.date = EARLIEST_PLAUSIBLE_DATE,
) -> GatePassed:
    """Check the whole delivery's structure, then choose (or check) the quarter; crimes dated
    after `today` (the run date) or before `earliest` (settings
    `ingest.earliest_plausible_date`) play no part in either: they are quarantined."""
    extracts_dir = Path(extracts_dir)
    if not extracts_dir.is_dir():
        raise StructuralError(extracts_dir, "extracts folder not found")
    (first_sql, last_sql), parameters = reported_range_sql(today or dt.date.today(), earliest)
    with duckdb.connect() as con:
        # every header, then every file read whole in the extracts' order (as check_delivery):
        # the crimes' read also finds their date range (the largest file, parsed once)
        files = check_delivery(con, extracts_dir, full_read=False)
        for source in files.values():
            if source.extract == "crimes":
                _, first, last = check_readable(con, source, (first_sql, last_sql), parameters)
                mark_readable(source)
            else:
                ensure_readable(con, source)
    area = geo.resolve_force_area(extracts_dir, configured_area)
    first, last = checked_range(files["crimes"], first, last)
    today = today or dt.date.today()
    chosen = quarter or default_quarter_by(last, first, today)
    check_quarter(chosen, first, last, today)
    return GatePassed(files, first, last, chosen, area)
