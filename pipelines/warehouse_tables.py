"""The tables Python writes into the warehouse, created from their one declaration.

Resolution, hotspots and forecasting write marts tables that dbt then reads as sources. Their
columns and data types are declared once, in the dbt source files below (which also carry their
descriptions and tests); this module builds each table's DDL from that declaration, so a column
cannot exist in the writer and be missing from dbt's view of it, or the reverse.

`replace_table(con, "marts.hotspots", frame)` casts every declared column, refuses a frame that
lacks one or carries an undeclared one, and orders rows by `meta.order_by` (same inputs, same
table, byte for byte).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.paths import DBT_PROJECT_DIR
from pipelines.yaml_files import load_yaml

SOURCE_FILES = (
    DBT_PROJECT_DIR / "models" / "intermediate" / "persons" / "_resolution__sources.yml",
    DBT_PROJECT_DIR / "models" / "reporting" / "_python_marts__sources.yml",
    DBT_PROJECT_DIR / "models" / "intermediate" / "screening" / "_screening__sources.yml",
)

# Columns a table may carry beyond its declared ones, by name pattern: the match evidence has one
# weight column per comparison of the Splink model, which the model's settings decide.
OPEN_COLUMNS = {"marts.person_match_evidence": (re.compile(r"^mw_[a-z0-9_]+$"), "double")}


class TableShapeError(ValueError):
    """A Python writer produced a frame that does not match the table's declaration."""


@dataclass(frozen=True)
class TableSpec:
    name: str  # schema.table
    columns: tuple[tuple[str, str], ...]  # (column, data type)
    order_by: tuple[str, ...]
    source_file: str
    comment: str = ""

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]


@functools.cache
def python_tables(files: Sequence[Path] = SOURCE_FILES) -> dict[str, TableSpec]:
    """Every Python-written table declared in the source files, by schema.table."""
    specs: dict[str, TableSpec] = {}
    for path in files:
        document = load_yaml(Path(path).read_text(encoding="utf-8"))
        for source in document.get("sources", []):
            for table in source.get("tables", []):
                name = f"{source['schema']}.{table['name']}"
                columns = []
                for column in table.get("columns", []):
                    if "data_type" not in column:
                        raise TableShapeError(
                            f"{Path(path).name}: {name}.{column['name']} has no data_type"
                        )
                    columns.append((column["name"], str(column["data_type"])))
                meta = table.get("meta") or {}
                specs[name] = TableSpec(
                    name,
                    tuple(columns),
                    tuple(meta.get("order_by", [])),
                    Path(path).name,
                    str(meta.get("comment", "")),
                )
    return specs


def table_spec(name: str) -> TableSpec:
    try:
        return python_tables()[name]
    except KeyError:
        raise TableShapeError(
            f"{name} is not declared in {', '.join(p.name for p in SOURCE_FILES)}"
        ) from None


def create_sql(
    spec: TableSpec,
    relation: str,
    frame_columns: Sequence[str],
    keep_declared_only: bool = False,
    sort: bool = True,
) -> str:
    """CREATE OR REPLACE ... AS SELECT with every declared column cast to its type, ordered by
    `meta.order_by` (`sort` False: the rows are known to come in that order already)."""
    missing = [c for c in spec.column_names if c not in frame_columns]
    pattern, open_type = OPEN_COLUMNS.get(spec.name, (None, ""))
    if keep_declared_only:
        frame_columns = [c for c in frame_columns if c in spec.column_names]
    extra = [
        c
        for c in frame_columns
        if c not in spec.column_names and not (pattern and pattern.match(c))
    ]
    if missing or extra:
        raise TableShapeError(
            f"{spec.name} (declared in {spec.source_file}): "
            + "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"undeclared {', '.join(extra)}" if extra else "",
                )
                if part
            )
        )
    selected = [f'"{c}"::{t} as "{c}"' for c, t in spec.columns]
    selected += [
        f'"{c}"::{open_type} as "{c}"'
        for c in frame_columns
        if c not in spec.column_names and pattern
    ]
    order = f" order by {', '.join(spec.order_by)}" if spec.order_by and sort else ""
    return (
        f"create or replace table {spec.name} as select {', '.join(selected)} "
        f"from {relation}{order}"
    )


def replace_table(con: Any, name: str, frame: Any, keep_declared_only: bool = False) -> int:
    """Replace the Python-written table `name` (schema.table) with `frame` (pandas or Arrow);
    returns its row count. `keep_declared_only` drops the frame's other columns instead of
    refusing them (for a frame that carries working columns the table must not store)."""
    spec = table_spec(name)
    columns = list(frame.column_names if hasattr(frame, "column_names") else frame.columns)
    if not columns and not len(frame):
        # nothing computed at all (e.g. no series long enough to forecast): the declared
        # table, empty, rather than a frame DuckDB cannot register
        import pandas as pd

        frame = pd.DataFrame(columns=spec.column_names)
        columns = spec.column_names
    relation = "_spp_python_table"
    con.execute(f"create schema if not exists {spec.name.split('.')[0]}")
    # A frame whose rows already come in the declared order is written as it comes (DuckDB
    # keeps the insertion order of a select without ORDER BY): the same table without sorting
    # it (the national hotspot panel: 12.8 M rows, ~8 s of CPU to sort on its two strings).
    in_order = _in_declared_order(frame, spec.order_by) and _keeps_insertion_order(con)
    con.register(relation, frame)
    try:
        con.execute(create_sql(spec, relation, columns, keep_declared_only, sort=not in_order))
    finally:
        con.unregister(relation)
    if spec.comment:
        quoted = spec.comment.replace("'", "''")
        con.execute(f"comment on table {spec.name} is '{quoted}'")
    return int(con.execute(f"select count(*) from {spec.name}").fetchone()[0])


def _keeps_insertion_order(con: Any) -> bool:
    """Whether a select without ORDER BY returns its input's order on this connection (a
    connection that set preserve_insertion_order off may not: then the table is sorted)."""
    return bool(con.execute("select current_setting('preserve_insertion_order')").fetchall()[0][0])


def _in_declared_order(frame: Any, order_by: Sequence[str]) -> bool:
    """True when `frame` (pandas) is strictly increasing on the `order_by` columns, so that
    ORDER BY would return its rows as they are: each of them a categorical of sorted string
    categories with no missing value (its codes then sort as the strings do, in DuckDB's
    byte order too: UTF-8 orders bytes as code points), and no two rows with the same key (a
    tie's order after a sort is the sort's, not the frame's). Any other frame: False (sorted
    by DuckDB). O(rows) on the codes."""
    import numpy as np
    import pandas as pd

    if not order_by or not isinstance(frame, pd.DataFrame) or len(frame) < 2:
        return False
    codes = []
    for column in order_by:
        values = frame.get(column)
        if not isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
            return False
        categories = values.cat.categories
        if categories.inferred_type != "string" or not categories.is_monotonic_increasing:
            return False
        column_codes = values.cat.codes.to_numpy()
        if (column_codes < 0).any():
            return False
        codes.append(column_codes)
    # Row i+1 after row i on the whole key, from the last column to the first.
    after = codes[-1][1:] > codes[-1][:-1]
    for column_codes in reversed(codes[:-1]):
        later, earlier = column_codes[1:], column_codes[:-1]
        after = (later > earlier) | ((later == earlier) & after)
    return bool(np.all(after))
