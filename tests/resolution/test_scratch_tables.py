"""Scoring's tables are temporary: `_ScratchTablesDuckDBAPI` hooks a private Splink method.

If a Splink release renamed or stopped calling `_setup_for_execute_sql`, scoring would go on
working, with the same results, only writing its per-chunk tables into the database file again
(slower at national scale, silently). This test fails instead.
"""

from __future__ import annotations

import duckdb
from splink import DuckDBAPI

from pipelines.resolution.resolve import _ScratchTablesDuckDBAPI


def _is_temporary(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "select temporary from duckdb_tables() where table_name = ?", [name]
    ).fetchall()
    assert len(rows) == 1, f"{name}: expected one table, found {len(rows)}"
    return bool(rows[0][0])


def test_splink_materialises_through_the_hooked_method() -> None:
    con = duckdb.connect()
    api = _ScratchTablesDuckDBAPI(con)
    api._sql_to_splink_dataframe("select 1 as x", "scored", "__splink__scored")
    assert _is_temporary(con, "__splink__scored")
    assert con.execute("select x from __splink__scored").fetchall() == [(1,)]


def test_plain_splink_api_writes_a_lasting_table() -> None:
    # the control: without the hook the same call makes a table in the database file, so the
    # assertion above distinguishes the two
    con = duckdb.connect()
    DuckDBAPI(con)._sql_to_splink_dataframe("select 1 as x", "scored", "__splink__scored")
    assert not _is_temporary(con, "__splink__scored")


def test_a_repeated_table_is_replaced() -> None:
    # Splink drops a table of the same name before it writes one (each chunk reuses names)
    con = duckdb.connect()
    api = _ScratchTablesDuckDBAPI(con)
    api._sql_to_splink_dataframe("select 1 as x", "scored", "__splink__scored")
    api._sql_to_splink_dataframe("select 2 as x", "scored", "__splink__scored")
    assert con.execute("select x from __splink__scored").fetchall() == [(2,)]
