"""Stage floors of the end-to-end benchmark: each stage's computation alone, with no
orchestration, on the same warehouse (DuckDB reading the extracts, `dbt build` alone, the
pure Python functions of resolution, hotspots and forecasting)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pipelines.contracts.loader import LOAD_ORDER
from pipelines.evaluation.bench_analysis import END_QUARTER


# =========================================================================== floors
def extract_file(extracts: Path, name: str) -> Path | None:
    for suffix in (".csv", ".parquet"):
        if (extracts / f"{name}{suffix}").exists():
            return extracts / f"{name}{suffix}"
    return None


def extract_reader_sql(path: Path) -> str:
    quoted = str(path).replace("'", "''")
    if path.suffix == ".parquet":
        return f"read_parquet('{quoted}')"
    return f"read_csv('{quoted}', all_varchar = true, header = true)"


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def floor_ingest(extracts: Path, warehouse: Path, run_dir: Path) -> dict[str, Any]:
    """DuckDB reading the five extract files into tables, nothing else."""
    import duckdb

    def read_all() -> None:
        with duckdb.connect() as con:
            for name in LOAD_ORDER:
                path = extract_file(extracts, name)
                if path is not None:
                    con.execute(f"create table {name} as select * from {extract_reader_sql(path)}")

    seconds, _ = _timed(read_all)
    return {"seconds": seconds, "what": "DuckDB read_csv of the 5 extracts"}


def _dbt_selection() -> str:
    try:
        from pipelines.dbt_project import BEFORE_RESOLUTION

        return BEFORE_RESOLUTION
    except Exception:  # the wiring module is someone else's; fall back to its known value
        return "resource_type:seed staging tag:before_resolution"


def floor_dbt(which: str, warehouse: Path, run_dir: Path) -> dict[str, Any]:
    """`dbt build` alone, same selection and vars as the Dagster step, on the same warehouse,
    in this process as the runs invoke it, the project already parsed (once per process, like a
    run): what remains is dbt's own work around the SQL and the SQL."""
    from pipelines.dbt_project import (
        DbtRunFailed,
        folded_column_checks_exclusion,
        project_manifest,
        run_dbt,
    )
    from pipelines.settings import dbt_vars, load_settings

    target = run_dir / f"dbt-floor-{which}"
    target.mkdir(parents=True, exist_ok=True)
    selection = ["--select" if which == "dbt_staging" else "--exclude", *_dbt_selection().split()]
    variables = dbt_vars(load_settings())
    project_manifest(variables)
    error: str | None = None

    def build() -> None:
        nonlocal error
        try:
            run_dbt(
                "build", "--quiet", *selection, *folded_column_checks_exclusion(),
                warehouse=warehouse.resolve(), variables=variables, target_path=target,
                log_path=target,
            )  # fmt: skip
        except DbtRunFailed as failure:
            error = str(failure).splitlines()[-1]

    seconds, _ = _timed(build)
    results = target / "run_results.json"
    sql = json.loads(results.read_text())["elapsed_time"] if results.exists() else None
    out = {
        "seconds": seconds,
        "what": "`dbt build` alone",
        "dbt_elapsed_s": round(sql, 2) if sql is not None else None,
        "dbt_startup_s": round(seconds - sql, 2) if sql is not None else None,
    }
    if error is not None:
        out["error"] = [error]
    return out


def floor_resolution(extracts: Path, warehouse: Path, run_dir: Path) -> dict[str, Any]:
    """resolve_mentions alone on the run's int_person_mentions (read once, as Arrow)."""
    import duckdb

    from pipelines.resolution import ResolutionConfig, resolve_mentions
    from pipelines.settings import load_settings

    settings = load_settings().resolution
    config = ResolutionConfig(
        match_probability_threshold=settings.match_probability_threshold,
        dob_conflict_years=settings.dob_conflict_years,
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        mentions = con.sql("select * from intermediate.int_person_mentions").to_arrow_table()
    seconds, _ = _timed(lambda: resolve_mentions(mentions, config))
    return {"seconds": seconds, "what": "resolve_mentions (Splink) alone"}


def floor_hotspots(extracts: Path, warehouse: Path, run_dir: Path) -> dict[str, Any]:
    """compute_hotspots alone on the points the hotspots asset reads, as the asset calls it
    (density for the published quarters only)."""
    import duckdb

    from pipelines.hotspots import HotspotParams, compute_hotspots, published_quarters

    with duckdb.connect(str(warehouse), read_only=True) as con:
        points = con.execute(
            "select quarter, latitude, longitude from marts.stalking_crimes "
            "where latitude is not null and longitude is not null and quarter <= ?",
            [END_QUARTER],
        ).df()
    published = published_quarters(END_QUARTER)
    seconds, _ = _timed(
        lambda: compute_hotspots(
            points,
            HotspotParams.from_settings(load_settings_cached().hotspots),
            density_quarters=published,
        )
    )
    return {"seconds": seconds, "what": "compute_hotspots (Gi*, KDE) alone"}


def floor_forecast(extracts: Path, warehouse: Path, run_dir: Path) -> dict[str, Any]:
    """forecast_series alone on the series the forecasting asset reads (same horizons)."""
    import math

    import duckdb
    import pandas as pd

    from pipelines.forecasting import ForecastParams, forecast_series
    from pipelines.forecasting.fms import months_to_cover
    from pipelines.quarters import quarter_end

    settings = load_settings_cached()
    params = ForecastParams.from_settings(settings.forecasting)
    as_of = quarter_end(END_QUARTER)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        series = con.execute(
            "select series, period, period_start, value from marts.demand_series "
            "where is_complete and period_start <= ?",
            [as_of],
        ).df()
    wanted = getattr(settings.forecasting, "series", None)
    if wanted:
        series = series[series["series"].isin(wanted)]

    def run() -> None:
        for period, part in series.groupby("period"):
            last = pd.Timestamp(part["period_start"].max()).date()
            months = months_to_cover(last, as_of, params.horizon_years)
            horizon = months if period == "month" else math.ceil(months / 3)
            frame = part.assign(series=part["series"] + "|" + part["period"])
            forecast_series(frame[["series", "period_start", "value"]], horizon, params)

    seconds, _ = _timed(run)
    return {"seconds": seconds, "what": "forecast_series (statsforecast) alone"}


def floor_publish(
    extracts: Path, warehouse: Path, run_dir: Path, quarter: str = END_QUARTER
) -> dict[str, Any]:
    """The two publish steps' calls alone (the published files and the profile with its
    guard, then the restricted outputs), as the steps make them, on the run's warehouse opened
    read-only, into run_dir/publish-floor/<quarter>: the rendering, the workbooks and the
    guard, without Dagster and without the run's staging of the quarter folder."""
    import datetime as dt
    import shutil

    import duckdb

    from pipelines.evaluation.bench_analysis import RUN_DATE
    from pipelines.publish import (
        PublishRequest,
        force_boundary,
        publish_open_outputs,
        publish_restricted_outputs,
    )

    settings = load_settings_cached()
    folder = run_dir / "publish-floor"
    shutil.rmtree(folder, ignore_errors=True)
    request = PublishRequest(
        quarter=quarter,
        folder=folder / quarter,
        settings=settings,
        generated=dt.date.fromisoformat(RUN_DATE),
        boundary=force_boundary(extracts, settings.force.area_geojson),
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:

        def publish() -> None:
            publish_open_outputs(con, request)
            publish_restricted_outputs(con, request)

        seconds, _ = _timed(publish)
    return {"seconds": seconds, "what": "the publish calls alone (profile, files, guard)"}


def load_settings_cached() -> Any:
    from pipelines.settings import load_settings

    return load_settings()


FLOORS: dict[str, Callable[[Path, Path, Path], dict[str, Any]]] = {
    "ingest": floor_ingest,
    "dbt_staging": lambda e, w, r: floor_dbt("dbt_staging", w, r),
    "resolution": floor_resolution,
    "dbt_analytics": lambda e, w, r: floor_dbt("dbt_analytics", w, r),
    "hotspots": floor_hotspots,
    "forecast": floor_forecast,
    "publish": floor_publish,
}


def measure_floors(
    stages: Iterable[str], extracts: Path, warehouse: Path, run_dir: Path
) -> dict[str, dict[str, Any]]:
    floors: dict[str, dict[str, Any]] = {}
    for stage in stages:
        fn = FLOORS.get(stage)
        if fn is None:
            continue
        print(f"[bench]   floor {stage} ...", flush=True)
        try:
            floors[stage] = fn(extracts, warehouse, run_dir)
        except Exception as error:  # a floor that cannot run is reported, not fatal
            floors[stage] = {"seconds": None, "what": f"not measured: {type(error).__name__}"}
            print(f"[bench]   floor {stage} failed: {error}", flush=True)
    return floors
