"""dagster-dbt at start-up without dbt-core.

dagster-dbt builds the dbt steps' asset and check specs from manifest.json alone (the
translator, `build_dbt_specs`, the events it yields from dbt's node results), with one
exception: evaluating a step's dbt selection (`--select staging ...`), for which it uses dbt-core's
graph selector. But its `compat` module imports dbt-core whenever dbt-core is installed
(adapters, result and node classes: ~1.5 s of CPU, most of it compiling dbt's dataclasses),
and the selector another ~0.4 s, all before a run's first step, although dbt itself is only
needed when the first dbt step runs.

So a process that has not imported dbt-core yet imports dagster-dbt as dagster-dbt runs where
dbt-core is not installed (it supports that: `compat` then defines dbt's few enums itself, and
every spec and event comes from the manifest JSON as before); dbt-core stays importable for
the dbt steps. The one thing dagster-dbt cannot do that way, evaluating a selection, is done
by dagster-dbt itself with dbt-core in a helper process (`python -m pipelines.dbt_specs`), once
per manifest: the selected unique ids are kept beside the manifest (target/spp_selections.json,
keyed by the manifest's digest) and handed to `build_dbt_specs` in its place. A process that
has imported dbt-core already (a test that ran dbt first) imports dagster-dbt with it, and
dagster-dbt evaluates the selections itself. tests/test_dbt_specs.py checks that both ways
give the same specs.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import json
import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

# (select, exclude, selector) as dagster-dbt's `dbt_assets` passes them to `build_dbt_specs`.
Selection = tuple[str, str, str]

CACHE_NAME = "spp_selections.json"
_PROJECT_ROOT = Path(__file__).resolve().parent.parent


class _WithoutDbtCore(importlib.abc.MetaPathFinder):
    """While dagster-dbt is imported: `import dbt...` fails as it would without dbt-core."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname == "dbt" or fullname.startswith("dbt."):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def import_dagster_dbt() -> ModuleType:
    """The dagster_dbt package; imported without dbt-core unless this process has dbt-core."""
    if "dagster_dbt" not in sys.modules and "dbt" not in sys.modules:
        finder = _WithoutDbtCore()
        sys.meta_path.insert(0, finder)
        try:
            import dagster_dbt  # noqa: F401
        finally:
            sys.meta_path.remove(finder)
        _report_dbt_core()
    import dagster_dbt

    return dagster_dbt


def _report_dbt_core() -> None:
    """The code location's library versions (shown by Dagster's UI) name dbt-core, as they
    would had dagster-dbt imported it, not the dbt Fusion that dagster-dbt assumes when it finds
    no dbt-core (the registry has no call to remove an entry)."""
    from importlib.metadata import PackageNotFoundError, version

    from dagster_shared.libraries import DagsterLibraryRegistry

    try:
        dbt_core = version("dbt-core")
    except PackageNotFoundError:
        return
    DagsterLibraryRegistry._libraries.pop("dbt-fusion", None)
    DagsterLibraryRegistry.register("dbt-core", dbt_core, is_dagster_package=False)


def import_dbt_core() -> None:
    """Import dbt-core for a dbt invocation, leaving the root logger as it was. One of dbt's
    modules adds a handler to the root logger on import, which would print every library's
    warnings on the console; dagster-dbt's `compat` undoes it when it imports dbt-core itself,
    so this does the same when dbt-core comes later."""
    if "dbt.cli.main" in sys.modules:
        return
    root = logging.getLogger()
    handlers = [*root.handlers]
    try:
        import dbt.cli.main  # noqa: F401
    finally:
        root.handlers = handlers


def without_dbt_core() -> bool:
    """Whether this process's dagster-dbt was imported without dbt-core."""
    from dagster_dbt.compat import DBT_PYTHON_VERSION

    return DBT_PYTHON_VERSION is None


def _digest(manifest_path: Path) -> str:
    return hashlib.sha1(manifest_path.read_bytes()).hexdigest()


def _key(selection: Selection) -> str:
    return json.dumps(list(selection))


def selected_unique_ids(
    manifest_path: Path, selections: Sequence[Selection]
) -> dict[Selection, list[str]]:
    """Each selection's unique ids in this manifest, as dagster-dbt's `select_unique_ids`
    evaluates it with dbt-core: from target/spp_selections.json when it was written for this
    manifest, else from a helper process (which writes it)."""
    cache = manifest_path.parent / CACHE_NAME
    digest = _digest(manifest_path)
    known: dict[str, list[str]] = {}
    if cache.exists():
        try:
            stored = json.loads(cache.read_text("utf-8"))
        except ValueError:
            stored = {}
        if stored.get("manifest_sha1") == digest:
            known = stored.get("selections", {})
    if any(_key(selection) not in known for selection in selections):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
        )
        done = subprocess.run(
            [sys.executable, "-m", "pipelines.dbt_specs", str(manifest_path)],
            input=json.dumps([list(s) for s in selections]),
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"evaluating the dbt steps' selections failed:\n{done.stderr}")
        answer = json.loads(done.stdout)
        if answer["manifest_sha1"] == digest:
            known = {**known, **answer["selections"]}
            partial = cache.with_name(f"{CACHE_NAME}.{os.getpid()}")
            partial.write_text(
                json.dumps({"manifest_sha1": digest, "selections": known}, sort_keys=True),
                "utf-8",
            )
            partial.replace(cache)
        else:  # the manifest changed under us (another process parsed): use the answer anyway
            known = answer["selections"]
    return {selection: known[_key(selection)] for selection in selections}


def use_selections(manifest_json: Mapping[str, Any], known: Mapping[Selection, list[str]]) -> None:
    """Have `build_dbt_specs` take these selections' unique ids for this manifest (the dict
    dagster-dbt read from manifest.json) instead of evaluating them; any other selection or
    manifest goes to dagster-dbt's own `select_unique_ids` as before."""
    from dagster_dbt import asset_utils

    evaluate = getattr(asset_utils.select_unique_ids, "evaluate", asset_utils.select_unique_ids)
    ids = {selection: frozenset(unique_ids) for selection, unique_ids in known.items()}

    def select_unique_ids(
        select: str,
        exclude: str,
        selector: str,
        project: Any,
        manifest_json: Mapping[str, Any],
    ) -> set[str]:
        if manifest_json is manifest and (select, exclude, selector) in ids:
            return set(ids[(select, exclude, selector)])
        return evaluate(select, exclude, selector, project, manifest_json)

    manifest = manifest_json
    select_unique_ids.evaluate = evaluate  # type: ignore[attr-defined]
    asset_utils.select_unique_ids = select_unique_ids


def _evaluate(manifest_path: Path, selections: Sequence[Selection]) -> dict[str, Any]:
    """The helper process: dagster-dbt's own selection with dbt-core, for the same project."""
    import dbt.version  # noqa: F401  (dbt-core first: dagster-dbt then selects with it)
    from dagster_dbt.dbt_manifest import validate_manifest
    from dagster_dbt.utils import select_unique_ids

    from pipelines.dbt_project import dbt_project

    digest = _digest(manifest_path)
    manifest_json = validate_manifest(manifest_path)
    return {
        "manifest_sha1": digest,
        "selections": {
            _key(tuple(s)): sorted(select_unique_ids(*s, dbt_project, manifest_json))
            for s in selections
        },
    }


if __name__ == "__main__":
    wanted = [tuple(s) for s in json.loads(sys.stdin.read())]
    print(json.dumps(_evaluate(Path(sys.argv[1]), wanted)))
