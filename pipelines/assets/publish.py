"""Publish assets: the files users read, under OUT/YYYY-Qn/ (wiring for pipelines.publish).

- profile_report: the published files: data_quality.json, gis/, fms/, performance_monthly,
  then profile.html, all passed by the publish guard.
- tasking_pack: the restricted outputs (OFFICIAL-SENSITIVE, restricted/ folder): tasking pack,
  dip sample, resolution diagnostics.
No other asset writes under OUT/.
"""

from typing import TYPE_CHECKING

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.assets.transform import dbt_analytics, dbt_reporting
from pipelines.partitions import quarterly_partitions
from pipelines.resources import ProfileRun

if TYPE_CHECKING:
    from pipelines.publish import PublishRequest

# pipelines.publish (its writers, the report, plotly, openpyxl) is imported by the publish steps
# themselves: loading the code location, which every run waits for, does not pay for it.

# What the publish assets read: every model of the reporting layer (the analytics step builds
# those that read no Python-written mart of a later step, dbt_reporting the others).
REPORTING_INPUTS = sorted(
    key
    for step in (dbt_analytics, dbt_reporting)
    for key, group in step.group_names_by_key.items()
    if group == "reporting"
)


def publish_request(quarter: str, profile_run: ProfileRun) -> "PublishRequest":
    from pipelines.publish import PublishRequest, force_boundary

    settings = profile_run.settings()
    return PublishRequest(
        quarter=quarter,
        folder=profile_run.quarter_dir(quarter),
        settings=settings,
        generated=profile_run.today(),
        boundary=force_boundary(profile_run.extracts_dir, settings.force.area_geojson),
    )


@dg.asset(
    group_name="publish",
    partitions_def=quarterly_partitions,
    deps=REPORTING_INPUTS,
    description="The published Stalking Problem Profile (OUT/YYYY-Qn/profile.html) and the files "
    "beside it (data_quality.json, gis/hotspots.geojson, fms/demand.csv and .xlsx, "
    "performance_monthly.csv and .html): disclosure-controlled and checked by the publish guard.",
    kinds={"html"},
)
def profile_report(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, profile_run: ProfileRun
) -> dg.MaterializeResult:
    from pipelines.disclosure import DisclosureError
    from pipelines.publish import publish_open_outputs

    request = publish_request(context.partition_key, profile_run)
    with duckdb.get_connection() as con:
        try:
            result = publish_open_outputs(con, request)
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
    description="Restricted outputs (OUT/YYYY-Qn/restricted/, OFFICIAL-SENSITIVE, owner-only): "
    "the tasking list (high_harm_perpetrators.csv, .html and .xlsx), subject_profiles/ for the "
    "top N, the assurance dip sample and the person-resolution diagnostics.",
    kinds={"csv", "html", "xlsx"},
)
def tasking_pack(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, profile_run: ProfileRun
) -> dg.MaterializeResult:
    from pipelines.publish import publish_restricted_outputs

    request = publish_request(context.partition_key, profile_run)
    with duckdb.get_connection() as con:
        outputs = publish_restricted_outputs(con, request)
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(outputs.pack.csv.parent)),
            "subjects": outputs.pack.rows,
            "above_cutoff": outputs.pack.above_cutoff,
            "subject_profiles": len(outputs.pack.subject_profiles),
            "seconds": round(outputs.pack.seconds, 2),
            "files": len(outputs.files),
        }
    )
