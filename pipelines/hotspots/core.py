"""Hotspots for every quarter of a point set: grid → Gi* → classes → change → KDE."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from pipelines.hotspots.change import change_classes
from pipelines.hotspots.gistar import GI_CLASSES, gi_star, prefetch_permutation_table
from pipelines.hotspots.grid import (
    cell_centres_wgs84,
    cell_ids,
    cell_index,
    grid_weights,
    lonlat_to_bng,
    study_cells,
)
from pipelines.hotspots.kde import kde_at
from pipelines.hotspots.predict import (
    Predictions,
    PredictParams,
    Raster,
    predictions,
    summarise,
)
from pipelines.quarters import shift_quarter
from pipelines.settings import HotspotSettings

ALL_PERIODS = "all"
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class HotspotParams:
    cell_size_m: int = 500
    permutations: int = 999
    fdr_alpha: float = 0.05
    neighbour_rings: int = 1
    study_buffer_cells: int = 2
    kde_bandwidth_m: float = 500.0
    kde_tolerance_per_km2: float = 0.0001
    change_window_quarters: int = 4
    # A Gi* hot cell with no crime of its own is flagged only through its neighbours; for
    # tasking (and in the back-test) we flag only hot cells that hold crime.
    hotspot_needs_crime: bool = True
    seed: int = 12345
    # The predicted hot cells (is_hotspot): candidates, equal area, back-test (predict.py).
    prediction: PredictParams = PredictParams()

    @classmethod
    def from_settings(
        cls, hotspots: HotspotSettings | None = None, cell_size_m: int | None = None
    ) -> HotspotParams:
        """From the run's hotspot settings (None: the defaults, the same as settings.yaml)."""
        s = hotspots or HotspotSettings()
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in s.model_dump().items() if k in fields and k != "prediction"}
        if cell_size_m:
            values["cell_size_m"] = int(cell_size_m)
        p = s.prediction
        values["prediction"] = PredictParams(
            area_share=p.area_share,
            naive_periods=p.naive_periods,
            train_periods=p.train_periods,
            backtest_folds=p.backtest_folds,
            smoothing=tuple(p.smoothing),
            kde_bandwidths_m=tuple(float(b) for b in p.kde_bandwidths_m),
            ewm_half_lives=tuple(float(h) for h in p.ewm_half_lives),
            memory_periods=p.memory_periods,
            ranker_alpha=p.ranker_alpha,
            methods=tuple(p.methods),
            seed=s.seed,
        )
        return cls(**values)


@dataclasses.dataclass(frozen=True)
class HotspotOutputs:
    """hotspots: one row per study cell per quarter; density: the KDE surfaces;
    method_backtest: one row per candidate method (the force's own back-test, scored up to
    the last quarter); folds: the back-test's fold x method scores."""

    hotspots: pd.DataFrame
    density: pd.DataFrame
    method_backtest: pd.DataFrame
    folds: pd.DataFrame


def located(points: pd.DataFrame) -> pd.DataFrame:
    """Rows with usable WGS84 coordinates inside Great Britain's rough bounds."""
    lat = pd.to_numeric(points["latitude"], errors="coerce")
    lon = pd.to_numeric(points["longitude"], errors="coerce")
    ok = lat.between(49.0, 61.5) & lon.between(-9.0, 2.5)
    return points.loc[ok].assign(latitude=lat[ok], longitude=lon[ok])


def add_cells(points: pd.DataFrame, cell_size_m: int) -> pd.DataFrame:
    x, y = lonlat_to_bng(points["longitude"].to_numpy(), points["latitude"].to_numpy())
    col, row = cell_index(x, y, cell_size_m)
    return points.assign(x=x, y=y, col=col, row=row)


def published_quarters(quarter: str) -> list[str]:
    """The quarters the profile compares (a year earlier, the previous one, the run's): the
    ones that get a density surface."""
    return [shift_quarter(quarter, -4), shift_quarter(quarter, -1), quarter]


def compute_hotspots(
    points: pd.DataFrame,
    params: HotspotParams,
    inference_quarters: Collection[str] | None = None,
    density_quarters: Collection[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(hotspots, density) of `hotspot_outputs`."""
    out = hotspot_outputs(points, params, inference_quarters, density_quarters)
    return out.hotspots, out.density


def hotspot_outputs(
    points: pd.DataFrame,
    params: HotspotParams,
    inference_quarters: Collection[str] | None = None,
    density_quarters: Collection[str] | None = None,
    executor: Executor | None = None,
) -> HotspotOutputs:
    """points: latitude, longitude, quarter. Returns (hotspots, density): hotspots has one row
    per study cell per quarter; density one row per study cell per quarter in
    `density_quarters`. The study cells are the same in every quarter (cells near any point in
    any quarter), so quarters compare like with like.

    `inference_quarters` get PySAL's permutation check (`p_sim`, for the cells that pass the
    FDR cut); the others the exact-randomisation FDR decision alone, `p_sim` null.
    `density_quarters` get a KDE surface. None = every quarter, for both arguments (the asset
    passes only `density_quarters`: nothing reads older surfaces).
    `executor` (another process, optional): draws the permutation table of the Monte-Carlo
    check there, then the first density surface and the predictions, while the other surfaces
    and the Gi* of every quarter are computed here (the same values either way).
    """
    pts = add_cells(located(points), params.cell_size_m)
    pts["quarter"] = pts["quarter"].astype(str)
    quarters = sorted(pts["quarter"].unique())
    if not quarters:
        return HotspotOutputs(
            _empty_hotspots(),
            _empty_density(),
            summarise(pd.DataFrame(), params.prediction),
            pd.DataFrame(),
        )
    inference = set(quarters if inference_quarters is None else inference_quarters)
    with_density = set(quarters if density_quarters is None else density_quarters)
    cells = study_cells(pts["col"].to_numpy(), pts["row"].to_numpy(), params.study_buffer_cells)
    weights = grid_weights(cells, params.neighbour_rings)
    lat, lon, cx, cy = cell_centres_wgs84(cells, params.cell_size_m)
    ids = cell_ids(cells["col"], cells["row"], params.cell_size_m)
    centres = np.column_stack([cx, cy])
    # Each point's cell position, once for all quarters (study cells hold every point).
    position = pd.Series(np.arange(len(cells)), index=pd.MultiIndex.from_frame(cells))
    point_cell = position.loc[pd.MultiIndex.from_frame(pts[["col", "row"]])].to_numpy()
    quarter_code = pd.Categorical(pts["quarter"], categories=quarters).codes
    counts_by_quarter = np.zeros((len(quarters), len(cells)), np.int64)
    np.add.at(counts_by_quarter, (quarter_code, point_cell), 1)

    if executor is not None and params.permutations and inference & set(quarters):
        prefetch_permutation_table(
            executor,
            int(weights.cardinality.max()) - 1,
            len(cells),
            params.permutations,
            params.seed,
        )
    # The panel's key columns as categoricals (codes into the grid's ids and the quarters):
    # ~13 M rows at national scale, where a column of strings costs a Python object per row
    # to build, to pickle back from the worker and to match on. Its rows come in the order of
    # its table, (quarter, cell_id): each quarter's cells in the order of their ids
    # (`by_id`, positions into the grid), so that the writer need not sort 13 M rows on two
    # strings. The computation itself runs in the grid's order.
    by_id = np.argsort(ids, kind="stable")
    cell_categories = ids[by_id]
    sorted_codes = np.arange(len(ids), dtype=np.int32)
    surface_quarters = [quarter for quarter in quarters if quarter in with_density]

    def surface_args(quarter: str) -> tuple[Any, ...]:
        points_xy = pts.loc[quarter_code == quarters.index(quarter), ["x", "y"]].to_numpy()
        return points_xy, centres, params.kde_bandwidth_m, params.kde_tolerance_per_km2

    # `executor`'s process is idle once it has drawn the permutation table (~8 s of CPU on the
    # national grid, while this process computes the surfaces): it then computes the first
    # surface and the predictions (~10 s together), which need neither the table nor Gi*,
    # while this process computes the other surfaces and every quarter's Gi*.
    pp = params.prediction
    raster = Raster.from_cells(cells, params.cell_size_m)
    first_surface = (
        _in_background(executor, kde_at, *surface_args(surface_quarters[0]))
        if surface_quarters
        else None
    )
    predicted = _in_background(
        executor, predictions, counts_by_quarter, raster, weights, pp, quarters, by_id
    )
    surfaces = {quarter: kde_at(*surface_args(quarter)) for quarter in surface_quarters[1:]}
    per_quarter = [
        gi_star(
            counts_by_quarter[qi],
            weights,
            params.permutations,
            params.fdr_alpha,
            params.seed,
            inference=quarter in inference,
        )
        for qi, quarter in enumerate(quarters)
    ]
    periods = len(quarters)

    def stacked(column: str) -> np.ndarray:
        return np.concatenate([gi[column][by_id] for gi in per_quarter])

    hot = pd.DataFrame(
        {
            "quarter": pd.Categorical.from_codes(
                np.repeat(np.arange(periods, dtype=np.int32), len(ids)), categories=quarters
            ),
            "cell_id": pd.Categorical.from_codes(
                np.tile(sorted_codes, periods), categories=cell_categories
            ),
            "latitude": np.tile(lat[by_id], periods),
            "longitude": np.tile(lon[by_id], periods),
            "easting": np.tile(cx[by_id], periods),
            "northing": np.tile(cy[by_id], periods),
            "cell_size_m": params.cell_size_m,
            "crimes": counts_by_quarter[:, by_id].ravel(),
            "gi_z": stacked("gi_z"),
            "p_norm": stacked("p_norm"),
            "p_sim": stacked("p_sim"),
            "p_fdr_cut": stacked("p_cut"),
            "gi_class": pd.Categorical.from_codes(stacked("gi_class"), categories=GI_CLASSES),
        },
        # Each column its own block: consolidating the float columns into one 2-D block
        # copies ~1 GB at national scale (~3 s of CPU) for no reader's benefit.
        copy=False,
    )
    hot["is_significant"] = hot["gi_class"] == "hot"
    if params.hotspot_needs_crime:
        hot["is_significant"] &= hot["crimes"] > 0
    change = change_classes(hot, params.change_window_quarters)
    # Prediction: the method chosen on the force's own quarters, each quarter's cells flagged
    # for the quarter after it from the data up to it.
    prediction: Predictions = predicted()
    hot["is_hotspot"] = prediction.is_hotspot
    hot["prediction_method"] = pd.Categorical.from_codes(
        np.zeros(len(hot), np.int8), categories=[prediction.method]
    )
    hot["prediction_score"] = prediction.score
    hot["change_class"] = change
    if first_surface is not None:
        surfaces[surface_quarters[0]] = first_surface()
    densities = [
        pd.DataFrame(
            {
                "quarter": pd.Categorical.from_codes(
                    np.full(len(ids), qi, np.int32), categories=surface_quarters
                ),
                "cell_id": pd.Categorical.from_codes(sorted_codes, categories=cell_categories),
                "latitude": lat[by_id],
                "longitude": lon[by_id],
                "density_per_km2": surfaces[quarter][by_id],
                "bandwidth_m": float(params.kde_bandwidth_m),
            }
        )
        for qi, quarter in enumerate(surface_quarters)
    ]
    density = pd.concat(densities, ignore_index=True) if densities else _empty_density()
    summary = prediction.summary
    summary.insert(0, "quarter", quarters[-1])
    return HotspotOutputs(hot, density, summary, prediction.folds)


def _in_background(
    executor: Executor | None, function: Callable[..., T], *args: Any
) -> Callable[[], T]:
    """`function(*args)` started in `executor`, its result returned by the callable; without
    an executor it is computed when asked for. A process that died (e.g. killed) leaves it to
    be computed here: the same function on the same arguments, so the same result."""
    if executor is None:
        return lambda: function(*args)
    future = executor.submit(function, *args)

    def result() -> T:
        try:
            return future.result()
        except Exception:
            return function(*args)

    return result


def _empty_hotspots() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "quarter",
            "cell_id",
            "latitude",
            "longitude",
            "easting",
            "northing",
            "cell_size_m",
            "crimes",
            "gi_z",
            "p_norm",
            "p_sim",
            "p_fdr_cut",
            "gi_class",
            "is_significant",
            "is_hotspot",
            "prediction_method",
            "prediction_score",
            "change_class",
        ]
    )


def _empty_density() -> pd.DataFrame:
    return pd.DataFrame(
        columns=["quarter", "cell_id", "latitude", "longitude", "density_per_km2", "bandwidth_m"]
    )


# --------------------------------------------------------------------------- CLI entry point
_DATE_COLUMNS = ("date", "reported_date", "month", "period_start", "quarter")


def _quarter_column(frame: pd.DataFrame) -> pd.Series:
    """Quarter of each row from the first date-like column (police.uk `Month` is YYYY-MM);
    one period 'all' when the file has none."""
    lower = {c.lower(): c for c in frame.columns}
    for name in _DATE_COLUMNS:
        if name in lower:
            raw = frame[lower[name]].astype(str)
            if name == "quarter":
                return raw
            dates = pd.to_datetime(raw, errors="coerce", format="mixed", dayfirst=False)
            return (
                dates.dt.year.astype("Int64").astype(str)
                + "-Q"
                + dates.dt.quarter.astype("Int64").astype(str)
            )
    return pd.Series(ALL_PERIODS, index=frame.index)


def read_points(path: Path) -> pd.DataFrame:
    """Every row of a points file: latitude, longitude as written, and its quarter ('<NA>' in
    it where the row's date cannot be read)."""
    frame = pd.read_csv(path, low_memory=False)
    lower = {c.lower(): c for c in frame.columns}
    missing = {"latitude", "longitude"} - set(lower)
    if missing:
        raise ValueError(f"{path}: needs columns latitude and longitude (missing {missing})")
    return pd.DataFrame(
        {
            "latitude": frame[lower["latitude"]],
            "longitude": frame[lower["longitude"]],
            "quarter": _quarter_column(frame),
        }
    )


def left_out_points(points: pd.DataFrame) -> dict[str, list[int]]:
    """The rows of a points file (`read_points`) that no hotspot can use, by reason, as data
    rows (1-based, as `spp check` counts): no location (valid: an online crime, a police.uk
    row "no location"), a location that is not a number, one outside Great Britain, a date
    that cannot be read. Every other row is used."""
    lat = pd.to_numeric(points["latitude"], errors="coerce")
    lon = pd.to_numeric(points["longitude"], errors="coerce")
    empty = points["latitude"].isna() & points["longitude"].isna()
    not_number = ~empty & (lat.isna() | lon.isna())
    outside = ~empty & ~not_number & ~(lat.between(49.0, 61.5) & lon.between(-9.0, 2.5))
    undated = points["quarter"].str.contains("<NA>", na=True) & ~(empty | not_number | outside)
    reasons = {
        "no latitude/longitude": empty,
        "one of latitude and longitude missing or not a number": not_number,
        "outside Great Britain": outside,
        "date not readable": undated,
    }
    return {
        reason: [int(i) + 1 for i in mask.to_numpy().nonzero()[0]]
        for reason, mask in reasons.items()
        if mask.any()
    }


@dataclasses.dataclass(frozen=True)
class WrittenHotspots:
    path: Path
    rows_read: int
    left_out: dict[str, list[int]]  # reason -> data rows (`left_out_points`)


def find_hotspots_in_file(
    points: Path,
    cell_size_m: int | None,
    out: str | None,
    settings: HotspotSettings | None = None,
) -> WrittenHotspots:
    """`spp hotspots`: hotspots for any CSV of WGS84 points (per quarter when the file has a
    date or month column); writes a CSV with the columns of marts.hotspots (is_hotspot: the
    cells of the method that won the back-test on the file's own quarters, as in the
    profile) and, beside it, `<out stem>_backtest.csv` with the columns of
    marts.hotspot_method_backtest. Says which rows it could not use and why."""
    points = Path(points)
    if not points.exists():
        raise FileNotFoundError(f"{points}: file not found")
    params = HotspotParams.from_settings(settings, cell_size_m)
    every_row = read_points(points)
    frame = every_row[~every_row["quarter"].str.contains("<NA>", na=True)]
    if located(frame).empty:
        raise ValueError(f"{points}: no rows with valid latitude/longitude in Great Britain")
    result = hotspot_outputs(frame, params)
    target = Path(out) if out else points.with_name(f"{points.stem}_hotspots.csv")
    target.parent.mkdir(parents=True, exist_ok=True)
    from pipelines.disclosure.formulas import neutralise_formulas

    neutralise_formulas(result.hotspots).to_csv(target, index=False)
    neutralise_formulas(result.method_backtest).to_csv(
        target.with_name(f"{target.stem}_backtest.csv"), index=False
    )
    return WrittenHotspots(target, len(every_row), left_out_points(every_row))
