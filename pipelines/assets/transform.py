"""The dbt project as assets: every model an asset, every dbt test an asset check."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, dbt_assets
from dagster_duckdb import DuckDBResource

from pipelines.dbt_project import (
    ASSESSMENT,
    BEFORE_RESOLUTION,
    REPORTING,
    STEP_BUILD_FLAGS,
    DbtRunFailed,
    dbt_project,
    prune_invocation_targets,
    run_dbt,
)
from pipelines.partitions import quarterly_partitions
from pipelines.resources import ProfileRun
from pipelines.settings import dbt_vars


class ProfileDbtTranslator(DagsterDbtTranslator):
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


def _dagster_events(
    context: dg.AssetExecutionContext, results: list[Any], target_path: Path
) -> Iterator[Any]:
    """dbt's node results as the step's outputs and check results, through dagster-dbt's own
    translation (the same events its subprocess runner yields)."""
    from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets
    from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
    from dbt_common.events.functions import msg_to_dict

    manifest, translator, _ = get_manifest_and_translator_from_dbt_assets([context.assets_def])
    for result in results:
        event = DbtCoreCliEventMessage(raw_event=msg_to_dict(result), event_history_metadata={})
        yield from event.to_default_asset_events(
            manifest=manifest,
            dagster_dbt_translator=translator,
            context=context,
            target_path=target_path,
            project=dbt_project,
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
    # One folder per step under target/ for the compiled SQL, dbt's log and run_results.json;
    # named as dagster-dbt names them.
    step_folder = f"{context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    target_path = dbt_project.manifest_path.parent / step_folder
    results: list[Any] = []

    def keep_node_result(event: Any) -> None:
        if event.info.name in _NODE_RESULT_EVENTS:
            results.append(event)

    failure: DbtRunFailed | None = None
    try:
        outcome = run_dbt(
            "build",
            *STEP_BUILD_FLAGS,
            *_dbt_selection(context),
            warehouse=Path(duckdb.database),
            variables=dbt_vars(profile_run.settings()),
            target_path=target_path,
            log_path=target_path,
            callbacks=[keep_node_result],
        )
        outcome.result.write(str(target_path / "run_results.json"))
    except DbtRunFailed as error:
        failure = error
    # What did finish is recorded before the step fails.
    yield from _dagster_events(context, results, target_path)
    prune_invocation_targets()
    if failure is not None:
        raise failure


def _dbt_step(name: str, select: str = "fqn:*", exclude: str = "") -> dg.AssetsDefinition:
    """One dbt build of the run (a Dagster step): the nodes `select` picks, less `exclude`."""

    @dbt_assets(
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


# The run's dbt steps, in order: staging before person resolution, the analytics after it,
# the reporting layer, then the assessment models that read the Python-computed tests.
dbt_staging = _dbt_step("dbt_staging", select=BEFORE_RESOLUTION)
dbt_analytics = _dbt_step("dbt_analytics", exclude=f"{BEFORE_RESOLUTION} {REPORTING}")
dbt_reporting = _dbt_step("dbt_reporting", select=REPORTING, exclude=ASSESSMENT)
dbt_assessment = _dbt_step("dbt_assessment", select=ASSESSMENT)
