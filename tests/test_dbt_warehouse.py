"""One dbt parse serves every warehouse: the profile holds constants and the run's warehouse is
attached by the dbt-duckdb plugin (pipelines/dbt_warehouse.py), where the file lives."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import duckdb

from pipelines.dbt_project import dbt_command, dbt_project, prepare


def _seed_into(warehouse: Path, target: Path) -> subprocess.CompletedProcess[str]:
    """`dbt seed` of one seed into `warehouse`, starting from the project's parse state as
    dagster-dbt does for each of its invocations (a copy of partial_parse.msgpack)."""
    target.mkdir(parents=True)
    shutil.copy(dbt_project.manifest_path.parent / "partial_parse.msgpack", target)
    env = {**os.environ, "SPP_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = dbt_command("seed", "--select", "offence_codes", target_path=target)
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def test_one_parse_serves_every_warehouse(tmp_path: Path) -> None:
    prepare()
    for name in ("first.duckdb", "second.duckdb.next"):
        warehouse = tmp_path / name
        proc = _seed_into(warehouse, tmp_path / f"target-{name}")
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, output[-2000:]
        assert "Unable to do partial parsing" not in output, output[-2000:]
        # Built in the file asked for, under the fixed catalog name the manifest holds.
        with duckdb.connect(str(warehouse), read_only=True) as con:
            codes = con.execute("select count(*) from reference.offence_codes").fetchone()[0]
        assert codes > 0
        assert not (tmp_path / "warehouse.duckdb").exists()


def test_manifest_names_the_fixed_catalog_not_a_file() -> None:
    import json

    manifest = json.loads(prepare().read_text())
    databases = {node["database"] for node in manifest["nodes"].values() if node.get("database")}
    assert databases == {"warehouse"}
