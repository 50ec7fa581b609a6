"""The dbt project as assets: every model an asset, every dbt test an asset check."""

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Empty, SimpleQueue
from typing import Any

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.dbt_project import (
    STEP_BUILD_FLAGS,
    STEP_NODES,
    DbtRunFailed,
    dbt_project,
    failing_rules_in_build,
    folded_column_checks,
    run_dbt,
    start_pruning_invocation_targets,
    step_node_selections,
)
from pipelines.dbt_specs import (
    import_dagster_dbt,
    selected_unique_ids,
    use_selections,
    without_dbt_core,
)
from pipelines.partitions import quarterly_partitions
from pipelines.resources import ProfileRun, release_warehouse
from pipelines.settings import dbt_vars

# Without dbt-core unless this process has imported it already (pipelines/dbt_specs.py).
_dagster_dbt = import_dagster_dbt()


class ProfileDbtTranslator(_dagster_dbt.DagsterDbtTranslator):
    """Groups follow the model folders (staging / intermediate / marts / reference)."""

    def get_group_name(self, dbt_resource_props: dict[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


# One translator for every dbt step: it memoises each node's asset spec, and the steps share
# the manifest's nodes (the dependencies of one step's nodes lie in another's).
_TRANSLATOR = ProfileDbtTranslator()

# dbt's events that say how one node ended; dagster-dbt turns them into materializations and
# check results.
_NODE_RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogTestResult"})


def _dbt_selection(context: dg.AssetExecutionContext) -> list[str]:
    """The step's dbt selection, narrowed to the assets and checks Dagster selected (a subset in
    `dagster dev`), as dagster-dbt computes it for its own invocations."""
    from dagster_dbt.asset_utils import (
        DAGSTER_DBT_EXCLUDE_METADATA_KEY,
        DAGSTER_DBT_SELECT_METADATA_KEY,
        DAGSTER_DBT_SELECTOR_METADATA_KEY,
        get_manifest_and_translator_from_dbt_assets,
        get_subset_selection_for_context,
    )

    manifest, translator, _ = get_manifest_and_translator_from_dbt_assets([context.assets_def])
    tags = context.op.tags
    selection, indirect_selection = get_subset_selection_for_context(
        context=context,
        manifest=manifest,
        select=tags.get(DAGSTER_DBT_SELECT_METADATA_KEY),
        exclude=tags.get(DAGSTER_DBT_EXCLUDE_METADATA_KEY),
        selector=tags.get(DAGSTER_DBT_SELECTOR_METADATA_KEY),
        dagster_dbt_translator=translator,
        current_dbt_indirect_selection_env=None,
    )
    if indirect_selection:
        selection += ["--indirect-selection", indirect_selection]
    return selection


def _checks_in_build(context: dg.AssetExecutionContext) -> dict[str, str]:
    """The step's selected `column_checks` tests that its models run in their own nodes
    (test unique id -> name; see `folded_column_checks`)."""
    from dagster_dbt.asset_utils import (
        get_asset_check_key_for_test,
        get_manifest_and_translator_from_dbt_assets,
    )

    manifest, translator, _ = get_manifest_and_translator_from_dbt_assets([context.assets_def])
    selected = context.selected_asset_check_keys
    return {
        unique_id: name
        for unique_id, name in folded_column_checks(manifest).items()
        if get_asset_check_key_for_test(manifest, translator, unique_id, project=dbt_project)
        in selected
    }


def _outcomes_in_build(
    manifest: dict[str, Any],
    checks_in_build: dict[str, str],
    results: list[Any],
    error_messages: list[str],
) -> dict[str, list[str]]:
    """Each folded test whose model's node ran it -> its failing rules ([] when it passed).
    A model that built has passed all its folded tests (they ran in its statement); one that
    failed on its column checks names the failing rules per test, its other tests passed; one
    that failed before them (or was skipped) ran none, which gets no result, as a test node
    skipped after its model failed."""
    status = {
        result.data.node_info.unique_id: result.data.node_info.node_status
        for result in results
        if result.info.name == "LogModelResult"
    }
    failing = failing_rules_in_build("\n".join(error_messages))
    failed_on_checks = {manifest["nodes"][test]["attached_node"] for test in failing}
    outcomes: dict[str, list[str]] = {}
    for test in checks_in_build:
        model = manifest["nodes"][test]["attached_node"]
        if status.get(model) == "success" or model in failed_on_checks:
            outcomes[test] = failing.get(test, [])
    return outcomes


def _node_events(
    context: dg.AssetExecutionContext,
    manifest: dict[str, Any],
    translator: Any,
    result: Any,
    target_path: Path,
) -> Iterator[Any]:
    """One dbt node result as the step's output or check result, through dagster-dbt's own
    translation (the same events its subprocess runner yields)."""
    from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
    from dbt_common.events.functions import msg_to_dict

    event = DbtCoreCliEventMessage(raw_event=msg_to_dict(result), event_history_metadata={})
    yield from event.to_default_asset_events(
        manifest=manifest,
        dagster_dbt_translator=translator,
        context=context,
        target_path=target_path,
        project=dbt_project,
    )


def _check_events(
    manifest: dict[str, Any], translator: Any, checked_in_build: dict[str, list[str]]
) -> Iterator[dg.AssetCheckResult]:
    """The check result of each `column_checks` test its model ran in its own node, as
    dagster-dbt reports a test node's (passed, severity error, the failing rules' count), with
    the failing rules named."""
    from dagster_dbt.asset_utils import get_asset_check_key_for_test

    for unique_id, failing in checked_in_build.items():
        key = get_asset_check_key_for_test(manifest, translator, unique_id, project=dbt_project)
        if key is None:
            continue
        yield dg.AssetCheckResult(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=not failing,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "unique_id": unique_id,
                # The node that ran the test's query: its model's (column_checks_in_build.sql).
                "run_in_node": manifest["nodes"][unique_id]["attached_node"],
                "status": "fail" if failing else "pass",
                "dagster_dbt/failed_row_count": len(failing),
                # Counts and rule names only: a row's values may be personal.
                **({"failing_rules": "\n".join(failing)} if failing else {}),
            },
        )


def _build(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    profile_run: ProfileRun,
) -> Iterator[Any]:
    # The quarter goes in a table, not --vars or an env var: dbt hashes the vars into its
    # partial-parse state, so a quarter in the vars would cost a whole parse per quarter (and a
    # config could come to depend on it). One run per warehouse at a time (DuckDB allows one
    # writing process), so the one-row table cannot be raced. The connection is closed before
    # dbt opens the file.
    with duckdb.get_connection() as con:
        con.execute("create schema if not exists raw")
        con.execute(
            "create or replace table raw.profile_run as select ?::varchar as quarter",
            [context.partition_key],
        )
    release_warehouse(duckdb)
    # One folder per step under target/ for the compiled SQL, dbt's log and run_results.json;
    # named as dagster-dbt names them.
    step_folder = f"{context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    target_path = dbt_project.manifest_path.parent / step_folder
    results: list[Any] = []
    checks_in_build = _checks_in_build(context)
    error_messages: list[str] = []
    finished: SimpleQueue[Any] = SimpleQueue()

    def keep_node_result(event: Any) -> None:
        if event.info.name in _NODE_RESULT_EVENTS:
            results.append(event)
            finished.put(event)
        elif event.info.level == "error":
            error_messages.append(event.info.msg)

    from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets

    manifest, translator, _ = get_manifest_and_translator_from_dbt_assets([context.assets_def])
    failure: DbtRunFailed | None = None
    # dbt builds in a thread of its own while this one hands each finished node to Dagster:
    # Dagster's work per event (storing it, data versions: ~1 s for the reporting step's ~90
    # models and their checks) then overlaps dbt's SQL, which runs outside the GIL, instead of
    # following the whole build. The same events, in the order the nodes finished.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dbt-build") as pool:
        build = pool.submit(
            run_dbt,
            "build",
            *STEP_BUILD_FLAGS,
            *_dbt_selection(context),
            # Their models run these tests in their own nodes (column_checks_in_build.sql).
            *(["--exclude", *checks_in_build.values()] if checks_in_build else []),
            warehouse=Path(duckdb.database),
            variables=dbt_vars(profile_run.settings()),
            target_path=target_path,
            log_path=target_path,
            callbacks=[keep_node_result],
        )
        while not (build.done() and finished.empty()):
            try:
                event = finished.get(timeout=0.02)
            except Empty:
                continue
            yield from _node_events(context, manifest, translator, event, target_path)
        try:
            build.result().result.write(str(target_path / "run_results.json"))
        except DbtRunFailed as error:
            failure = error
    # What did finish is recorded before the step fails.
    checked_in_build = _outcomes_in_build(manifest, checks_in_build, results, error_messages)
    yield from _check_events(manifest, translator, checked_in_build)
    start_pruning_invocation_targets()
    if failure is not None:
        raise failure


def _dbt_step(name: str, select: str = "fqn:*", exclude: str = "") -> dg.AssetsDefinition:
    """One dbt build of the run (a Dagster step): the nodes `select` picks, less `exclude`."""

    @_dagster_dbt.dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        select=select,
        exclude=exclude,
        partitions_def=quarterly_partitions,
        dagster_dbt_translator=_TRANSLATOR,
        name=name,
    )
    def step(
        context: dg.AssetExecutionContext, duckdb: DuckDBResource, profile_run: ProfileRun
    ) -> Iterator[Any]:
        yield from _build(context, duckdb, profile_run)

    return step


# The run's dbt steps, in order: staging before person resolution, the analytics after it (with
# the reporting models that read no later Python mart), then the reporting models over the
# hotspots, forecasts, places and the assessment's tests.
if without_dbt_core():
    # dagster-dbt cannot evaluate a dbt selection without dbt-core: the selected unique ids
    # come from dagster-dbt's own evaluation with dbt-core, kept per manifest.
    from dagster_dbt.dbt_manifest import validate_manifest

    use_selections(
        validate_manifest(dbt_project.manifest_path),
        selected_unique_ids(dbt_project.manifest_path, step_node_selections()),
    )
dbt_staging, dbt_analytics, dbt_reporting = (
    _dbt_step(name, select=select, exclude=exclude)
    for name, (select, exclude) in STEP_NODES.items()
)
