"""How a reporting model is printed, read from the model's own YAML
(`dbt_project/models/reporting/*.yml`); the keys it reads are listed in docs/DESIGN.md,
"The YAML keys a reporting model is printed by". Figures are compared across quarters (the
quarter, the previous one, the same quarter last year) already through disclosure control."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import numpy as np
import pandas as pd

from pipelines.disclosure import SUPPRESSED, Count
from pipelines.disclosure.suppression import (
    MISSING,
    TOTAL,
    Rate,
    is_primary,
    percent_text,
    rounded_half_up,
)
from pipelines.disclosure.tables import (
    RATE_RULES,
    cell_under_rule,
    counted_under_rule,
    is_missing,
    merged_split,
    protected_by_quarter,
    protected_together,
    suppress_across,
)
from pipelines.paths import DBT_PROJECT_DIR
from pipelines.quarters import Periods
from pipelines.yaml_files import load_yaml

REPORTING_MODELS = DBT_PROJECT_DIR / "models" / "reporting"
TEMPLATES = Path(__file__).resolve().parent / "templates"
NUMERIC_KINDS = ("count", "number", "rate")


# --------------------------------------------------------------------------- compared quarters
def change_text(now: Count | Rate, before: Count | Rate) -> str:
    """'+12%', '−3%', '0%' for counts; '+4 pts' for rates; [c] if either is suppressed."""
    if now.suppressed or before.suppressed:
        return SUPPRESSED
    if isinstance(now, Rate):
        if now.value is None or before.value is None:
            return "–"
        points = rounded_half_up((now.value - before.value) * 100)
        return f"{points:+f} pts".replace("-", "−")
    if now.value is None or not before.value:
        return "–"
    return percent_text((now.value - before.value) / before.value, signed=True).replace("-", "−")


@dataclass(frozen=True)
class Figure3:
    """One figure at the same quarter last year, the previous quarter and the quarter (the
    order of Periods.columns)."""

    label: str
    year_ago: Count
    previous: Count
    now: Count

    @property
    def vs_previous(self) -> str:
        return change_text(self.now, self.previous)

    @property
    def vs_year(self) -> str:
        return change_text(self.now, self.year_ago)


def comparison_table(
    frame: pd.DataFrame, order: list[str], periods: Periods, threshold: int
) -> list[Figure3]:
    """Each category at the three compared quarters, then the Total row, as suppressed with
    each quarter's total."""
    protected = protected_by_quarter(frame, periods.columns, threshold, order)
    return [
        Figure3(str(label), *(protected.count(label, q) for q in periods.columns))
        for label in [*order, TOTAL]
    ]


def merged_hidden_rows(
    rows: list[Figure3],
    threshold: int,
    printed: tuple[str, ...] | None = None,
) -> list[Figure3]:
    """A comparison table as printed with its Total: when the same two or more categories are
    hidden in every quarter and nothing else is, their sum is the printed total less the
    printed categories, which anyone can work out; they print as one row of that sum ("Male or
    other / not known") instead of a row of [c] each, which reads as a few. A table whose hidden
    rows change between quarters, or whose sum would itself be small, stays as it is.
    `printed`: the quarters the table prints (Figure3's fields; a table of the quarter and a
    year ago does not print the previous quarter)."""
    *categories, total = rows
    figures = printed or ("year_ago", "previous", "now")
    hidden = [f for f in categories if all(getattr(f, q).suppressed for q in figures)]
    shown = [f for f in categories if not any(getattr(f, q).suppressed for q in figures)]
    if len(hidden) < 2 or not shown or len(hidden) + len(shown) < len(categories):
        return rows  # with no row shown, the sum would be the total again
    if total.label != TOTAL:
        return rows
    if any(getattr(total, q).suppressed for q in figures):
        return rows
    sums = [sum(getattr(f, q).value for f in hidden) for q in figures]
    if any(is_primary(n, threshold) for n in sums):
        return rows
    label = hidden[0].label + "".join(
        f"{' or ' if i == len(hidden) - 1 else ', '}{_lower_first(f.label)}"
        for i, f in enumerate(hidden[1:], start=1)
    )
    merged = Figure3(
        label,
        # a quarter the table does not print is hidden with the rows it sums
        **{
            q: Count(sum(getattr(f, q).value for f in hidden), q not in figures)
            for q in ("year_ago", "previous", "now")
        },
    )
    first = categories.index(hidden[0])
    kept = [f for f in categories if f not in hidden]
    return [*kept[:first], merged, *kept[first:], total]


def _lower_first(label: str) -> str:
    """A category label inside a phrase: 'Other / not known' -> 'other / not known'; a label
    opening with an acronym or a figure stays as it is."""
    return label[0].lower() + label[1:] if label[:2].istitle() else label


# --------------------------------------------------------------------------- printed columns
@dataclass(frozen=True)
class PrintedColumn:
    name: str
    label: str
    kind: str
    wide: bool = False
    digits: int | None = None
    disclosure: str | None = None
    of: str | None = None  # the whole a rate, a subset or a median is taken over
    derived_from: tuple[str, ...] = ()  # a sentence's `derived` or `change`: what it rests on
    signed: bool = False  # a change: printed with its sign, "+12%" or "−3%"

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS


def _meta(entry: dict[str, Any]) -> dict[str, Any]:
    return (entry.get("config") or {}).get("meta") or {}


def model_meta(model: str) -> dict[str, Any]:
    """The `config.meta` of a reporting model: how it is printed (docs/DESIGN.md)."""
    return _meta(_models()[model])


@functools.cache
def _models() -> dict[str, dict[str, Any]]:
    models: dict[str, dict[str, Any]] = {}
    for path in sorted(REPORTING_MODELS.glob("*.yml")):
        document = load_yaml(path.read_text(encoding="utf-8")) or {}
        for model in document.get("models", []):
            models[model["name"]] = model
    return models


def declared_columns(model: str) -> dict[str, dict[str, Any]]:
    """Each column of `model` declared in its YAML, with its `config.meta`."""
    return {column["name"]: _meta(column) for column in _models()[model].get("columns", [])}


@functools.cache
def described_column(model: str, name: str) -> PrintedColumn:
    """Column `name` of `model` as its YAML describes it. Every declaration (kinds, rules and
    the columns they name, labels of printed views) is checked by tests/report/
    test_declarations.py, not here on every run."""
    meta = declared_columns(model).get(name) or {}
    keys = ("wide", "digits", "disclosure", "of", "signed")
    rules = {key: meta[key] for key in keys if key in meta}
    label, derived_from = meta.get("label", name), tuple(meta.get("from") or ())
    return PrintedColumn(name, label, meta.get("kind"), **rules, derived_from=derived_from)


@functools.cache
def printed_columns(model: str, view: str) -> tuple[PrintedColumn, ...]:
    """The columns of `model` that `view` prints, in order, with their labels and kinds."""
    labels = {
        name: (meta.get("label_in") or {}).get(view, meta.get("label"))
        for name, meta in declared_columns(model).items()
    }
    names = model_meta(model)["printed_as"][view]
    return tuple(replace(described_column(model, name), label=labels[name]) for name in names)


def printed_frame(frame: pd.DataFrame, columns: tuple[PrintedColumn, ...]) -> pd.DataFrame:
    """The printed columns of `frame` in order, decimals cut to each column's digits."""
    shown = frame[[column.name for column in columns]].copy()
    for column in columns:
        if column.digits is not None:
            shown[column.name] = shown[column.name].astype(float).round(column.digits)
    return shown


def cell_text(value: Any, column: PrintedColumn | None = None, missing: str = MISSING) -> str:
    """A cell as every output prints it: missing as `missing`, text (and [c]) as it is, a figure
    by its column's kind and digits; without a column (a restricted page's values) by the
    value's type: a flag yes / no, a date, a whole number as a count, others to one decimal."""
    if is_missing(value):
        return missing
    if isinstance(value, str):
        return value
    if column is None:
        column = PrintedColumn("", "", _kind_of(value), digits=1)
    if column.kind == "count":
        return f"{value:,.0f}"
    if column.kind == "rate":
        digits = column.digits if column.digits is not None else 1
        text = percent_text(value, digits, column.signed)
        return text.replace("-", "−") if column.signed else text
    if column.kind == "number":
        return f"{value:,.{column.digits if column.digits is not None else 2}f}"
    if column.kind == "date":
        return f"{value:%d %b %Y}"
    if column.kind == "flag":
        return "yes" if value else "no"
    return str(value)


@functools.cache
def environment() -> jinja2.Environment:
    """The one Jinja environment of every page the project writes; `cell` is cell_text."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = cell_text
    return env


def _kind_of(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "flag"
    if isinstance(value, dt.date):  # a Timestamp too
        return "date"
    if isinstance(value, float | np.floating) and not float(value).is_integer():
        return "number"
    return "count" if isinstance(value, int | float | np.number) else "text"


def published_cell(
    row: Mapping[str, Any],
    column: PrintedColumn,
    k: int,
    protected: Mapping[str, Count] | None = None,
) -> str:
    """A published cell: its figure through the column's disclosure rule
    (`pipelines.disclosure.tables.cell_under_rule`), else formatted by its kind."""
    shown = cell_under_rule(row, column, k, protected)
    return cell_text(row[column.name], column) if shown is None else shown


def printed_table(
    con: duckdb.DuckDBPyConnection,
    model: str,
    view: str,
    k: int,
    clause: str = "",
    params: Sequence[object] = (),
    headings: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A published table of reporting.<model> as its YAML describes it: the columns (labels,
    kinds) and the rows as text. `clause` filters and orders the rows (where / order by);
    `headings` fills the placeholders of labels that name a period (e.g. "{quarter}")."""
    columns = printed_columns(model, view)
    if headings:
        columns = tuple(replace(c, label=c.label.format_map(headings)) for c in columns)
    meta = model_meta(model)
    across = (meta.get("suppressed_across_rows") or {}).get(view)
    keys = [across["key"], *([across["within"]] if "within" in across else [])] if across else []
    if split := (meta.get("merged_split") or {}).get(view):
        keys += [split["key"], split["within"], split["label"]]
    read = dict.fromkeys([c.name for c in columns] + [c.of for c in columns if c.of] + keys)
    frame = con.execute(
        f"select {', '.join(read)} from reporting.{model} {clause}", list(params)
    ).df()
    total = (meta.get("total_row") or {}).get(view)
    in_rows = (meta.get("suppressed_in_rows") or {}).get(view, [])
    protected, totals = protected_together(frame, in_rows, total, k)
    records = frame.to_dict("records")
    if split:
        counts = [c.name for c in columns if c.disclosure == "count"]
        summed = [*counts, *(c.name for c in columns if c.disclosure in RATE_RULES)]
        records, protected = merged_split(records, counts, summed, split, k)
    rows = [
        [published_cell(row, c, k, shown) for c in columns]
        for row, shown in zip(records, protected, strict=True)
    ]
    if across:  # rows that add up to another printed row: a figure hidden in one is in all
        suppress_across(rows, records, across)
    if totals and "label" in total:  # without a label the total is suppressed, not printed
        cells = {**{name: str(count) for name, count in totals.items()}, total["label"]: TOTAL}
        rows.append([cells.get(c.name, "") for c in columns])
    return {"columns": columns, "rows": rows, "total": bool(totals) and "label" in total}


def quarter_figures(
    con: duckdb.DuckDBPyConnection, model: str, view: str, periods: Periods, k: int
) -> list[Figure3]:
    """Each column of `view` (of a model with one row per quarter) at the quarter, the
    previous one and a year ago, under its rule (`count`, `subset` of its `of` or `none`): the
    rows of a figure table, a quarter without a row counting zero."""
    frame = con.execute(
        f"select * from reporting.{model} where quarter in (?, ?, ?)", periods.columns
    ).df()
    rows = {row["quarter"]: row for row in frame.to_dict("records")}
    return [
        Figure3(
            column.label,
            *(
                counted_under_rule(rows[q], column, k) if q in rows else Count(0)
                for q in periods.columns
            ),
        )
        for column in printed_columns(model, view)
    ]


def read_by(output: str) -> dict[str, dict[str, str]]:
    """The reporting models an output prints several views of, by the name it reads each as:
    each model's `config.meta.read_by.<output>` (`as`, the rows kept: `where`, their `order`)."""
    read = {model: (model_meta(model).get("read_by") or {}).get(output) for model in _models()}
    return {spec["as"]: {"model": model, **spec} for model, spec in read.items() if spec}


def model_frames(
    con: duckdb.DuckDBPyConnection, output: str, params: Sequence[object] = ()
) -> dict[str, pd.DataFrame]:
    """Every column of the rows of the models `output` reads (`read_by`; `params` fill each
    one's `?`), by the name it reads each as."""
    return {
        name: con.execute(
            f"select * from reporting.{spec['model']} where {spec.get('where', 'true')} "
            f"order by {spec['order']}",
            list(params),
        ).df()
        for name, spec in read_by(output).items()
    }


NO_COUNTS = pd.DataFrame({"quarter": [], "cat": [], "n": pd.Series(dtype="int64")})


def compared_frames(
    con: duckdb.DuckDBPyConnection,
    model: str,
    quarters: Sequence[str] | None = None,
    where: str = "",
) -> defaultdict[str, tuple[pd.DataFrame, list[str]]]:
    """Each table of a category-by-quarter model (in the model's table order) as its rows
    (quarter, cat, n) and its categories in the model's order; a table without a row is
    empty. `quarters` and `where` keep the rows a section prints."""
    spec = model_meta(model)["compared_by_quarter"]
    conditions, params = ([where] if where else []), []
    if quarters is not None:
        conditions.append("quarter in (select unnest(?))")
        params.append(list(quarters))
    table = spec.get("tables", "''")  # a model of one table: its name is ""
    order = [spec.get("tables_order") or spec.get("tables"), spec["order"], "quarter"]
    frame = con.execute(
        f"select {table} as table_name, quarter, {spec['category']} as cat, "
        f"{spec['count']} as n from reporting.{model} "
        f"{'where ' + ' and '.join(conditions) if conditions else ''} "
        f"order by {', '.join(filter(None, order))}",
        params,
    ).df()
    tables = defaultdict(lambda: (NO_COUNTS, []))
    for name, part in frame.groupby("table_name", sort=False):
        tables[str(name)] = (part[["quarter", "cat", "n"]], list(dict.fromkeys(part["cat"])))
    return tables
