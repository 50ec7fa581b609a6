"""The dbt project as assets: every model an asset, every dbt test an asset check."""

import json
import os
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

from pipelines.dbt_project import dbt_project, prune_invocation_targets
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


def _build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    duckdb: DuckDBResource,
    profile_run: ProfileRun,
) -> Iterator[Any]:
    # dbt runs as a subprocess and finds the warehouse through SPP_WAREHOUSE (profiles.yml).
    os.environ["SPP_WAREHOUSE"] = duckdb.database
    # The quarter goes in a table, not --vars or an env var: anything that reaches dbt's Jinja
    # and changes between runs makes dbt re-parse (the whole project for --vars, ~10 s; the
    # models using it for an env var, ~0.8 s per dbt step). One run per warehouse at a time
    # (DuckDB allows one writing process), so the one-row table cannot be raced.
    with duckdb.get_connection() as con:
        con.execute("create schema if not exists raw")
        con.execute(
            "create or replace table raw.profile_run as select ?::varchar as quarter",
            [context.partition_key],
        )
    variables = dbt_vars(profile_run.settings())
    # --no-write-json: dbt would otherwise write manifest.json twice per step (~1 s of CPU on
    # the 2-core machine) for a manifest that `prepare` already wrote; the run's per-node
    # timings stay in the step's JSON log (target/<step>-<run>-*/dbt.log).
    # Unit tests check the models' SQL on fixed inputs, not the force's data: the same answer
    # every run of one code version. The test suite runs them (tests/analytics); a
    # quarterly run keeps every data test and skips them (~1.5 s of the analytics step).
    command = [
        "build",
        "--no-write-json",
        "--exclude-resource-type",
        "unit_test",
        "--vars",
        json.dumps(variables),
    ]
    yield from dbt.cli(command, context=context).stream()
    prune_invocation_targets()


# Person resolution (Python, Splink) sits in the middle of the dbt graph and the hotspot and
# forecast marts (Python) feed the reporting layer, so the project runs in three steps: what
# resolution reads (seeds, staging, models tagged before_resolution), the analytics after it,
# and the reporting models once every mart exists.
BEFORE_RESOLUTION = "resource_type:seed staging tag:before_resolution"
REPORTING = "reporting"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=BEFORE_RESOLUTION,
    partitions_def=quarterly_partitions,
    dagster_dbt_translator=ProfileDbtTranslator(),
    name="dbt_staging",
)
def dbt_staging(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    duckdb: DuckDBResource,
    profile_run: ProfileRun,
) -> Iterator[Any]:
    yield from _build(context, dbt, duckdb, profile_run)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    exclude=f"{BEFORE_RESOLUTION} {REPORTING}",
    partitions_def=quarterly_partitions,
    dagster_dbt_translator=ProfileDbtTranslator(),
    name="dbt_analytics",
)
def dbt_analytics(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    duckdb: DuckDBResource,
    profile_run: ProfileRun,
) -> Iterator[Any]:
    yield from _build(context, dbt, duckdb, profile_run)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=REPORTING,
    partitions_def=quarterly_partitions,
    dagster_dbt_translator=ProfileDbtTranslator(),
    name="dbt_reporting",
)
def dbt_reporting(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    duckdb: DuckDBResource,
    profile_run: ProfileRun,
) -> Iterator[Any]:
    yield from _build(context, dbt, duckdb, profile_run)
