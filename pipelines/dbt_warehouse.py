"""How dbt reaches the run's warehouse: a dbt-duckdb plugin (named in profiles/profiles.yml)
that attaches the DuckDB file of SPP_WAREHOUSE under the fixed catalog name `warehouse`.

Why not the profile's `path`: dbt keeps its partial parse only while the profile's connection
values stay the same (it hashes them), and every warehouse file, including the `<warehouse>.next`
of each CLI run, would then cost a full parse of the project (~10 s). The catalog name is fixed
for the same reason: dbt writes it into every node of the manifest. So the profile holds only
constants and one manifest serves every warehouse; the file is attached where it lives, so
DuckDB keeps its write-ahead log beside it.

Imported by dbt's process: keep it light (no Dagster, no pandas).
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from pipelines.paths import default_warehouse
from pipelines.warehouse_connection import (
    WAREHOUSE_CATALOG,
    duckdb_connection_config,
    escape_sql_string,
)

__all__ = ["WAREHOUSE_CATALOG", "Plugin", "duckdb_connection_config", "escape_sql_string"]


class Plugin(BasePlugin):
    """Attaches the run's warehouse (SPP_WAREHOUSE, else the default) as `warehouse` and makes
    it every cursor's default catalog, so unqualified names (raw.profile_run) resolve there."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.warehouse = default_warehouse().resolve()

    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        config.update(duckdb_connection_config(self.warehouse))

    def configure_connection(self, conn: Any) -> None:
        # Before the profile's own `attach` entries, whose IF NOT EXISTS then leaves this one.
        conn.execute(
            f"attach if not exists '{escape_sql_string(str(self.warehouse))}' "
            f"as {WAREHOUSE_CATALOG}"
        )
        conn.execute(f"use {WAREHOUSE_CATALOG}")

    def configure_cursor(self, cursor: Any) -> None:
        cursor.execute(f"use {WAREHOUSE_CATALOG}")
