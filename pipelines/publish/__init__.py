"""The publish stage: every file under OUT/YYYY-Qn/, from the reporting layer, in one place.

The profile document is rendered by pipelines/report/ (its sections, charts and printed
tables); every other output is written by one writer of this package (tasking.py, fms.py,
restricted.py, data_files.py; sheets.py writes every workbook's tables), each reading
reporting.rpt_* (and the Python-written marts through their declared dbt sources). The order
matters: the data files published beside the profile are written first, so the profile's
publish guard (one pass of pipelines.disclosure over every published file) checks them too; a
hit withdraws the file and fails the run. Restricted outputs go under restricted/ (owner-only,
OFFICIAL-SENSITIVE) and are not published. During a CLI run `folder` is the staging folder
(pipelines/run_safety.py), which replaces OUT/YYYY-Qn only after everything here passed.

No Dagster here: pipelines/assets/publish.py only wires these two calls.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.contracts.geo import force_area_file
from pipelines.disclosure import SUPPRESSED, DisclosureError, locations
from pipelines.disclosure.guard import (
    GuardReport,
    WarehouseValues,
    guard_vocabulary,
    refuse_leak,
    scan_published_files,
    strip_library,
)
from pipelines.publish.data_files import write_data_quality, write_gis_layer, write_performance
from pipelines.publish.fms import write_fms
from pipelines.publish.restricted import (
    write_dip_sample,
    write_resolution_diagnostics,
    write_screening_review,
)
from pipelines.publish.tasking import PackResult, write_tasking_pack
from pipelines.report.profile import build_context, plotly_library, render_html
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
class PublishResult:
    path: Path
    bytes: int
    seconds: float
    guard: GuardReport
    suppressed_cells: int
    # The quarter's other published files the guard also passed (relative to the quarter dir).
    data_files_checked: tuple[str, ...] = ()


# Published beside the profile (written by the forecasting, hotspots and ingest assets and the
# publish step's writers): the FMS CSV, the GIS layer, the data-quality summary, the monthly
# performance table. restricted/ is not published, so not scanned.
PUBLISHED_DATA_FILES = (
    "fms/*.csv",
    "fms/*.xlsx",
    "gis/*.geojson",
    "data_quality.json",
    "*.csv",
    "performance_monthly.html",
)
# Of those, the files whose columns are counts, rates and labels by contract (spec/outputs.md):
# no location, so their neighbouring numbers are not read as BNG eastings and northings
# (locations.check_file).
COUNT_ONLY_DATA_FILES = ("fms/*", "performance_monthly.*", "data_quality.json")


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


def publish_profile(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    quarter_dir: Path,
    settings: Settings | None = None,
    boundary: Path | None = None,
    generated: dt.date | None = None,
) -> PublishResult:
    """Render, write, then guard. On a guard hit the file is removed and DisclosureError
    raised, so a profile that failed the check is never left where readers look."""
    started = time.perf_counter()
    context = build_context(con, quarter, settings, boundary, generated)
    html = render_html(context)
    path = quarter_dir / "profile.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.partial")
    tmp.write_text(html, encoding="utf-8")
    # The profile and the data files published beside it are scanned together: one lookup of
    # their probes among the warehouse's personal values. A hit in the profile withdraws it;
    # a hit in a data file withdraws that file and the profile, and fails the step. Then the
    # location check: no published file may show a suppressed cell (too few different
    # victims) by its id or a point inside it.
    data_files = sorted(p for pattern in PUBLISHED_DATA_FILES for p in quarter_dir.glob(pattern))
    guard, *data_guards = scan_published_files(
        [(tmp, plotly_library()), *((data_file, None) for data_file in data_files)],
        WarehouseValues(con),
        allowed_words=guard_vocabulary(con, settings, boundary),
    )
    refuse_leak(tmp, guard, label=path.name)
    k = (settings or Settings()).disclosure.min_count
    hidden = locations.load_suppressed(con, quarter, k)
    try:
        for data_file, data_guard in zip(data_files, data_guards, strict=True):
            label = data_file.relative_to(quarter_dir).as_posix()
            refuse_leak(data_file, data_guard, label=label)
            count_only = any(
                data_file.relative_to(quarter_dir).match(p) for p in COUNT_ONLY_DATA_FILES
            )
            if found := locations.check_file(data_file, hidden, bng_pairs=not count_only):
                data_file.unlink(missing_ok=True)
                raise DisclosureError(locations.leak_message(label, found))
        if found := locations.check_page(strip_library(html, plotly_library()), hidden):
            raise DisclosureError(locations.leak_message(path.name, found))
    except DisclosureError:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return PublishResult(
        path=path,
        bytes=path.stat().st_size,
        seconds=time.perf_counter() - started,
        guard=guard,
        suppressed_cells=html.count(f">{SUPPRESSED}<"),
        data_files_checked=tuple(p.relative_to(quarter_dir).as_posix() for p in data_files),
    )


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
    sample, the screening review sample and the resolution diagnostics page."""
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
    calibration = settings.screening.calibration
    review = write_screening_review(
        con,
        request.quarter,
        request.folder,
        settings.force.name,
        bands=calibration.bands,
        per_band=calibration.per_band,
        seed=settings.dip_sample.seed,
    )
    diagnostics = write_resolution_diagnostics(con, request.quarter, request.folder)
    files = (
        pack.csv,
        pack.html,
        pack.xlsx,
        *pack.subject_profiles,
        *dip_sample,
        *review,
        *diagnostics,
    )
    return RestrictedOutputs(pack=pack, files=files)
