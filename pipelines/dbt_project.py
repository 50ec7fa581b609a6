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
from pipelines.settings import Settings, dbt_vars, load_settings


def dbt_executable() -> str:
    """The venv's dbt, found beside the running interpreter even when the venv is not activated."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


DBT_TARGET = os.environ.get("SPP_DBT_TARGET", "dev")


def dbt_command(
    command: str,
    *args: str,
    variables: dict | None = None,
    target: str = DBT_TARGET,
    target_path: Path | None = None,
    log_path: Path | None = None,
) -> list[str]:
    """The dbt command line of every dbt run outside Dagster's dbt steps (parse, evaluations,
    benchmarks, test fixtures): this project, its profiles, one target and the settings as
    --vars (`variables`, default: the settings file), so each caller only says what differs."""
    line = [
        dbt_executable(),
        command,
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROFILES_DIR),
        "--target",
        target,
        "--vars",
        json.dumps(dbt_vars(load_settings()) if variables is None else variables),
    ]
    if target_path is not None:
        line += ["--target-path", str(target_path)]
    if log_path is not None:
        line += ["--log-path", str(log_path)]
    return line


dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROFILES_DIR,
    target=DBT_TARGET,
)


def _parse_stamp(settings: Settings) -> str:
    """What dbt's partial-parse check hashes besides the files: the vars and the target (the
    profile's connection values are constants: the warehouse is attached by a plugin,
    pipelines/dbt_warehouse.py). If either differs from the last parse, every `dbt build` would
    re-parse the whole project."""
    return json.dumps({"target": DBT_TARGET, "vars": dbt_vars(settings)}, sort_keys=True)


def prepare(settings: Settings | None = None, force: bool = False) -> Path:
    """Write target/manifest.json with `dbt parse` unless it is newer than every dbt file and
    was parsed for the same vars: one parse per project version and settings, which every
    warehouse's runs reuse (their partial parse starts from it)."""
    manifest = dbt_project.manifest_path
    stamp_file = manifest.parent / "spp_parse_stamp.json"
    settings = settings or load_settings()
    stamp = _parse_stamp(settings)
    # Walk the project's own folders only: target/ gains a folder per dbt invocation.
    skip = {"target", "dbt_packages", "logs"}
    sources = [
        p
        for top in DBT_PROJECT_DIR.iterdir()
        if top.name not in skip
        for p in ([top] if top.is_file() else top.rglob("*"))
        if p.is_file()
    ] + list(DBT_PROFILES_DIR.glob("*.yml"))
    newest = max(p.stat().st_mtime for p in sources)
    partial_parse = manifest.parent / "partial_parse.msgpack"
    stale = (
        force
        or not manifest.exists()
        or manifest.stat().st_mtime < newest
        or not stamp_file.exists()
        or stamp_file.read_text() != stamp
        # Something else parsed into target/ after us (a hand-run dbt command with another
        # target or vars): its parse state would make every run parse the project again.
        or (partial_parse.exists() and partial_parse.stat().st_mtime > stamp_file.stat().st_mtime)
    )
    if stale:
        env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        # The same vars as the runs (dbt_command's default), so their partial parse reuses it.
        variables = dbt_vars(settings)
        subprocess.run(dbt_command("parse", "--quiet", variables=variables), check=True, env=env)
        stamp_file.write_text(stamp)
    return manifest


# dagster-dbt gives every dbt invocation its own folder under target/ (compiled SQL, run
# results, logs: ~6 MB each, two per run). The newest few are kept for debugging.
KEEP_INVOCATION_TARGETS = 6


def prune_invocation_targets(keep: int = KEEP_INVOCATION_TARGETS) -> int:
    """Remove all but the newest `keep` per-invocation folders under target/; returns how many
    were removed."""
    target = dbt_project.manifest_path.parent
    if not target.is_dir():
        return 0
    folders = sorted(
        (p for p in target.iterdir() if p.is_dir() and p.name.startswith("dbt_")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    return max(len(folders) - keep, 0)


if __name__ == "__main__":
    if sys.argv[1:] == ["prepare"]:
        print(f"dbt manifest: {prepare()}")
    else:
        sys.exit("usage: python -m pipelines.dbt_project prepare")
