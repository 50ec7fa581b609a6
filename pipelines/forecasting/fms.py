"""Financial-year arithmetic for the Force Management Statement horizon.

Years are financial years (April-March), as the FMS and Home Office statistics use. The FMS
tables themselves are reporting models (`rpt_fms_*`) written by pipelines/publish/fms.py.
"""

from __future__ import annotations

import datetime as dt


def financial_year_start(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def months_to_cover(last_actual: dt.date, as_of: dt.date, years_ahead: int) -> int:
    """Monthly horizon reaching the end of the financial year `years_ahead` after as_of's."""
    end = dt.date(financial_year_start(as_of) + years_ahead + 1, 3, 1)
    return max(1, (end.year - last_actual.year) * 12 + end.month - last_actual.month)
