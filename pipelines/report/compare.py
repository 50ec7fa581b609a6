"""Figures with their comparison points (previous quarter, same quarter last year), already
through disclosure control, and the change printed beside them in tables."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipelines.disclosure import SUPPRESSED, Count, protect_table
from pipelines.disclosure.suppression import TOTAL, Rate
from pipelines.quarters import shift_quarter


@dataclass(frozen=True)
class Periods:
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


def change_text(now: Count | Rate, before: Count | Rate) -> str:
    """'+12%', '−3%', '0%' for counts; '+4 pts' for rates; [c] if either is suppressed."""
    if now.suppressed or before.suppressed:
        return SUPPRESSED
    if isinstance(now, Rate):
        if now.value is None or before.value is None:
            return "–"
        points = round((now.value - before.value) * 100)
        return f"{points:+d} pts".replace("-", "−")
    if now.value is None or not before.value:
        return "–"
    return f"{(now.value - before.value) / before.value:+.0%}".replace("-", "−")


@dataclass(frozen=True)
class Figure3:
    """One figure at the quarter, the previous quarter and the same quarter last year."""

    label: str
    now: Count
    previous: Count
    year_ago: Count

    @property
    def vs_previous(self) -> str:
        return change_text(self.now, self.previous)

    @property
    def vs_year(self) -> str:
        return change_text(self.now, self.year_ago)


def comparison_table(
    frame: pd.DataFrame, category: str, periods: Periods, threshold: int, order: list[str]
) -> list[Figure3]:
    """frame: quarter, <category>, n. A categories x [year ago, previous, quarter] table of
    counts with a Total row, suppressed (primary + secondary on each quarter's total), as
    Figure3 rows for the template."""
    wide = (
        frame[frame["quarter"].isin(periods.columns)]
        .pivot_table(index=category, columns="quarter", values="n", aggfunc="sum", fill_value=0)
        .reindex(index=order, columns=periods.columns, fill_value=0)
    )
    protected = protect_table(wide, threshold, row_totals=False, column_totals=True)
    return [
        Figure3(
            label=str(label),
            now=protected.count(label, periods.quarter),
            previous=protected.count(label, periods.previous),
            year_ago=protected.count(label, periods.year_ago),
        )
        for label in [*order, TOTAL]
    ]


def trend_table(
    frame: pd.DataFrame,
    category: str,
    quarters: list[str],
    threshold: int,
    order: list[str],
    with_total: bool = False,
) -> dict[str, list[int | None]]:
    """Series per category over quarters for a stacked chart, with suppressed cells as None
    (secondary suppression against each quarter's total, which the stack height shows).
    with_total adds the protected quarter totals under the key "Total"."""
    wide = (
        frame.pivot_table(index=category, columns="quarter", values="n", aggfunc="sum")
        .reindex(index=order, columns=quarters)
        .fillna(0)
    )
    public = protect_table(wide, threshold, row_totals=False, column_totals=True).public()
    series = {str(k): [public.at[k, q] for q in quarters] for k in order}
    if with_total:
        series["Total"] = [public.at["Total", q] for q in quarters]
    return series
