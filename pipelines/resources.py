"""Dagster resources: the DuckDB warehouse and the run's folders (dbt runs in-process through
pipelines/dbt_project.py and needs no resource)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from pipelines import run_safety
from pipelines.paths import default_output_dir, default_warehouse
from pipelines.settings import Settings, load_settings, settings_path
from pipelines.warehouse_connection import duckdb_connection_config, escape_sql_string


class Warehouse(DuckDBResource):
    """The run's DuckDB warehouse, held by the run from its start to its end.

    `spp profile` locks the live warehouse and works on a copy of it; a run started from the
    Dagster UI (or `dagster asset materialize`) works on the warehouse itself, so it takes the
    same lock here: a second run on a warehouse in use, from either side, is refused at once
    with the holder's pid rather than meeting DuckDB's file lock half-way through. With the
    in-process executor the resource is set up once per run, so the lock spans every step.

    During a run the Python steps share one open database: each `get_connection()` is a new
    connection (cursor) to it, with its own session, closed at the end of the block, and the
    database itself stays open until a dbt step needs the file (`release`: dbt-duckdb opens it
    in an instance of its own, and DuckDB allows one per file) or the run ends. A run opened
    and closed the file 22 times, each close a checkpoint; now once per stretch of Python steps
    between dbt steps. What each step reads and writes is the same: its statements commit as
    they did, and the release checkpoints them before dbt opens the file."""

    _held: contextlib.AbstractContextManager[Any] | None = PrivateAttr(default=None)
    _connection: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)
    _sharing: bool = PrivateAttr(default=False)

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Warehouse]:
        with run_safety.warehouse_lock(Path(self.database)):
            self._sharing = True
            try:
                yield self
            finally:
                self._sharing = False
                self.release()

    @contextlib.contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if not self._sharing:
            with super().get_connection() as con:
                yield con
            return
        if self._connection is None:
            # Opened as DuckDBResource opens it (its configuration, its retries).
            self._held = super().get_connection()
            self._connection = self._held.__enter__()
        cursor = self._connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
            # A step may raise DuckDB's memory limit for itself (ingest's loads): settings are
            # the database's, so the next step gets the configured limit back, as it did from a
            # database of its own.
            limit = self.connection_config.get("memory_limit")
            if limit:
                self._connection.execute(f"set memory_limit = '{escape_sql_string(limit)}'")

    def release(self) -> None:
        """Close the shared database (DuckDB checkpoints it): before dbt opens the file, and at
        the end of the run. The next `get_connection()` opens it again."""
        held, self._held, self._connection = self._held, None, None
        if held is not None:
            held.__exit__(None, None, None)


def release_warehouse(resource: DuckDBResource) -> None:
    """Let go of the warehouse file before another DuckDB instance opens it (a dbt step)."""
    if isinstance(resource, Warehouse):
        resource.release()


class ProfileRun(dg.ConfigurableResource):
    """Where this run reads its extracts and writes its published files."""

    extracts_dir: str
    output_dir: str
    # ISO date the run treats as "today" (future-date rules); empty = the real date.
    run_date: str = ""
    # Publish even when an extract's quarantine is above the configured limits (the force
    # knows why); the limits' breaches are still logged.
    accept_quarantine: bool = False
    # The settings file this run uses (validated once; every asset reads it from here).
    config_file: str = ""

    def settings(self) -> Settings:
        return load_settings(Path(self.config_file) if self.config_file else None)

    def today(self) -> dt.date:
        return dt.date.fromisoformat(self.run_date) if self.run_date else dt.date.today()

    def quarter_dir(self, quarter: str) -> Path:
        path = Path(self.output_dir) / quarter
        path.mkdir(parents=True, exist_ok=True)
        return path


def build_resources(
    extracts_dir: Path | None = None,
    output_dir: Path | None = None,
    warehouse: Path | None = None,
    run_date: str = "",
    accept_quarantine: bool = False,
    config_file: Path | None = None,
) -> dict[str, object]:
    warehouse = Path(warehouse or default_warehouse())
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return {
        "duckdb": Warehouse(
            database=str(warehouse), connection_config=duckdb_connection_config(warehouse)
        ),
        "profile_run": ProfileRun(
            # `dagster dev` has no CLI options: it takes the folders from the environment.
            extracts_dir=str(extracts_dir or os.environ.get("SPP_EXTRACTS_DIR", "")),
            output_dir=str(output_dir or default_output_dir()),
            run_date=run_date,
            accept_quarantine=accept_quarantine,
            # `dagster dev` has no --config either: SPP_CONFIG, else the defaults.
            config_file=str(Path(config_file).resolve() if config_file else settings_path()),
        ),
    }
