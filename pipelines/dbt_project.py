"""The dbt project as Dagster sees it, kept in its own module because dagster-dbt reads
manifest.json when the definitions are imported. `python -m pipelines.dbt_project prepare`
(run by tasks.py and the CLI) writes that manifest with `dbt parse`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from pipelines.paths import DBT_PROFILES_DIR, DBT_PROJECT_DIR
from pipelines.settings import dbt_vars, load_settings


def dbt_executable() -> str:
    """The venv's dbt, found beside the running interpreter even when the venv is not activated."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


DBT_TARGET = os.environ.get("SPP_DBT_TARGET", "dev")

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROFILES_DIR,
    target=DBT_TARGET,
)


def prepare(force: bool = False) -> Path:
    """Write target/manifest.json with `dbt parse` unless it is newer than every dbt file."""
    manifest = dbt_project.manifest_path
    sources = [
        p for p in DBT_PROJECT_DIR.rglob("*") if p.is_file() and "target" not in p.parts
    ] + list(DBT_PROFILES_DIR.glob("*.yml"))
    newest = max(p.stat().st_mtime for p in sources)
    if force or not manifest.exists() or manifest.stat().st_mtime < newest:
        env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--quiet",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROFILES_DIR),
                "--target",
                DBT_TARGET,
                # The same vars as the runs, so their partial parse reuses this one.
                "--vars",
                json.dumps(dbt_vars(load_settings())),
            ],
            check=True,
            env=env,
        )
    return manifest


if __name__ == "__main__":
    if sys.argv[1:] == ["prepare"]:
        print(f"dbt manifest: {prepare()}")
    else:
        sys.exit("usage: python -m pipelines.dbt_project prepare")
