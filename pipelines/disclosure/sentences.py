"""Sentences that print counts, filled from a reporting model's row under the table rules.

A reporting model holds a sentence as a `template` column; its placeholders name other
columns of the same row, so the words, the figures and which figure goes where are one dbt
model, and disclosure control stays here.

Placeholder syntax: `{column}`, a lower-case column name of the row, or `{column?}` (below);
the template holds no other brace. Each placeholder prints as the column's YAML `config.meta`
describes it (the reader of `pipelines.report.printed`): its `kind` (count, number, rate,
text, ...; `digits`) and, for figures, its `disclosure` rule, exactly as a published table
cell prints:

- `none`: printed exactly (counts of records, not of people; labels).
- `count`: primary suppression (`protect_count`): a count 0 < n < disclosure.min_count prints
  `[c]`.
- `subset`: a count that is part of the row's column `of` (`subset_count`): `[c]` when it or
  the rest of `of` is a small count.
- `rate` / `attribute_rate`: the column is a numerator, printed as its share of the row's
  column `of` (`protect_rate`; `attribute_rate` also hides 0 % and 100 % of a group of people).
- `median`: a statistic of the `of` people or cases, `–` when they are fewer than the
  threshold.
- `derived` (sentences only): a figure or words computed from other columns of the row,
  named in the column's `from` list (the change between two shares, say); `[c]` when any of
  them is suppressed and `–` when any has no figure, so a hidden count cannot be recovered
  from it.
- `change` (sentences only): a change between two counts (its size, its sign or the words
  "rose", "fell", "more than doubled"), `from: [now, before]`, both count columns under a
  count rule. It prints only when both counts publish under the same primary and secondary
  suppression the tables apply (their relations below, or the counts a caller passes as
  `protected`, suppressed with the table that prints them), and `–` when the earlier count
  is zero: a change beside one known count, or between two small ones, would tell the other.

Counts that add up to a total (the column `meta` names a `relation`, e.g. the routes by
which crimes entered the profile) are suppressed as the table that prints them is: every column
of the model in that relation, in YAML order, with their total, through `protect_series`
(primary and secondary suppression), whether or not the sentence prints them all, so a
sentence never shows a count the table hides. A rate over such a count uses the suppressed
count; the column `meta` of their total names the relation under `total_of`.

A caller may pass `protected`: counts of the row it has already suppressed with the table
that prints them (secondary suppression across rows the sentence does not hold); they print,
and rest under `rate` and `change`, as the table shows them.

A sentence whose `{column}` placeholders all publish is `complete`. A model gives a sentence
several variants (rows in order, the fuller wording first); `first_complete` prints the first
complete one, so words that rest on a hidden figure never print. A `{column?}` placeholder
prints its mark (`[c]`, or `–` for no figure) in place and leaves the variant complete: for a
sentence that has always printed the mark rather than fall back to other words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from pipelines.disclosure.suppression import (
    MISSING,
    SUPPRESSED,
    TOTAL,
    Count,
    is_primary,
    protect_series,
)
from pipelines.quarters import Periods
from pipelines.report.printed import (
    Figure3,
    PrintedColumn,
    compared_frames,
    comparison_table,
    declared_columns,
    described_column,
    published_cell,
)

COUNT_RULES = ("count", "subset")
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)(\??)\}")


class SentenceTemplateError(ValueError):
    """A template names a column that is not described, or holds a stray brace."""


@dataclass(frozen=True)
class FilledSentence:
    text: str
    complete: bool  # every placeholder published: none suppressed, none missing


def placeholders(template: str) -> list[str]:
    """The column names a template prints, in order of first appearance."""
    if PLACEHOLDER.sub("", template).count("{") or PLACEHOLDER.sub("", template).count("}"):
        raise SentenceTemplateError(f"stray brace in sentence template {template!r}")
    return list(dict.fromkeys(name for name, _ in PLACEHOLDER.findall(template)))


def _rule(model: str, name: str) -> PrintedColumn:
    column = described_column(model, name)
    if column.kind is None:  # a template names a column its YAML does not describe
        raise SentenceTemplateError(f"{model}.{name}: not declared with a kind")
    if column.numeric and column.disclosure is None:
        raise SentenceTemplateError(f"{model}.{name}: a printed figure needs a disclosure rule")
    if column.disclosure == "change" and (
        len(column.derived_from) != 2
        or any(_rule(model, count).disclosure not in COUNT_RULES for count in column.derived_from)
    ):
        raise SentenceTemplateError(f"{model}.{name}: a change names its two counts in `from`")
    return column


def _relations(model: str, row: Mapping[str, Any], k: int) -> dict[str, Count]:
    """Every count of the row in a relation, and the relation's total, suppressed together."""
    members: dict[str, list[str]] = {}
    totals: dict[str, str] = {}
    for name, meta in declared_columns(model).items():
        if meta.get("relation") is not None and name in row:
            members.setdefault(meta["relation"], []).append(name)
        if meta.get("total_of") is not None and name in row:
            totals[meta["total_of"]] = name
    protected: dict[str, Count] = {}
    for relation, names in members.items():
        table = protect_series({name: int(row[name] or 0) for name in names}, k)
        protected.update({name: table.count(name, "count") for name in names})
        if relation in totals:
            protected[totals[relation]] = table.count(TOTAL, "count")
    return protected


def _published(
    model: str, name: str, row: Mapping[str, Any], k: int, protected: Mapping[str, Count]
) -> str:
    column = _rule(model, name)
    sources = [_published(model, source, row, k, protected) for source in column.derived_from]
    if SUPPRESSED in sources:
        return SUPPRESSED
    if MISSING in sources:
        return MISSING
    return published_cell(row, column, k, protected)


def fill_sentence(
    model: str,
    row: Mapping[str, Any],
    k: int,
    template_column: str = "template",
    protected: Mapping[str, Count] | None = None,
) -> FilledSentence:
    """The row's template with every placeholder printed under its column's rule (`protected`:
    see the module docstring)."""
    template = row[template_column]
    protected = _relations(model, row, k) | dict(protected or {})
    printed = {name: _published(model, name, row, k, protected) for name in placeholders(template)}
    required = {name for name, optional in PLACEHOLDER.findall(template) if not optional}
    complete = not any(printed[name] in (SUPPRESSED, MISSING) for name in required)
    return FilledSentence(PLACEHOLDER.sub(lambda m: printed[m.group(1)], template), complete)


def first_complete(
    model: str,
    variants: Iterable[Mapping[str, Any]],
    k: int,
    protected: Mapping[str, Count] | None = None,
) -> str | None:
    """The first complete variant (rows in the model's order); None when there is none."""
    for row in variants:
        filled = fill_sentence(model, row, k, protected=protected)
        if filled.complete:
            return filled.text
    return None


def model_rows(
    con: duckdb.DuckDBPyConnection, model: str, where: str, params: Sequence[object]
) -> list[dict[str, Any]]:
    """Rows of reporting.<model> as dicts (no figure turned into a float NaN on the way)."""
    result = con.execute(f"select * from reporting.{model} where {where}", list(params))
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def variants_by_kind(
    con: duckdb.DuckDBPyConnection, model: str, quarter: str | None
) -> dict[str, list[dict[str, Any]]]:
    """Every sentence kind's rows of reporting.<model> for `quarter` (or the delivery's, quarter
    null), each kind's in variant order. One query for all the kinds a document prints (the
    profile asks for ~20; a query of DuckDB costs milliseconds however few rows it returns)."""
    where = "quarter = ? or quarter is null order by variant_order"
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for row in model_rows(con, model, where, [quarter]):
        by_kind.setdefault(row["sentence_kind"], []).append(row)
    return by_kind


def published_sentence(
    con: duckdb.DuckDBPyConnection, model: str, kind: str, quarter: str | None, k: int
) -> str | None:
    """Sentence `kind` of reporting.<model> for `quarter` (or the delivery's, quarter null):
    its first complete variant."""
    return first_complete(model, variants_by_kind(con, model, quarter).get(kind, []), k)


def table_protected(
    con: duckdb.DuckDBPyConnection,
    row: Mapping[str, Any],
    periods: Periods,
    k: int,
    tables: dict[tuple[str, str], dict[str, Figure3]],
) -> dict[str, Count]:
    """An assessment signal's counts (a row of rpt_assessment_sentences) as the profile table
    that also prints them shows them (primary and secondary suppression of that table), so no
    sentence prints a count the table hides. `tables`: each table worked out once per page."""
    if row["table_model"] is None:
        return {}
    key = (row["table_model"], row["table_name"])
    if key not in tables:
        frames = compared_frames(con, row["table_model"], periods.columns)
        rows = comparison_table(*frames[row["table_name"]], periods, k)
        tables[key] = {figure.label: figure for figure in rows}
    figure = tables[key].get(row["table_category"])
    if figure is None:
        return {}
    before = figure.previous if row["comparison"] == "previous quarter" else figure.year_ago
    counts = (figure.now, figure.previous, figure.year_ago, before)
    names = ("now_numerator", "previous_numerator", "year_ago_numerator", "before_numerator")
    return {
        name: Count(int(row[name]), count.suppressed or is_primary(int(row[name]), k))
        for name, count in zip(names, counts, strict=True)
        if row[name] is not None
    }
