"""Publish assets: the files users read, under OUT/YYYY-Qn/."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.partitions import quarterly_partitions
from pipelines.report.profile import render_profile
from pipelines.resources import ProfileRun


@dg.asset(
    group_name="publish",
    partitions_def=quarterly_partitions,
    deps=[dg.AssetKey(["marts", "crime_counts_by_quarter"])],
    description="The published Stalking Problem Profile (OUT/YYYY-Qn/profile.html).",
    kinds={"html"},
)
def profile_report(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, profile_run: ProfileRun
) -> dg.MaterializeResult:
    quarter = context.partition_key
    with duckdb.get_connection() as con:
        counts = con.execute("select * from marts.crime_counts_by_quarter").df()
    path = render_profile(quarter, counts, profile_run.quarter_dir(quarter) / "profile.html")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})
