"""Ingest assets: one per extract, keyed ["raw", <table>] to meet the dbt sources."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.contracts.loader import load_extract
from pipelines.contracts.schema import EXTRACTS
from pipelines.partitions import quarterly_partitions
from pipelines.resources import ProfileRun


def _ingest_asset(extract: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=extract,
        key_prefix="raw",
        group_name="ingest",
        partitions_def=quarterly_partitions,
        description=f"The {extract} extract, validated and loaded into raw.{extract}.",
        kinds={"duckdb"},
    )
    def _asset(
        context: dg.AssetExecutionContext, duckdb: DuckDBResource, profile_run: ProfileRun
    ) -> dg.MaterializeResult:
        with duckdb.get_connection() as con:
            result = load_extract(con, Path(profile_run.extracts_dir), extract)
        context.log.info(f"{extract}: read {result.read}, loaded {result.loaded}")
        return dg.MaterializeResult(
            metadata={
                "rows_read": result.read,
                "rows_loaded": result.loaded,
                "rows_quarantined": result.quarantined,
            }
        )

    return _asset


ingest_assets = [_ingest_asset(name) for name in EXTRACTS]
