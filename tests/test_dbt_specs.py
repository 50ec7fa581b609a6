"""The dbt steps' asset specs built without dbt-core at start-up (pipelines/dbt_specs.py) are
the ones dagster-dbt builds with dbt-core, and a run's process leaves dbt-core for its steps."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.dbt_specs import CACHE_NAME, selected_unique_ids
from pipelines.paths import PROJECT_ROOT

# Each dbt step's assets, checks, dependencies, dbt selection (op tags), groups and metadata
# names, as the code location builds them; `core` imports dbt-core first, as a process that ran
# dbt before importing the definitions does.
_DUMP = """
import json, logging, sys
if sys.argv[1] == "core":
    import dbt.version
from pipelines.assets import transform
from dagster_dbt.compat import DBT_PYTHON_VERSION
from dagster_shared.libraries import DagsterLibraryRegistry
out = {"dbt_core_at_import": DBT_PYTHON_VERSION is not None,
       "libraries": {k: v for k, v in DagsterLibraryRegistry.get().items() if "dbt" in k},
       "dbt_modules": sorted(m for m in sys.modules if m == "dbt" or m.startswith("dbt."))[:3]}
for step in (transform.dbt_staging, transform.dbt_analytics, transform.dbt_reporting):
    out[step.op.name] = {
        "keys": sorted(k.to_user_string() for k in step.keys),
        "checks": sorted(c.to_user_string() for c in step.check_keys),
        "deps": {k.to_user_string(): sorted(d.to_user_string() for d in v)
                 for k, v in step.asset_deps.items()},
        "tags": dict(step.op.tags),
        "groups": {k.to_user_string(): v for k, v in step.group_names_by_key.items()},
        "metadata": {k.to_user_string(): sorted(m) for k, m in step.metadata_by_key.items()},
    }
print(json.dumps(out, sort_keys=True))
"""


def _specs(mode: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _DUMP, mode],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
    )
    return json.loads(done.stdout)


def test_specs_without_dbt_core_are_dagster_dbts_own() -> None:
    light, core = _specs("light"), _specs("core")
    assert light.pop("dbt_core_at_import") is False
    assert light.pop("dbt_modules") == []  # nothing of dbt-core imported at start-up
    assert core.pop("dbt_core_at_import") is True
    core.pop("dbt_modules")
    assert light == core
    # The code location's library versions name dbt-core both ways.
    assert "dbt-core" in light.pop("libraries") and "dbt-fusion" not in core.pop("libraries")
    # Not four empty steps: each selects its part of the project.
    sizes = {step: len(specs["keys"]) for step, specs in light.items()}
    assert all(sizes.values()), sizes
    assert len({k for specs in light.values() for k in specs["keys"]}) == sum(sizes.values())


def test_selections_are_kept_per_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    shutil.copy(PROJECT_ROOT / "dbt_project" / "target" / "manifest.json", manifest)
    staging = ("resource_type:seed staging tag:before_resolution", "", "")
    first = selected_unique_ids(manifest, [staging])[staging]
    cache = json.loads((tmp_path / CACHE_NAME).read_text("utf-8"))
    assert sorted(cache["selections"][json.dumps(list(staging))]) == sorted(first)
    assert any(unique_id.startswith("model.") for unique_id in first)
    assert any(unique_id.startswith("seed.") for unique_id in first)

    # A cached answer is used as long as the manifest is the same file...
    cache["selections"][json.dumps(list(staging))] = ["model.planted"]
    (tmp_path / CACHE_NAME).write_text(json.dumps(cache), "utf-8")
    assert selected_unique_ids(manifest, [staging])[staging] == ["model.planted"]
    # ...and evaluated again once the manifest changes.
    manifest.write_bytes(manifest.read_bytes() + b"\n")
    assert sorted(selected_unique_ids(manifest, [staging])[staging]) == sorted(first)


@pytest.mark.parametrize("first_import", ["dbt.cli.main", "pipelines.dbt_project"])
def test_importing_dbt_core_leaves_the_root_logger(first_import: str) -> None:
    """dbt-core adds a handler to the root logger on import (every library's warnings would
    reach the console); the process's own dbt import takes it off again."""
    code = (
        "import logging, sys, importlib\n"
        f"importlib.import_module({first_import!r})\n"
        "from pipelines.dbt_specs import import_dbt_core\n"
        "import_dbt_core()\n"
        "print(len(logging.getLogger().handlers))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    handlers = int(done.stdout.strip())
    # Importing dbt.cli.main directly, as dbt's own scripts do, adds it: the check can fail.
    assert handlers == (1 if first_import == "dbt.cli.main" else 0)
