"""Read access to the warehouse for the report: a DuckDB connection plus table discovery, so
a section can say "not available" instead of failing when an optional table is missing."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd


@dataclass
class Warehouse:
    con: duckdb.DuckDBPyConnection
    _tables: set[str] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        rows = self.con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
        self._tables = {r[0] for r in rows}

    def has(self, *tables: str) -> bool:
        return all(t in self._tables for t in tables)

    def columns(self, table: str) -> set[str]:
        schema, name = table.split(".", 1)
        rows = self.con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchall()
        return {r[0] for r in rows}

    def find(self, schema: str, *needles: str) -> str | None:
        """First table of `schema` whose name contains all the needles (sorted, stable)."""
        for table in sorted(self._tables):
            s, name = table.split(".", 1)
            if s == schema and all(n in name for n in needles):
                return table
        return None

    def df(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def scalar(self, sql: str, params: list | None = None):
        row = self.con.execute(sql, params or []).fetchone()
        return None if row is None else row[0]
