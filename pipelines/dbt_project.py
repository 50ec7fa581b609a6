"""How this project runs dbt: in the calling process, through dbt's programmatic API
(`dbtRunner`), on a manifest parsed once per process and settings. One dbt start-up per run
instead of one per dbt step (each a new process re-importing dbt and re-reading its parse
state: ~3.5 s apiece on the 2-core benchmark machine).

`python -m pipelines.dbt_project prepare` (run by tasks.py and the CLI) writes target/manifest.json,
which dagster-dbt reads when the definitions are imported.

dbt allows one invocation at a time per process (it keeps global state): the quarterly job runs
its steps one after another (in-process executor), and every other caller is a script or a test.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.dbt_specs import import_dagster_dbt, import_dbt_core, selected_unique_ids
from pipelines.paths import DBT_PROFILES_DIR, DBT_PROJECT_DIR, default_warehouse
from pipelines.settings import Settings, dbt_vars, load_settings

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult
    from dbt.contracts.graph.manifest import Manifest
    from dbt_common.events.base_types import EventMsg

DBT_TARGET = os.environ.get("SPP_DBT_TARGET", "dev")

# dagster-dbt without dbt-core unless this process has it already (pipelines/dbt_specs.py).
dbt_project = import_dagster_dbt().DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROFILES_DIR,
    target=DBT_TARGET,
)


class DbtRunFailed(RuntimeError):
    """A dbt invocation that did not succeed: a model or test failed (its error lines, as dbt
    logged them) or dbt itself raised (the cause)."""


def _project_args(variables: dict[str, Any], target: str) -> list[str]:
    return [
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROFILES_DIR),
        "--target", target,
        "--vars", json.dumps(variables, sort_keys=True),
        "--no-send-anonymous-usage-stats",
        # The console shows dbt's lines as text (a log file or a pipe gets no escape codes).
        "--no-use-colors",
    ]  # fmt: skip


# dbt's global state (adapters, event manager, flags) allows one invocation at a time.
_ONE_INVOCATION = threading.Lock()
# The settings sections that change what dbt's parse records (a ref taken or not, a config):
# a manifest serves only invocations with the same values of these. Every other section is
# read when dbt compiles, with the invocation's own vars; tests/test_dbt_parse.py changes every
# other setting and checks that the parse records the same graph and configs.
PARSE_SECTIONS = frozenset({"stalking_universe"})
# The parsed project per set of vars and target (JSON). dbt renders model configs with the vars
# at parse time, and a setting may decide whether a model or test refs another: run_dbt parses
# for the values of PARSE_SECTIONS only; `project_manifest` parses for any vars it is given.
_MANIFESTS: dict[str, Manifest] = {}
# One parse at a time: a caller waits for a parse under way (start_warm_up's) and reuses it.
_PARSING = threading.Lock()
_KEEP_MANIFESTS = 2


@contextmanager
def _warehouse_attached(warehouse: Path | None) -> Iterator[None]:
    """The plugin (pipelines/dbt_warehouse.py) attaches SPP_WAREHOUSE when dbt-duckdb opens its
    database; afterwards the database is closed, because dbt-duckdb keeps it open in a class
    attribute for the life of the process (it is a process-per-command tool). Closed, the next
    invocation attaches its own warehouse (the plugin reads the path again), and the file is
    free for the run's Python steps, which open it with their own configuration."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    previous = os.environ.get("SPP_WAREHOUSE")
    if warehouse is not None:
        os.environ["SPP_WAREHOUSE"] = str(warehouse)
    try:
        yield
    finally:
        with DuckDBConnectionManager._LOCK:
            if DuckDBConnectionManager._ENV is not None:
                DuckDBConnectionManager._ENV.close()
                DuckDBConnectionManager._ENV = None
        if previous is None:
            os.environ.pop("SPP_WAREHOUSE", None)
        else:
            os.environ["SPP_WAREHOUSE"] = previous


def _forget_compiled_sql(manifest: Manifest) -> None:
    """Back to the state a parse leaves. dbt compiles into the manifest's nodes and, once a
    node's ephemeral CTEs are injected, skips injecting them again, while it re-renders the
    node's SQL on every compile: a second invocation on the same manifest would run SQL that
    refers to a CTE it no longer defines."""
    from dbt.contracts.graph.nodes import CompiledNode

    for node in manifest.nodes.values():
        if isinstance(node, CompiledNode):
            node.compiled = False
            node.compiled_code = None
            node.extra_ctes_injected = False
            node.extra_ctes = []


def _invoke(
    args: Sequence[str],
    manifest: Manifest | None = None,
    callbacks: Sequence[Callable[[EventMsg], None]] = (),
    warehouse: Path | None = None,
) -> dbtRunnerResult:
    import_dbt_core()
    from dbt.cli.main import dbtRunner

    errors: list[str] = []

    def keep_errors(event: EventMsg) -> None:
        if event.info.level == "error":
            errors.append(event.info.msg)

    with _ONE_INVOCATION:
        with _warehouse_attached(warehouse):
            attached = default_warehouse()
            if manifest is not None:
                _forget_compiled_sql(manifest)
            result = dbtRunner(manifest=manifest, callbacks=[keep_errors, *callbacks]).invoke(
                list(args)
            )
        if not result.success:
            # dbt has let go of the warehouse: the failing rule tests can be asked which rules.
            errors += failing_column_checks(result, attached)
    if not result.success:
        detail = "\n".join(errors) or repr(result.exception)
        raise DbtRunFailed(f"dbt {args[0]} failed:\n{detail}") from result.exception
    return result


COLUMN_CHECKS_TEST = "column_checks"
# The materializations that can run a model's column_checks inside its node
# (dbt_project/macros/materializations/column_checks_in_build.sql).
_CHECKING_MATERIALIZATIONS = frozenset({"table", "view"})


def folded_column_checks(manifest: Mapping[str, Any]) -> dict[str, str]:
    """The `column_checks` tests a quarterly dbt step runs inside their model's node instead of
    as test nodes of their own (test unique id -> test name; the step excludes them by name):
    those on a table or view model (whose materializations run them), with plain arguments (a
    test argument holding Jinja is rendered only for a test node). `manifest` is manifest.json
    as a dict. A test node costs ~30 ms of dbt's CPU whatever its query; the same query as one
    statement of the model's node costs a few."""
    nodes = manifest["nodes"]
    folded: dict[str, str] = {}
    for unique_id, node in nodes.items():
        metadata = node.get("test_metadata") or {}
        if node.get("resource_type") != "test" or metadata.get("name") != COLUMN_CHECKS_TEST:
            continue
        model = nodes.get(node.get("attached_node") or "")
        if model is None or model["config"].get("materialized") not in _CHECKING_MATERIALIZATIONS:
            continue
        arguments = {k: v for k, v in metadata.get("kwargs", {}).items() if k != "model"}
        config = node.get("config", {})
        plain = "{{" not in json.dumps(arguments) and "{%" not in json.dumps(arguments)
        # The materialization fails the node on any failing rule: only tests with dbt's
        # defaults (severity error, fail on any row, no where / limit) mean that.
        default_verdict = (
            str(config.get("severity", "error")).lower() == "error"
            and config.get("warn_if", "!= 0") == "!= 0"
            and config.get("error_if", "!= 0") == "!= 0"
            and config.get("fail_calc", "count(*)") == "count(*)"
            and not config.get("where")
            and config.get("limit") is None
            and not config.get("store_failures")
        )
        if plain and default_verdict:
            folded[unique_id] = node["name"]
    return folded


def folded_column_checks_exclusion() -> list[str]:
    """`--exclude` and the folded tests' names, for a dbt build outside Dagster that should run
    as a quarterly step runs (the benchmarks); from target/manifest.json."""
    folded = folded_column_checks(json.loads(dbt_project.manifest_path.read_text("utf-8")))
    return ["--exclude", *folded.values()] if folded else []


# How column_checks_in_build.sql names a failing rule in the model's error (one line each).
_FAILING_RULE = re.compile(r"^\s*(test\.[^:\s]+): (.+? fails .+: \d+ row\(s\))\s*$", re.MULTILINE)


def failing_rules_in_build(message: str) -> dict[str, list[str]]:
    """The failing rules a model's node reported for the column_checks it ran
    (column_checks_in_build.sql): test unique id -> `model.column fails rule: N row(s)`."""
    failing: dict[str, list[str]] = {}
    for test, rule in _FAILING_RULE.findall(message):
        if rule not in failing.setdefault(test, []):
            failing[test].append(rule)
    return failing


def failing_column_checks(result: dbtRunnerResult, warehouse: Path) -> list[str]:
    """For each failed `column_checks` test (dbt_project/tests/generic/column_checks.sql, every
    column rule of a model in one scan), which rules failed: dbt itself says only "Got N
    results". The test's compiled SQL is run again on the warehouse; it returns the column, the
    rule and the count of rows breaking it, never a row's values (they may be personal)."""
    from dbt.artifacts.schemas.results import TestStatus

    failed = [
        outcome.node
        for outcome in getattr(result.result, "results", None) or []
        if outcome.status == TestStatus.Fail
        and getattr(getattr(outcome.node, "test_metadata", None), "name", None)
        == COLUMN_CHECKS_TEST
        and outcome.node.compiled_code
    ]
    if not failed:
        return []
    import duckdb

    from pipelines.warehouse_connection import WAREHOUSE_CATALOG, escape_sql_string

    lines: list[str] = []
    try:
        with duckdb.connect(":memory:") as con:
            con.execute(
                f"attach '{escape_sql_string(str(warehouse))}' as {WAREHOUSE_CATALOG} (read_only)"
            )
            con.execute(f"use {WAREHOUSE_CATALOG}")
            for node in failed:
                model = node.attached_node.split(".")[-1] if node.attached_node else node.name
                for column, check, rows in con.execute(node.compiled_code).fetchall():
                    lines.append(f"{model}.{column} fails {check}: {rows} row(s)")
    except duckdb.Error as error:
        # The rule names are a help, not the verdict: dbt's own failure stands.
        lines.append(f"(could not re-run the failing column checks: {error})")
    return lines


def project_manifest(variables: dict[str, Any], target: str = DBT_TARGET) -> Manifest:
    """The project parsed for these vars, once per process. The parse starts from dbt's
    partial-parse state that `prepare` leaves (~0.3 s when nothing changed)."""
    key = _manifest_key(variables, target)
    with _PARSING:
        if key not in _MANIFESTS:
            line = ["parse", "--quiet", "--no-write-json", *_project_args(variables, target)]
            if key != _prepared_stamp():
                # Other vars than `prepare` parsed with (an evaluation or a test varying a
                # setting): dbt writes its parse state into the target path, and in target/ it
                # would make the next run with the project's own vars parse the whole project
                # again (~10 s).
                digest = hashlib.sha1(key.encode()).hexdigest()[:10]
                line += ["--target-path", str(dbt_project.manifest_path.parent / f"parse-{digest}")]
            _remember(key, _invoke(line).result)
        return _MANIFESTS[key]


def start_warm_up(variables: dict[str, Any], target: str = DBT_TARGET) -> threading.Thread:
    """Load the parsed project that `run_dbt` will use with these vars, in a background thread.
    Loading it is ~1.5 s of CPU (dbt's partial-parse check of the whole project) that the first
    dbt step of a run paid; started when the extracts start loading, which is mostly DuckDB
    work outside the GIL, the first dbt step finds it loaded."""
    thread = threading.Thread(
        target=_warm_up, args=(_parse_variables(variables), target), name="dbt-warm-up", daemon=True
    )
    thread.start()
    return thread


def _warm_up(variables: dict[str, Any], target: str) -> None:
    try:
        project_manifest(variables, target)
    except Exception:
        # The dbt step parses again itself and reports the error where it belongs.
        return


def _stamp_file() -> Path:
    return dbt_project.manifest_path.parent / "spp_parse_stamp.json"


def _prepared_stamp() -> str | None:
    stamp_file = _stamp_file()
    return stamp_file.read_text() if stamp_file.exists() else None


def _manifest_key(variables: dict[str, Any], target: str) -> str:
    """What dbt's partial-parse check hashes besides the files: the vars and the target (the
    profile's connection values are constants: the warehouse is attached by a plugin,
    pipelines/dbt_warehouse.py). If either differs from the last parse, dbt parses the whole
    project again."""
    return json.dumps({"target": target, "vars": variables}, sort_keys=True)


def _remember(key: str, manifest: Manifest) -> None:
    _MANIFESTS[key] = manifest
    while len(_MANIFESTS) > _KEEP_MANIFESTS:
        del _MANIFESTS[next(iter(_MANIFESTS))]


def run_dbt(
    command: str,
    *args: str,
    warehouse: Path | None = None,
    variables: dict[str, Any] | None = None,
    target: str = DBT_TARGET,
    target_path: Path | None = None,
    log_path: Path | None = None,
    callbacks: Sequence[Callable[[EventMsg], None]] = (),
) -> dbtRunnerResult:
    """Every dbt command of the project (Dagster's dbt steps, evaluations, benchmarks, test
    fixtures): in this process, on the once-parsed manifest, against `warehouse` (default:
    SPP_WAREHOUSE, else the default warehouse), with the settings as vars (`variables`, default:
    the settings file). Raises DbtRunFailed unless dbt succeeded. `callbacks` receive every dbt
    event as it happens (dbt's worker threads call them)."""
    variables = dbt_vars(load_settings()) if variables is None else variables
    line = [command, *args, *_project_args(variables, target)]
    if target_path is not None:
        line += ["--target-path", str(target_path)]
    if log_path is not None:
        line += ["--log-path", str(log_path)]
    # The manifest is parsed with the settings file's vars but for PARSE_SECTIONS: the other
    # settings are read in the models' SQL only (the `setting()` macro), which dbt renders when
    # it compiles, with this invocation's vars. An evaluation or test varying such a setting (or
    # the quarter) no longer pays a whole parse (~10 s) per set of settings.
    manifest = project_manifest(_parse_variables(variables), target)
    return _invoke(line, manifest, callbacks, warehouse)


def _parse_variables(variables: dict[str, Any]) -> dict[str, Any]:
    """The vars a run's manifest is parsed with: the settings file's, but for PARSE_SECTIONS."""
    return {
        **dbt_vars(load_settings()),
        **{section: variables[section] for section in PARSE_SECTIONS if section in variables},
    }


def prepare(settings: Settings | None = None, force: bool = False) -> Path:
    """Write target/manifest.json with `dbt parse` unless it is newer than every dbt file and
    was parsed for the same vars: one parse per project version and settings, which every
    warehouse's runs reuse (their partial parse starts from it)."""
    manifest = dbt_project.manifest_path
    stamp_file = _stamp_file()
    settings = settings or load_settings()
    stamp = _manifest_key(dbt_vars(settings), DBT_TARGET)
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
        variables = dbt_vars(settings)
        # The same vars as the runs (run_dbt's default), so their parse starts from this one.
        result = _invoke(["parse", "--quiet", *_project_args(variables, DBT_TARGET)])
        _remember(_manifest_key(variables, DBT_TARGET), result.result)
        stamp_file.write_text(stamp)
        # The steps' selections for this manifest, evaluated now rather than by the next run's
        # start-up (pipelines/dbt_specs.py).
        selected_unique_ids(manifest, step_node_selections())
    return manifest


def step_node_selections() -> list[tuple[str, str, str]]:
    """The dbt steps' (select, exclude, selector), as dagster-dbt evaluates them."""
    return [(select, exclude, "") for select, exclude in STEP_NODES.values()]


# Person resolution (Python, Splink) sits in the middle of the dbt graph and Python writes marts
# the reporting layer reads, so the project runs in three steps: what resolution reads (seeds,
# staging, models tagged before_resolution); the analytics after it, with every reporting model
# that reads no Python-written mart of a later step; and the reporting models that do (the
# hotspots, forecasts, places and the assessment's exact tests) with everything downstream of
# them, once those marts exist. The assessment's tests read a reporting model of the analytics
# step (rpt_assessment_signals), so they run between the two, beside the hotspots and forecasts;
# each dbt step costs ~0.3 s of dbt's set-up and Dagster's step, so there is no fourth.
BEFORE_RESOLUTION = "resource_type:seed staging tag:before_resolution"
# The dbt sources Python steps write after the analytics step (the screening calibration and the
# DIP sample are written before the first dbt step, the resolution's marts before the second).
AFTER_PYTHON_MARTS = "source:spatial+ source:forecasting+ source:places+ source:assessment+"
# Each dbt step's (select, exclude), as its Dagster asset (pipelines/assets/transform.py) gives
# them to dagster-dbt. A test of two steps' models runs in the later one (dbt's eager indirect
# selection: excluding a node excludes every test that reads it).
STEP_NODES: dict[str, tuple[str, str]] = {
    "dbt_staging": (BEFORE_RESOLUTION, ""),
    "dbt_analytics": ("fqn:*", f"{BEFORE_RESOLUTION} {AFTER_PYTHON_MARTS}"),
    "dbt_reporting": (AFTER_PYTHON_MARTS, ""),
}
# Each step's dbt selection on dbt's command line (the same nodes).
STEP_SELECTIONS: dict[str, list[str]] = {
    "dbt_staging": ["--select", *BEFORE_RESOLUTION.split()],
    "dbt_analytics": ["--exclude", *BEFORE_RESOLUTION.split(), *AFTER_PYTHON_MARTS.split()],
    "dbt_reporting": ["--select", *AFTER_PYTHON_MARTS.split()],
}
# How a quarterly step runs `dbt build`. --no-write-json: dbt would otherwise write
# manifest.json per step (~1 s of CPU on the 2-core machine) for a manifest that `prepare`
# already wrote; the step writes only run_results.json (each node's time, read by the
# benchmark). The step's dbt.log keeps dbt's info lines: at debug level (every SQL statement)
# writing it took ~15 % of the reporting step's CPU. Unit tests check the models' SQL on fixed
# inputs, not the force's data: the same answer every run of one code version. The test suite
# runs them (tests/analytics); a quarterly run keeps every data test and skips them.
# The console gets dbt's warnings and errors only: its START / OK / PASS lines, two per node,
# repeat what the run prints for every asset and check (and cost ~3 % of the step's CPU, every
# line formatted and scrubbed of secrets); dbt.log keeps them. Not --use-fast-test-edges (a
# hidden dbt flag, ~3 % of the steps' CPU): it drops 238 of the project's test-before-model
# orderings (tests that read several models, assert_reporting_reconciles_with_marts among
# them), so such a test failing would no longer skip the models after it.
STEP_BUILD_FLAGS = (
    "--no-write-json",
    "--exclude-resource-type", "unit_test",
    "--log-level", "warn",
    "--log-level-file", "info",
)  # fmt: skip


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


def start_pruning_invocation_targets() -> threading.Thread:
    """`prune_invocation_targets` in a background thread: deleting an old invocation's folder
    (~0.05 s of file-system calls per dbt step) need not hold up the run's next step."""
    thread = threading.Thread(target=prune_invocation_targets, name="dbt-prune", daemon=True)
    thread.start()
    return thread


if __name__ == "__main__":
    if sys.argv[1:] == ["prepare"]:
        print(f"dbt manifest: {prepare()}")
    else:
        sys.exit("usage: python -m pipelines.dbt_project prepare")
