"""replace_table writes a frame already in its table's declared order without sorting it, and
sorts every other frame: the same table either way, row for row."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines.warehouse_tables import _in_declared_order, replace_table

DENSITY = "marts.hotspot_density"  # declared order: quarter, cell_id


def _density(quarters: list[str], cells: list[str]) -> pd.DataFrame:
    rows = [(q, c) for q in quarters for c in cells]
    return pd.DataFrame(
        {
            "quarter": [q for q, _ in rows],
            "cell_id": [c for _, c in rows],
            "latitude": np.linspace(50, 51, len(rows)),
            "longitude": np.linspace(-1, 0, len(rows)),
            "density_per_km2": np.arange(len(rows), dtype=float),
            "bandwidth_m": 500.0,
        }
    )


def _written(frame: pd.DataFrame) -> list[tuple]:
    con = duckdb.connect()
    replace_table(con, DENSITY, frame)
    return con.execute(f"select * from {DENSITY}").fetchall()  # storage order, no ORDER BY


def _as_categories(frame: pd.DataFrame, categories: dict[str, list[str]]) -> pd.DataFrame:
    out = frame.copy()
    for column, values in categories.items():
        out[column] = pd.Categorical(out[column], categories=values)
    return out


def test_a_frame_in_order_is_written_as_it_comes_and_equals_the_sorted_table() -> None:
    # "E10" < "E9" as strings: the declared order is the strings', not the numbers'
    frame = _density(["2026-Q2", "2026-Q3"], ["E10", "E2", "E9"])
    ordered = _as_categories(
        frame, {"quarter": ["2026-Q2", "2026-Q3"], "cell_id": ["E10", "E2", "E9"]}
    )
    assert _in_declared_order(ordered, ["quarter", "cell_id"])
    shuffled = frame.sample(frac=1, random_state=3)  # strings, out of order: DuckDB sorts
    assert not _in_declared_order(shuffled, ["quarter", "cell_id"])
    assert _written(ordered) == _written(shuffled) == _written(frame)


@pytest.mark.parametrize(
    "case",
    ["rows out of order", "categories out of order", "repeated key", "missing value", "strings"],
)
def test_any_other_frame_is_sorted(case: str) -> None:
    frame = _density(["2026-Q2", "2026-Q3"], ["E1", "E2", "E3"])
    categories = {"quarter": ["2026-Q2", "2026-Q3"], "cell_id": ["E1", "E2", "E3"]}
    if case == "rows out of order":
        frame = frame.iloc[[1, 0, 2, 3, 4, 5]].reset_index(drop=True)
    elif case == "categories out of order":
        # codes increase, strings do not: E3 (code 0) before E1 (code 1)
        frame = frame.iloc[[2, 0, 1, 5, 3, 4]].reset_index(drop=True)
        categories["cell_id"] = ["E3", "E1", "E2"]
    elif case == "repeated key":
        frame = frame.iloc[[0, 0, 1, 2, 3, 4, 5]].reset_index(drop=True)
    elif case == "missing value":
        frame.loc[5, "cell_id"] = None
    checked = frame if case == "strings" else _as_categories(frame, categories)
    assert not _in_declared_order(checked, ["quarter", "cell_id"])
    rows = _written(checked)
    assert rows == sorted(rows, key=lambda r: (r[0], r[1] is None, r[1] or ""))


@pytest.mark.parametrize("keeps_order", [True, False])
def test_an_ordered_frame_is_sorted_where_the_connection_may_not_keep_its_order(
    keeps_order: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines import warehouse_tables

    frame = _density(["2026-Q2", "2026-Q3"], ["E1", "E2", "E3"])
    ordered = _as_categories(
        frame, {"quarter": ["2026-Q2", "2026-Q3"], "cell_id": ["E1", "E2", "E3"]}
    )
    statements: list[str] = []
    create_sql = warehouse_tables.create_sql

    def recorded(*args: object, **kwargs: object) -> str:
        statements.append(create_sql(*args, **kwargs))  # type: ignore[arg-type]
        return statements[-1]

    monkeypatch.setattr(warehouse_tables, "create_sql", recorded)
    con = duckdb.connect()
    # a connection with preserve_insertion_order off may return a select's rows in any order
    con.execute(f"set preserve_insertion_order = {str(keeps_order).lower()}")
    replace_table(con, DENSITY, ordered)
    assert statements[0].endswith("order by quarter, cell_id") is not keeps_order
