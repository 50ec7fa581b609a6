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

from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

import pandas as pd

SUPPRESSED = "[c]"
MISSING = "–"  # no figure (none recorded, or a statistic of too few to print)
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
        return "–" if self.value is None else percent_text(self.value)


def rounded_half_up(value: float, digits: int = 0) -> Decimal:
    """`value` to `digits` decimals, a half rounded away from zero (52.5 -> 53), as a reader
    and a spreadsheet round; Python's format and `round` round a half to even (52.5 -> 52). The
    float is first cut to 9 decimals, so 14.499999999999998 (0.145 * 100) counts as the 14.5 it
    stands for. The one rounding of every published percentage (the dbt macro `whole_percent`
    is the same rule). A numpy float is read as the float it is (its repr names its type)."""
    exact = Decimal(repr(round(float(value), 9)))
    return exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def percent_text(share: float, digits: int = 0, signed: bool = False) -> str:
    """A share as a printed percentage, '53%' ('+12%' when `signed`), rounded half up."""
    return f"{rounded_half_up(share * 100, digits):{'+' if signed else ''}f}%"


def is_primary(value: int, threshold: int) -> bool:
    return 0 < value < threshold


def protect_count(value: int, threshold: int) -> Count:
    """A count published on its own (no total beside it): primary suppression only."""
    return Count(int(value), is_primary(int(value), threshold))


@dataclass(frozen=True)
class ProtectedTable:
    """Counts with their margins and the suppression pattern (same shape). The search runs on
    plain lists and the frames are built when asked for: a sentence protects one small relation
    at a time, and pandas' per-cell indexing cost ~3 ms a table (most of a profile's sentence
    filling)."""

    rows: tuple[object, ...]  # row labels, `Total` last when requested
    columns: tuple[object, ...]  # column labels, `Total` last when requested
    cells: tuple[tuple[int, ...], ...]
    hidden: tuple[tuple[bool, ...], ...]
    hidden_first: tuple[tuple[bool, ...], ...]  # the primary suppressions
    names: tuple[object, object] = (None, None)  # the index's and the columns' names

    def _frame(self, cells: tuple[tuple, ...], dtype: str) -> pd.DataFrame:
        index = pd.Index(list(self.rows), name=self.names[0], tupleize_cols=False)
        columns = pd.Index(list(self.columns), name=self.names[1], tupleize_cols=False)
        return pd.DataFrame(list(cells), index=index, columns=columns, dtype=dtype)

    @cached_property
    def values(self) -> pd.DataFrame:
        """Ints, including the Total row/column when requested."""
        return self._frame(self.cells, "int64")

    @cached_property
    def suppressed(self) -> pd.DataFrame:
        return self._frame(self.hidden, "bool")

    @cached_property
    def primary(self) -> pd.DataFrame:
        """Which suppressions were primary."""
        return self._frame(self.hidden_first, "bool")

    def count(self, row: object, column: object) -> Count:
        r, c = self.rows.index(row), self.columns.index(column)
        return Count(self.cells[r][c], self.hidden[r][c])

    def public(self) -> pd.DataFrame:
        """Values with suppressed cells as None: what charts may plot."""
        return self.values.astype(object).where(~self.suppressed, None)

    def display(self) -> pd.DataFrame:
        """Formatted strings for tables."""
        out = self.values.map(lambda v: f"{int(v):,}")
        return out.where(~self.suppressed, SUPPRESSED)

    @property
    def n_suppressed(self) -> int:
        return sum(map(sum, self.hidden))


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
    inner = counts.fillna(0).astype("int64")
    return _protect(
        list(inner.index),
        list(inner.columns),
        [[int(v) for v in row] for row in inner.to_numpy()],
        threshold,
        row_totals=row_totals,
        column_totals=column_totals,
        names=(inner.index.name, inner.columns.name),
    )


def _protect(
    rows: list[object],
    cols: list[object],
    values: list[list[int]],
    threshold: int,
    *,
    row_totals: bool,
    column_totals: bool,
    names: tuple[object, object] = (None, None),
) -> ProtectedTable:
    if row_totals:
        values = [row + [sum(row)] for row in values]
        cols = [*cols, TOTAL]
    if column_totals:
        values = [*values, [sum(column) for column in zip(*values, strict=True)] or [0] * len(cols)]
        rows = [*rows, TOTAL]
    last_row, last_col = len(rows) - 1, len(cols) - 1
    cells = {(r, c): v for r, row in enumerate(values) for c, v in enumerate(row)}
    tiers = {
        (r, c): int((row_totals and c == last_col) or (column_totals and r == last_row))
        for r, c in cells
    }
    hidden = protect_relations(
        cells, _relations(len(rows), len(cols), row_totals, column_totals), threshold, tiers
    )
    return ProtectedTable(
        rows=tuple(rows),
        columns=tuple(cols),
        cells=tuple(tuple(row) for row in values),
        hidden=tuple(tuple(hidden[r, c] for c in range(len(cols))) for r in range(len(rows))),
        hidden_first=tuple(tuple(is_primary(v, threshold) for v in row) for row in values),
        names=names,
    )


def protect_relations(
    values: Mapping[Hashable, int],
    relations: Sequence[Sequence[Hashable]],
    threshold: int,
    tiers: Mapping[Hashable, int] | None = None,
    fixed: Collection[Hashable] = (),
) -> dict[Hashable, bool]:
    """Which figures to hide (rules 1 and 2) among published figures tied by `relations`, each
    the figures of one equation whose sum is the last (any linear tie a reader can subtract
    along). The partner of a lone hidden member is the smallest non-zero published member of
    the lowest tier (inner cells 0 before sub-totals before totals); a `fixed` figure is printed
    elsewhere and is never a partner: hiding it here would hide nothing. Revisited until no
    relation has a lone hidden member."""
    tiers = tiers or {}
    hidden = {key: is_primary(value, threshold) for key, value in values.items()}
    changed = True
    while changed:
        changed = False
        for members in relations:
            if sum(hidden[key] for key in members) != 1:
                continue
            candidates = [
                (tiers.get(key, 0), values[key], i, key)
                for i, key in enumerate(members)
                if not hidden[key] and values[key] > 0 and key not in fixed
            ]
            if not candidates:  # every other member is zero: nothing left to hide behind
                continue
            hidden[min(candidates)[3]] = True
            changed = True
    return hidden


def _relations(
    n_rows: int, n_cols: int, row_totals: bool, column_totals: bool
) -> list[list[tuple[int, int]]]:
    """Each published total with the cells it sums: (row, column) positions of one equation
    (the totals are the last row and column)."""
    relations: list[list[tuple[int, int]]] = []
    if row_totals:
        inner_cols = n_cols - 1
        relations += [
            [(r, c) for c in range(inner_cols)] + [(r, inner_cols)] for r in range(n_rows)
        ]
    if column_totals:
        inner_rows = n_rows - 1
        relations += [
            [(r, c) for r in range(inner_rows)] + [(inner_rows, c)] for c in range(n_cols)
        ]
    return relations


def protect_series(
    counts: Mapping[str, int], threshold: int, *, total: bool = True
) -> ProtectedTable:
    """A one-way breakdown (category -> count), with a Total row unless `total=False`."""
    return _protect(
        list(counts),
        ["count"],
        [[int(v)] for v in counts.values()],
        threshold,
        row_totals=False,
        column_totals=total,
    )


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
