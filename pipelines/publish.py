"""The publish stage: every file under OUT/YYYY-Qn/, from the reporting layer, in one place.

Each output is written by one writer in pipelines/report/ that reads reporting.rpt_* (and the
Python-written marts through their declared dbt sources). The order matters: the data files
published beside the profile are written first, so the profile's publish guard (one pass of
pipelines.disclosure over every published file) checks them too; a hit withdraws the file and
fails the run. Restricted outputs go under restricted/ (owner-only, OFFICIAL-SENSITIVE) and are
not published. During a CLI run `folder` is the staging folder (pipelines/run_safety.py), which
replaces OUT/YYYY-Qn only after everything here passed.

No Dagster here: pipelines/assets/publish.py only wires these two calls.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.contracts.geo import force_area_file
from pipelines.report.data_files import write_data_quality, write_gis_layer, write_performance
from pipelines.report.fms import write_fms
from pipelines.report.profile import PublishResult, publish_profile
from pipelines.report.restricted import write_dip_sample, write_resolution_diagnostics
from pipelines.report.tasking import PackResult, write_tasking_pack
from pipelines.settings import Settings


@dataclass(frozen=True)
class PublishRequest:
    quarter: str
    folder: Path  # OUT/YYYY-Qn (its staging twin during a CLI run)
    settings: Settings
    generated: dt.date
    # Local geometry for the map (no tiles): see `force_boundary`.
    boundary: Path | None = None


@dataclass(frozen=True)
class RestrictedOutputs:
    pack: PackResult
    files: tuple[Path, ...]


def force_boundary(extracts_dir: Path, configured_area: str) -> Path | None:
    """The map's outline: the force area the location rule used, where it is a file."""
    _, path = force_area_file(extracts_dir, configured_area)
    return path if path is not None and path.is_file() else None


def write_data_files(con: duckdb.DuckDBPyConnection, request: PublishRequest) -> list[Path]:
    """The published files beside the profile: data_quality.json, the GIS layer, the FMS
    workbook and table, the monthly performance page (counts suppressed by each writer; the
    guard checks them with the profile)."""
    settings = request.settings
    k = settings.disclosure.min_count
    force = settings.force.name
    return [
        write_data_quality(con, request.folder),
        *write_gis_layer(con, request.quarter, request.folder, k),
        *write_fms(con, request.quarter, request.folder, k, force),
        *write_performance(con, request.quarter, request.folder, k, force),
    ]


def publish_open_outputs(con: duckdb.DuckDBPyConnection, request: PublishRequest) -> PublishResult:
    """Data files, then the profile; the guard passes every one of them or the run fails."""
    write_data_files(con, request)
    return publish_profile(
        con,
        request.quarter,
        request.folder,
        request.settings,
        boundary=request.boundary,
        generated=request.generated,
    )


def publish_restricted_outputs(
    con: duckdb.DuckDBPyConnection, request: PublishRequest
) -> RestrictedOutputs:
    """The tasking pack (list as CSV, HTML and XLSX; subject profiles), the assurance dip
    sample and the resolution diagnostics page."""
    settings = request.settings
    pack = write_tasking_pack(
        con,
        request.quarter,
        request.folder,
        settings.force.name,
        subject_profiles_top_n=settings.tasking.subject_profiles_top_n,
        generated=request.generated,
        lookback_years=settings.perpetrators.serial_lookback_years,
    )
    dip_sample = write_dip_sample(con, request.quarter, request.folder, settings.force.name)
    diagnostics = write_resolution_diagnostics(con, request.folder)
    files = (
        pack.csv,
        pack.html,
        pack.xlsx,
        *pack.subject_profiles,
        *dip_sample,
        *diagnostics,
    )
    return RestrictedOutputs(pack=pack, files=files)
