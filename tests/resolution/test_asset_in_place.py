"""The resolution asset inside a Dagster run, reading its mentions in place (the national path:
the run's shared database released, the warehouse file attached read-only) and to Arrow (every
force): the same tables written either way."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

import pipelines.resolution as resolution
from pipelines.assets.resolution import person_resolution
from pipelines.resources import ProfileRun, Warehouse

TABLES = ("person_records", "dim_persons", "person_match_evidence", "person_links")


def _run(tmp_path: Path, name: str, rows: pd.DataFrame) -> Path:
    warehouse = tmp_path / f"{name}.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.register("rows_df", rows)
        con.execute("create schema intermediate")
        con.execute("create table intermediate.int_person_mentions as select * from rows_df")
    result = dg.materialize(
        [person_resolution],
        resources={
            "duckdb": Warehouse(database=str(warehouse)),
            "profile_run": ProfileRun(extracts_dir=str(tmp_path), output_dir=str(tmp_path)),
        },
        partition_key="2025-Q3",
    )
    assert result.success
    return warehouse


def test_the_asset_writes_the_same_people_reading_in_place_or_to_arrow(
    tmp_path, small_rows: pd.DataFrame, monkeypatch
) -> None:
    to_arrow = _run(tmp_path, "arrow", small_rows)
    real = resolution.mentions_input
    inputs = []

    def in_place(con, database, config, **kwargs):  # as if the input were national-sized
        found = real(con, database, dataclasses.replace(config, file_backed_from=1), **kwargs)
        inputs.append(found)
        return found

    monkeypatch.setattr(resolution, "mentions_input", in_place)
    read_in_place = _run(tmp_path, "in_place", small_rows)
    assert inputs == [resolution.WarehouseTable(str(read_in_place))]
    with duckdb.connect() as con:
        con.execute(f"attach '{to_arrow}' as a (read_only)")
        con.execute(f"attach '{read_in_place}' as b (read_only)")
        for table in TABLES:
            rows = con.execute(f"select count(*) from a.marts.{table}").fetchall()[0][0]
            assert rows > 0
            for x, y in (("a", "b"), ("b", "a")):
                differ = con.execute(
                    f"select count(*) from (select * from {x}.marts.{table} "
                    f"except all select * from {y}.marts.{table})"
                ).fetchall()[0][0]
                assert differ == 0, f"{table}: {differ} rows of {x} not in {y}"
