"""Calendar quarters written `YYYY-Qn`: the profile's unit of time, defined once."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def parse_quarter(quarter: str) -> tuple[int, int]:
    match = _QUARTER.match(quarter)
    if not match:
        raise ValueError(f"quarter must look like 2025-Q3, got {quarter!r}")
    return int(match.group(1)), int(match.group(2))


def quarter_of(day: dt.date) -> str:
    # the year zero-padded to four digits, as `parse_quarter` reads it and as quarters sort
    # as text (the dbt macro quarter_of is the SQL twin)
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def quarter_start(quarter: str) -> dt.date:
    year, q = parse_quarter(quarter)
    return dt.date(year, 3 * (q - 1) + 1, 1)


def quarter_end(quarter: str) -> dt.date:
    """Last day of the quarter."""
    return shift_quarter_start(quarter, 1) - dt.timedelta(days=1)


def shift_quarter(quarter: str, quarters: int) -> str:
    year, q = parse_quarter(quarter)
    index = year * 4 + (q - 1) + quarters
    return f"{index // 4:04d}-Q{index % 4 + 1}"


def shift_quarter_start(quarter: str, quarters: int) -> dt.date:
    return quarter_start(shift_quarter(quarter, quarters))


def last_complete_quarter(on: dt.date) -> str:
    """The latest quarter that ended on or before `on`."""
    this_quarter = quarter_of(on)
    if on == quarter_end(this_quarter):
        return this_quarter
    return shift_quarter(this_quarter, -1)


def quarter_range(first: str, last: str) -> list[str]:
    out = [first]
    while out[-1] != last:
        out.append(shift_quarter(out[-1], 1))
        if len(out) > 400:
            raise ValueError(f"{first} is not before {last}")
    return out


@dataclass(frozen=True)
class Periods:
    """The quarters a profile compares: the quarter, the previous one, the same quarter last
    year, and the trend window ending at the quarter."""

    quarter: str

    @property
    def previous(self) -> str:
        return shift_quarter(self.quarter, -1)

    @property
    def year_ago(self) -> str:
        return shift_quarter(self.quarter, -4)

    @property
    def columns(self) -> list[str]:
        """Oldest first: how comparison tables read left to right."""
        return [self.year_ago, self.previous, self.quarter]

    def trend(self, quarters: int = 12) -> list[str]:
        return [shift_quarter(self.quarter, -k) for k in range(quarters - 1, -1, -1)]
