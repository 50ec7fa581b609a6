"""Disclosure control of a cell under its column's rule (`cell_under_rule`), and of a row table
as its reporting model's YAML declares it (the keys: docs/DESIGN.md, "The YAML keys a reporting
model is printed by"), for
`pipelines.report.printed.printed_table`: counts suppressed together with others of their row
(`suppressed_in_rows`) or of their columns with a total row (`total_row`) before the table is
printed, and a figure hidden in one of the rows adding up to another printed row hidden in each
once it is printed (`suppressed_across_rows`); and a category-by-quarter table suppressed with
each quarter's total, its published cells as a chart's series (a stacked bar's suppressed part,
a category's share)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import pandas as pd

from pipelines.disclosure.suppression import (
    MISSING,
    SUPPRESSED,
    TOTAL,
    Count,
    ProtectedTable,
    protect_count,
    protect_rate,
    protect_relations,
    protect_series,
    protect_table,
    subset_count,
)


class RuledColumn(Protocol):
    """What a rule reads of a column (pipelines.report.printed.PrintedColumn, as the model's
    YAML declares it): its name, its `disclosure` rule and the column `of` its whole."""

    @property
    def name(self) -> str: ...
    @property
    def disclosure(self) -> str | None: ...
    @property
    def of(self) -> str | None: ...


RATE_RULES = ("rate", "attribute_rate")


def is_missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str | list) and pd.isna(value))


def counted_under_rule(row: Mapping[str, Any], column: RuledColumn, k: int) -> Count:
    """A count under its column's rule: `count` (primary suppression), `subset` of its `of`
    or `none` (printed exactly)."""
    value = int(row[column.name])
    if column.disclosure == "subset":
        return subset_count(value, int(row[column.of] or 0), k)
    # `none`: counts of records, printed exactly (a declaration test allows no other rule)
    return protect_count(value, k) if column.disclosure == "count" else Count(value)


def cell_under_rule(
    row: Mapping[str, Any],
    column: RuledColumn,
    k: int,
    protected: Mapping[str, Count] | None = None,
) -> str | None:
    """A cell's figure as published under its column's disclosure rule; None where no rule
    applies (the figure prints as its kind formats it). `protected` holds counts of the row
    already suppressed with the others of their table (secondary suppression); a count or a
    rate's numerator or whole found there is used as is."""
    value, protected = row[column.name], protected or {}

    def counted(name: str) -> Count | int:
        return protected.get(name, int(row[name] or 0))

    if column.disclosure == "count" and column.name in protected and not is_missing(value):
        return str(protected[column.name])
    if column.disclosure in ("count", "subset") and not is_missing(value):
        return str(counted_under_rule(row, column, k))
    if column.disclosure in RATE_RULES:
        attribute = column.disclosure == "attribute_rate"
        return str(protect_rate(counted(column.name), counted(column.of), k, attribute=attribute))
    if column.disclosure == "median" and int(row[column.of] or 0) < k:
        return MISSING
    return None


def protected_together(
    frame: pd.DataFrame, in_rows: list[list[str]], total: dict[str, Any] | None, k: int
) -> tuple[list[dict[str, Count]], dict[str, Count]]:
    """Each row's counts that are suppressed with others, and the total row's counts.
    `in_rows`: groups of one row's counts adding up to a whole printed elsewhere (a split's
    two sides); `total["together"]`: groups of count columns suppressed as one table with a
    total row (a group is its columns, or {columns, row_total: the column printing each row's
    sum})."""
    records = frame.to_dict("records")
    protected: list[dict[str, Count]] = [{} for _ in records]
    for group in in_rows:
        for row, shown in zip(records, protected, strict=True):
            pair = protect_series({name: int(row[name]) for name in group}, k)
            shown.update({name: pair.count(name, "count") for name in group})
    totals: dict[str, Count] = {}
    for group in total["together"] if total and records else []:
        columns, row_total = (
            (group["columns"], group.get("row_total")) if isinstance(group, dict) else (group, None)
        )
        table = protect_table(frame[columns], k, row_totals=bool(row_total), column_totals=True)
        margins = {c: c for c in columns} | ({row_total: TOTAL} if row_total else {})
        for name, margin in margins.items():
            totals[name] = table.count(TOTAL, margin)
            for i, shown in enumerate(protected):
                shown[name] = table.count(i, margin)
    return protected, totals


def suppress_across(rows: list[list[str]], records: list[dict], across: dict[str, Any]) -> None:
    """In the printed rows whose `key` is one of `rows` (per value of `within`, when named), a
    figure suppressed in one row is suppressed in each. A cell with no figure (`MISSING`: a
    share of none, e.g. of no orders granted) stays as it is: it shows nothing to hide, and
    '[c]' there would claim a small count that does not exist."""
    groups: dict[object, list[int]] = {}
    for i, row in enumerate(records):
        if row[across["key"]] in across["rows"]:
            groups.setdefault(row.get(across.get("within", ""), None), []).append(i)
    for members in groups.values():
        for j in range(len(rows[0]) if rows else 0):
            if any(rows[i][j] == SUPPRESSED for i in members):
                for i in members:
                    if rows[i][j] != MISSING:
                        rows[i][j] = SUPPRESSED


def stacked_rest(series: dict[str, list[int | None]], totals: list[int | None]) -> list[int | None]:
    """Per bar of a stacked chart of a table's published cells (`series`, a suppressed cell
    None): what its suppressed cells add up to, the published total less the published cells
    (which the table already lets anyone work out), so the bar keeps its true height and no
    suppressed cell shows alone; None where nothing is suppressed or the total is too."""
    bars = list(zip(*series.values(), strict=True)) if series else [()] * len(totals)
    return [
        total - sum(v for v in bar if v is not None) if total is not None and None in bar else None
        for total, bar in zip(totals, bars, strict=True)
    ]


def published_shares(
    series: dict[str, list[int | None]], part: str, periods: int, k: int
) -> list[float | None]:
    """The share of category `part` of a table's published cells per period, under the rate
    rule; a period with a suppressed cell has no share. A category or a whole table with no
    count has no row: its counts are zero."""
    totals = [
        None if None in cells else sum(cells) for cells in zip(*series.values(), strict=True)
    ] or [0] * periods
    return [
        None if None in (n, total) else protect_rate(Count(int(n)), Count(int(total)), k).value
        for n, total in zip(series.get(part, [0] * periods), totals, strict=True)
    ]


def protected_by_quarter(
    frame: pd.DataFrame, quarters: list[str], threshold: int, order: list[str]
) -> ProtectedTable:
    """frame: quarter, cat, n. The categories (in `order`) by `quarters`, a quarter without a
    row counting zero, suppressed with each quarter's total (primary and secondary)."""
    frame = frame[frame["quarter"].isin(quarters)]
    wide = frame.pivot_table(index="cat", columns="quarter", values="n", aggfunc="sum")
    wide = wide.reindex(index=order, columns=quarters)
    return protect_table(wide, threshold, row_totals=False, column_totals=True)


def trend_table(
    frame: pd.DataFrame, quarters: list[str], threshold: int, order: list[str], with_total: bool
) -> dict[str, list[int | None]]:
    """A series per category over `quarters` for a chart, a suppressed cell None; with_total
    adds the quarters' totals (which the stack height shows) under "Total"."""
    public = protected_by_quarter(frame, quarters, threshold, order).public()
    shown = [*order, TOTAL] if with_total else order
    return {str(k): [public.at[k, q] for q in quarters] for k in shown}


def merged_split(
    records: list[dict[str, Any]],
    counts: list[str],
    summed: list[str],
    split: dict[str, Any],
    k: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Count]]]:
    """A split printed per table (`within`, e.g. order type; the YAML key `merged_split`) as rows
    of groups (`key`): the whole, one `side` and the `rest` groups (e.g. domestic abuse; not
    domestic abuse and no crime linked), with a row of the tables' totals (`totals`, e.g. all
    order types). Each count column is suppressed as one two-way table of tables by groups, with
    every sum a reader can take: the groups add up to the whole, the rest groups to their sum
    (the whole less the side), each group over the tables to its total. A table's whole is
    `fixed`: it is printed elsewhere too (the orders granted per quarter add up to it).

    When a rest group is hidden with its partner while their sum (the whole less the side) is
    not, the table prints the sum as one row (`merged`: {key, label}) in their place, so one
    small group does not hide the side it is no part of; the sum tells nothing that the whole
    and the side do not already (the statistician's merge of a small category). `summed`: the
    columns a merged row adds up (counts and the numerators of rates). Returns the printed
    records and each one's protected counts; a table merged in one count column is merged in
    all (in each, the sum is the whole less the side, or hidden with it)."""
    key, within, whole = split["key"], split["within"], split["whole"]
    side, rest, totals = split["side"], split["rest"], split["totals"]
    merged = split["merged"]
    groups, tables = [side, *rest], list(dict.fromkeys(r[within] for r in records))
    value = {(r[within], r[key]): r for r in records}
    inner = [t for t in tables if t != totals]

    def relations(table: object) -> list[list[tuple[object, str]]]:
        return [
            [(table, side), (table, merged["key"]), (table, whole)],
            [*((table, g) for g in rest), (table, merged["key"])],
            [*((table, g) for g in groups), (table, whole)],
        ]

    hidden: dict[str, dict[tuple[object, str], bool]] = {}
    for column in counts:
        cells: dict[tuple[object, str], int] = {}
        for table in tables:
            for group in [*groups, whole]:
                row = value.get((table, group))
                cells[table, group] = int(row[column]) if row else 0
            cells[table, merged["key"]] = sum(cells[table, g] for g in rest)
        equations = [equation for table in tables for equation in relations(table)]
        if totals in tables:
            equations += [
                [*((t, g) for t in inner), (totals, g)] for g in [*groups, merged["key"], whole]
            ]
        tiers = {(t, g): 0 if g in groups else 1 for t in inner for g in [*groups, merged["key"]]}
        tiers |= {(t, whole): 2 for t in tables} | {(totals, g): 2 for g in cells}
        fixed = [(t, whole) for t in tables]
        hidden[column] = protect_relations(cells, equations, k, tiers, fixed)
    merging = {
        table
        for table in inner
        for column in counts
        if all(hidden[column][table, g] for g in rest) and not hidden[column][table, merged["key"]]
    }
    printed: list[dict[str, Any]] = []
    for row in records:
        table, group = row[within], row[key]
        if table in merging and group in rest:
            if group != rest[0]:  # the first rest group's row prints the sum
                continue
            parts = [value[table, g] for g in rest if (table, g) in value]
            row = {
                **row,
                **{c: sum(int(p[c]) for p in parts) for c in summed},
                key: merged["key"],
                split["label"]: merged["label"],
            }
        printed.append(row)
    shown = [{c: Count(int(r[c]), hidden[c][r[within], r[key]]) for c in counts} for r in printed]
    return printed, shown
