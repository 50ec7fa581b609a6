"""One dbt parse serves every warehouse: the profile holds constants and the run's warehouse is
attached by the dbt-duckdb plugin (pipelines/dbt_warehouse.py), where the file lives."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.dbt_project import dbt_project, prepare, run_dbt


def test_one_parse_serves_every_warehouse(tmp_path: Path) -> None:
    prepare()
    parse_state = dbt_project.manifest_path.parent / "partial_parse.msgpack"
    parsed_at = parse_state.stat().st_mtime_ns
    for name in ("first.duckdb", "second.duckdb.next"):
        warehouse = tmp_path / name
        run_dbt(
            "seed",
            "--select",
            "offence_codes",
            warehouse=warehouse,
            target_path=tmp_path / f"target-{name}",
            log_path=tmp_path / f"target-{name}",
        )
        # Built in the file asked for, under the fixed catalog name the manifest holds; and
        # dbt let go of the file (a read-only connection in the same process would be refused
        # while dbt's own connection, configured otherwise, held it).
        with duckdb.connect(str(warehouse), read_only=True) as con:
            codes = con.execute("select count(*) from reference.offence_codes").fetchone()[0]
        assert codes > 0
        assert not (tmp_path / "warehouse.duckdb").exists()
    # No warehouse cost a parse of its own.
    assert parse_state.stat().st_mtime_ns == parsed_at


def test_manifest_names_the_fixed_catalog_not_a_file() -> None:
    import json

    manifest = json.loads(prepare().read_text())
    databases = {node["database"] for node in manifest["nodes"].values() if node.get("database")}
    assert databases == {"warehouse"}
