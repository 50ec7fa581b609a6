"""Publish assets: the files users read, under OUT/YYYY-Qn/.

- profile_report: the published profile (disclosure-controlled, guarded).
- tasking_pack: the restricted high-harm list (OFFICIAL-SENSITIVE, restricted/ folder).
"""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.assets.transform import dbt_reporting
from pipelines.disclosure import DisclosureError
from pipelines.partitions import quarterly_partitions
from pipelines.report.profile import publish_profile
from pipelines.report.tasking import write_tasking_pack
from pipelines.resources import ProfileRun
from pipelines.settings import load_settings

# What the publish assets read: every model of the reporting layer (dbt_reporting runs after
# every mart, Python-written ones included, so the FMS and GIS files the profile's guard also
# checks are written by then).
REPORTING_INPUTS = sorted(dbt_reporting.keys)


def force_boundary(profile_run: ProfileRun) -> Path | None:
    """Local geometry for the map: the extracts' force_area.geojson, else the configured area."""
    candidates = [Path(profile_run.extracts_dir) / "force_area.geojson"]
    configured = load_settings().force.area_geojson
    if configured:
        candidates.append(Path(configured))
    return next((p for p in candidates if p.is_file()), None)


@dg.asset(
    group_name="publish",
    partitions_def=quarterly_partitions,
    deps=REPORTING_INPUTS,
    description="The published Stalking Problem Profile (OUT/YYYY-Qn/profile.html): "
    "disclosure-controlled and checked by the publish guard.",
    kinds={"html"},
)
def profile_report(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, profile_run: ProfileRun
) -> dg.MaterializeResult:
    quarter = context.partition_key
    with duckdb.get_connection() as con:
        try:
            result = publish_profile(
                con,
                quarter,
                profile_run.quarter_dir(quarter),
                boundary=force_boundary(profile_run),
                generated=profile_run.today(),
            )
        except DisclosureError as error:
            # The message names kinds and counts only, never the values found.
            raise dg.Failure(description=str(error)) from None
    context.log.info(
        f"profile.html: {result.bytes / 1e6:.1f} MB in {result.seconds:.1f}s; guard checked "
        f"{result.guard.values_checked} values over {result.guard.tokens_scanned} tokens"
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "bytes": result.bytes,
            "seconds": round(result.seconds, 2),
            "guard_values_checked": result.guard.values_checked,
            "guard_tokens_scanned": result.guard.tokens_scanned,
            "suppressed_cells": result.suppressed_cells,
            "guard_data_files": ", ".join(result.data_files_checked),
        }
    )


@dg.asset(
    group_name="publish",
    partitions_def=quarterly_partitions,
    deps=REPORTING_INPUTS,
    description="Restricted tasking pack (OUT/YYYY-Qn/restricted/high_harm_perpetrators.csv, "
    ".html and .xlsx, subject_profiles/ for the top N), OFFICIAL-SENSITIVE, owner-only file "
    "permissions.",
    kinds={"csv", "html", "xlsx"},
)
def tasking_pack(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, profile_run: ProfileRun
) -> dg.MaterializeResult:
    quarter = context.partition_key
    with duckdb.get_connection() as con:
        settings = load_settings()
        pack = write_tasking_pack(
            con,
            quarter,
            profile_run.quarter_dir(quarter),
            settings.force.name,
            subject_profiles_top_n=settings.tasking.subject_profiles_top_n,
            generated=profile_run.today(),
            lookback_years=settings.perpetrators.serial_lookback_years,
        )
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(pack.csv.parent)),
            "subjects": pack.rows,
            "above_cutoff": pack.above_cutoff,
            "subject_profiles": len(pack.subject_profiles),
            "seconds": round(pack.seconds, 2),
        }
    )
