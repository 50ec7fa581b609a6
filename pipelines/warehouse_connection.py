"""How every DuckDB connection to the warehouse is configured (dbt's, through the plugin in
pipelines/dbt_warehouse.py, and the Python steps'), and the catalog name dbt builds into.

Apart from the plugin so that the run's resources can use it without importing dbt-core at
start-up (pipelines/dbt_specs.py)."""

from __future__ import annotations

import os
from pathlib import Path

# The catalog dbt builds into; profiles.yml names the same alias as the target's `database`.
WAREHOUSE_CATALOG = "warehouse"


def duckdb_connection_config(warehouse: Path) -> dict[str, str]:
    """Bounded memory, given to duckdb.connect once (dbt and the Python steps alike): DuckDB
    spills to temp_directory rather than failing. Not per-cursor `SET`s: once a query has
    spilled, DuckDB refuses to change temp_directory, which failed the national-scale run."""
    return {
        "memory_limit": os.environ.get("SPP_DUCKDB_MEMORY_LIMIT", "4GB"),
        "temp_directory": os.environ.get("SPP_DUCKDB_TEMP_DIR", f"{warehouse}.tmp"),
    }


def escape_sql_string(text: str) -> str:
    return text.replace("'", "''")
