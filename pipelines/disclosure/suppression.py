"""Cell suppression for published counts and rates.

Rules (DOMAIN.md s7; the threshold is `disclosure.min_count` in settings, default 5):

1. Primary: a count with 0 < n < threshold is suppressed. Zero is published: a true zero
   discloses nothing about a person, and suppressing zeros would make the other cells of a
   row easy to recover.
2. Secondary: every published total is a linear relation `sum(cells) = total`. A relation
   with exactly one suppressed member lets a reader subtract, so another member is
   suppressed: the smallest non-zero published cell of the relation (a zero partner would
   not hide anything). Rows and columns are revisited until no relation has a lone
   suppressed member.
3. Rates: a rate is suppressed when its numerator or denominator is suppressed, when the
   denominator is below the threshold, or when either the numerator or its complement
   (denominator - numerator) is a small non-zero count (98 of 100 discloses the 2).
4. Group attribute disclosure: a share of people at 0 % or 100 % tells the attribute of every
   member of the group ("all 19 people an order was applied for were granted one"): the
   rows-of-zeros case of DOMAIN.md s7, where one cell of the group's row is zero and the other
   is the whole group. Rates that describe people, such as what happened to the subjects of
   protective orders (`protect_rate(..., attribute=True)`, the YAML rule `attribute_rate`), are
   also suppressed when the numerator or its complement is zero, at any group size. Rates of
   police process per crime (compliance, SPO considered) keep rule 3 only.

Suppressed cells display as `[c]` (the ONS convention for "confidential"), never as `<5`,
because a secondary suppression can hide any value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

SUPPRESSED = "[c]"
TOTAL = "Total"


@dataclass(frozen=True)
class Count:
    """One published count: its true value stays inside the process, `public` is what prints."""

    value: int
    suppressed: bool = False

    @property
    def public(self) -> int | None:
        return None if self.suppressed else self.value

    def __str__(self) -> str:
        return SUPPRESSED if self.suppressed else f"{self.value:,}"


@dataclass(frozen=True)
class Rate:
    value: float | None  # a proportion 0..1, None when suppressed or undefined
    suppressed: bool = False

    def __str__(self) -> str:
        if self.suppressed:
            return SUPPRESSED
        return "–" if self.value is None else f"{self.value:.0%}"


def is_primary(value: int, threshold: int) -> bool:
    return 0 < value < threshold


def protect_count(value: int, threshold: int) -> Count:
    """A count published on its own (no total beside it): primary suppression only."""
    return Count(int(value), is_primary(int(value), threshold))


@dataclass(frozen=True)
class ProtectedTable:
    """Counts with their margins and the suppression pattern (same shape)."""

    values: pd.DataFrame  # ints, including the Total row/column when requested
    suppressed: pd.DataFrame  # bools
    primary: pd.DataFrame  # bools: which suppressions were primary

    def count(self, row: object, column: object) -> Count:
        return Count(int(self.values.at[row, column]), bool(self.suppressed.at[row, column]))

    def public(self) -> pd.DataFrame:
        """Values with suppressed cells as None: what charts may plot."""
        return self.values.astype(object).where(~self.suppressed, None)

    def display(self) -> pd.DataFrame:
        """Formatted strings for tables."""
        out = self.values.map(lambda v: f"{int(v):,}")
        return out.where(~self.suppressed, SUPPRESSED)

    @property
    def n_suppressed(self) -> int:
        return int(self.suppressed.to_numpy().sum())


def protect_table(
    counts: pd.DataFrame,
    threshold: int,
    *,
    row_totals: bool = True,
    column_totals: bool = True,
) -> ProtectedTable:
    """Suppress a two-way table of counts (rows x columns, without margins).

    Margins are added as a `Total` row and/or column and take part in suppression: a total
    below the threshold is itself suppressed, and then protected by its own relation.
    """
    values = counts.fillna(0).astype("int64").copy()
    if row_totals:
        values[TOTAL] = values.sum(axis=1)
    if column_totals:
        values.loc[TOTAL] = values.sum(axis=0)
    suppressed = values.map(lambda v: is_primary(int(v), threshold))
    primary = suppressed.copy()
    relations = _relations(values, row_totals, column_totals)
    changed = True
    while changed:
        changed = False
        for members in relations:
            flags = [suppressed.at[r, c] for r, c in members]
            if sum(flags) != 1:
                continue
            partner = _partner(values, suppressed, members)
            if partner is None:  # every other member is zero: nothing left to hide behind
                continue
            suppressed.at[partner] = True
            changed = True
    return ProtectedTable(values=values, suppressed=suppressed, primary=primary)


def _relations(
    values: pd.DataFrame, row_totals: bool, column_totals: bool
) -> list[list[tuple[object, object]]]:
    """Each published total with the cells it sums: (row, column) members of one equation."""
    rows = list(values.index)
    cols = list(values.columns)
    relations: list[list[tuple[object, object]]] = []
    if row_totals:
        inner_cols = [c for c in cols if c != TOTAL]
        relations += [[(r, c) for c in inner_cols] + [(r, TOTAL)] for r in rows]
    if column_totals:
        inner_rows = [r for r in rows if r != TOTAL]
        relations += [[(r, c) for r in inner_rows] + [(TOTAL, c)] for c in cols]
    return relations


def _partner(
    values: pd.DataFrame, suppressed: pd.DataFrame, members: list[tuple[object, object]]
) -> tuple[object, object] | None:
    """The smallest non-zero published member, inner cells before the total."""
    candidates = [
        (TOTAL in (r, c), int(values.at[r, c]), i, (r, c))
        for i, (r, c) in enumerate(members)
        if not suppressed.at[r, c] and int(values.at[r, c]) > 0
    ]
    if not candidates:
        return None
    return min(candidates)[3]


def protect_series(
    counts: Mapping[str, int], threshold: int, *, total: bool = True
) -> ProtectedTable:
    """A one-way breakdown (category -> count), with a Total row unless `total=False`."""
    frame = pd.DataFrame({"count": pd.Series(dict(counts), dtype="int64")})
    return protect_table(frame, threshold, row_totals=False, column_totals=total)


def subset_count(part: int, whole: int, threshold: int) -> Count:
    """A count that is a subset of a published whole (e.g. serial perpetrators of all
    perpetrators): suppressed when it or its complement is a small non-zero count."""
    return Count(
        int(part), is_primary(int(part), threshold) or is_primary(int(whole - part), threshold)
    )


def protect_counts(values: Sequence[int], threshold: int) -> list[Count]:
    """Independent counts published without any total (e.g. one series over time)."""
    return [protect_count(int(v), threshold) for v in values]


def suppress_together(figures: Sequence[Count | Rate]) -> list[Count | Rate]:
    """Figures printed beside the whole they add up to (the two sides of a domestic-abuse
    split beside "All"): when one is suppressed, all are, or subtraction would reveal it."""
    if not any(figure.suppressed for figure in figures):
        return list(figures)
    return [Count(0, True) if isinstance(f, Count) else Rate(None, True) for f in figures]


def protect_rate(
    numerator: int | Count,
    denominator: int | Count,
    threshold: int,
    *,
    attribute: bool = False,
) -> Rate:
    """A proportion numerator / denominator under rule 3, and rule 4 when `attribute` (the
    share of a group of people having an attribute)."""
    num = numerator if isinstance(numerator, Count) else Count(int(numerator))
    den = denominator if isinstance(denominator, Count) else Count(int(denominator))
    if num.suppressed or den.suppressed:
        return Rate(None, True)
    if den.value == 0:
        return Rate(None, False)
    if (
        den.value < threshold
        or is_primary(num.value, threshold)
        or is_primary(den.value - num.value, threshold)
        or (attribute and num.value in (0, den.value))
    ):
        return Rate(None, True)
    return Rate(num.value / den.value, False)
