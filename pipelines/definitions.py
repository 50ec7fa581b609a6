"""The single Dagster code location: `dagster dev -m pipelines.definitions`."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.assets.assessment import assessment_tests
from pipelines.assets.assurance import dip_sample_returns, screening_threshold
from pipelines.assets.automation import ingest_schedules, ingest_sensors
from pipelines.assets.forecasting import demand_forecast
from pipelines.assets.ingest import ingest_assets, ingest_checks
from pipelines.assets.places import crime_places
from pipelines.assets.publish import profile_report, tasking_pack
from pipelines.assets.resolution import person_resolution
from pipelines.assets.spatial import hotspots
from pipelines.assets.transform import dbt_analytics, dbt_reporting, dbt_staging
from pipelines.partitions import quarterly_partitions
from pipelines.paths import ensure_dagster_home
from pipelines.progress import progress_logger
from pipelines.resources import build_resources

ensure_dagster_home()

ALL_ASSETS = [
    *ingest_assets,
    dbt_staging,
    person_resolution,
    dbt_analytics,
    hotspots,
    crime_places,
    demand_forecast,
    dip_sample_returns,
    screening_threshold,
    dbt_reporting,
    assessment_tests,
    profile_report,
    tasking_pack,
]

quarterly_profile_job = dg.define_asset_job(
    name="quarterly_profile",
    selection=dg.AssetSelection.all(),
    partitions_def=quarterly_partitions,
    description="Everything for one quarter: ingest → dbt → resolution → analytics → publish.",
    executor_def=dg.in_process_executor,
)


def build_definitions(
    extracts_dir: Path | None = None,
    output_dir: Path | None = None,
    warehouse: Path | None = None,
    run_date: str = "",
    accept_quarantine: bool = False,
    config_file: Path | None = None,
) -> dg.Definitions:
    """Definitions bound to one set of folders (the CLI builds its own; `dagster dev` uses env)."""
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[quarterly_profile_job],
        asset_checks=[*ingest_checks],
        sensors=[*ingest_sensors],
        schedules=[*ingest_schedules],
        resources=build_resources(
            extracts_dir, output_dir, warehouse, run_date, accept_quarantine, config_file
        ),
        loggers={"progress": progress_logger},
        # Every job, the UI's ad-hoc materialisations included, runs its steps in one process:
        # one DuckDB writer, and the warehouse lock (resources.Warehouse) held once for the run.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
