"""generate_force: the public entry point. Tiles are simulated and written one at a time."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from pipelines.quarters import last_complete_quarter, quarter_end, quarter_start, shift_quarter
from pipelines.synthetic import badrows, truth
from pipelines.synthetic.geography import (
    LSOA_FILE,
    boundary_geojson,
    district_polygons,
    districts_geojson,
    load_base_area,
    tile_transforms,
    transform_area,
)
from pipelines.synthetic.presets import PRESETS, Rates
from pipelines.synthetic.simulate import ID_BLOCK, Window
from pipelines.synthetic.tile import EXTRACT_COLUMNS, build_tile, crime_person_mentions
from pipelines.synthetic.writer import TableWriter, to_arrow

TRUTH_COLUMNS: dict[str, list[str]] = {
    "persons": [
        "true_person_id",
        "forename",
        "surname",
        "previous_surname",
        "sex",
        "date_of_birth",
        "postcode",
        "lsoa_code",
        "home_latitude",
        "home_longitude",
        "is_victim",
        "is_perpetrator",
        "perpetrator_type",
        "breaches_orders",
        "n_nominal_ids",
        "nominal_ids",
    ],
    "person_mentions": ["source", "record_key", "person_id", "true_person_id", "quarantined"],
    "crimes": [
        "crime_id",
        "course_id",
        "is_true_stalking",
        "is_hidden_stalking",
        "identified_route",
        "recorded_as",
        "victim_true_person_id",
        "perpetrator_true_person_id",
        "suspect_recorded",
        "reported_date",
        "quarantined",
    ],
    "courses": [
        "course_id",
        "course_type",
        "is_stalking",
        "is_domestic_abuse",
        "relationship",
        "perpetrator_true_person_id",
        "victim_true_person_id",
        "start_date",
        "end_date",
        "suspect_identified",
        "n_crimes_in_window",
        "has_order",
    ],
    "orders": ["order_id", "course_id", "subject_true_person_id", "protected_true_person_id"],
    "intelligence": [
        "intel_id",
        "course_id",
        "subject_true_person_id",
        "victim_true_person_id",
        "is_true_stalking",
    ],
    "repeat_victims": ["universe", "quarter", "true_person_id", "crimes_12m"],
    "serial_perpetrators": [
        "universe",
        "quarter",
        "true_person_id",
        "crimes_3y",
        "victims_3y",
        "is_repeat",
        "is_serial",
    ],
    "hotspots": [
        "hotspot_id",
        "kind",
        "lsoa_code",
        "latitude",
        "longitude",
        "radius_m",
        "weight",
        "active_from",
        "active_to",
    ],
    "bad_rows": ["file", "source_row", "rule", "injected", "key"],
}
KEY_COLUMN = {
    "crimes": "crime_id",
    "crime_persons": "crime_id",
    "intelligence": "intel_id",
    "orders": "order_id",
    "breaches": "breach_id",
}


def generate_force(
    scale: str,
    seed: int,
    out_dir: Path,
    end_quarter: str | None = None,
    years: int | None = None,
    fmt: str = "csv",
    *,
    bad_rows: bool = True,
    bad_row_rate: float = 0.005,
    rates: Rates | None = None,
    workers: int | None = None,
) -> dict:
    """Simulate a force and write the five extracts, force_area.geojson and truth/.

    scale: tiny | small | force | large | national (see presets.PRESETS).
    end_quarter: last quarter of data, default the last complete quarter before today.
    years: length of the extract window in years (default 5).
    bad_rows: inject dirty rows (each breaking one contract rule) at bad_row_rate.
    workers: processes for multi-tile presets (default 1). >1 uses a spawn pool: output is
    byte-identical; callers' scripts need an `if __name__ == "__main__"` guard.
    Returns {"scale", "seed", "start_date", "end_date", "rows": {file: n}, "bad_rows": n,
    "seconds": s}.
    """
    t0 = time.perf_counter()
    if scale not in PRESETS:
        raise ValueError(f"scale must be one of {', '.join(PRESETS)}, got {scale!r}")
    preset = PRESETS[scale]
    rates = rates or Rates()
    end_quarter = end_quarter or last_complete_quarter(dt.date.today())
    years = 5 if years is None else int(years)
    if years < 1:
        raise ValueError("years must be at least 1")
    first_q = shift_quarter(end_quarter, -(4 * years - 1))
    start, end = quarter_start(first_q), quarter_end(end_quarter)
    window = Window.of(start.isoformat(), end.isoformat())
    quarters = truth.window_quarters(start, end)
    if preset.tiles > 100 * ID_BLOCK:  # pragma: no cover - ids would not fit
        raise ValueError("too many tiles")

    out_dir = Path(out_dir)
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    base_area = load_base_area(LSOA_FILE, preset.lads)
    transforms = tile_transforms(preset.tiles, base_area.boundary.bounds, preset.target_bbox)
    areas_bounds = [_bounds(base_area.boundary.bounds, t) for t in transforms]
    bbox = (
        min(b[0] for b in areas_bounds),
        min(b[1] for b in areas_bounds),
        max(b[2] for b in areas_bounds),
        max(b[3] for b in areas_bounds),
    )

    writers = {
        name: TableWriter(out_dir / f"{name}.{fmt}", cols, fmt)
        for name, cols in EXTRACT_COLUMNS.items()
    }
    truth_writers = {
        name: TableWriter(truth_dir / f"{name}.csv", cols, "csv")
        for name, cols in TRUTH_COLUMNS.items()
    }
    boundaries = [transform_area(base_area, t).boundary for t in transforms]
    job = _Job(
        preset.lads, window, preset.volume, rates, seed, bad_rows, bad_row_rate, bbox, quarters
    )
    try:
        for _k, tables in _tiles(job, transforms, workers):
            _write_tile(tables, writers, truth_writers)
    finally:
        for w in [*writers.values(), *truth_writers.values()]:
            w.close()
    (out_dir / "force_area.geojson").write_text(boundary_geojson(_parts(boundaries)))
    # The districts of the synthetic force (each tile's copies numbered), so the places
    # section works from the extracts alone, as a force's own district file would.
    districts = district_polygons(LSOA_FILE, preset.lads)
    named = [
        (name if len(transforms) == 1 else f"{name} {k + 1}", _transformed(geom, t))
        for k, t in enumerate(transforms)
        for name, geom in districts
    ]
    (out_dir / "districts.geojson").write_text(districts_geojson(named))
    return {
        "scale": scale,
        "seed": seed,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "format": fmt,
        "rows": {name: w.rows for name, w in writers.items()},
        "bad_rows": truth_writers["bad_rows"].rows,
        "seconds": round(time.perf_counter() - t0, 3),
    }


def _transformed(geom: shapely.Geometry, t: tuple) -> shapely.Geometry:
    ax, bx, ay, by = t
    if t == (1.0, 0.0, 1.0, 0.0):
        return geom
    return shapely.transform(geom, lambda c: c * [ax, ay] + [bx, by])


def _bounds(b: tuple, t: tuple) -> tuple[float, float, float, float]:
    ax, bx, ay, by = t
    return (b[0] * ax + bx, b[1] * ay + by, b[2] * ax + bx, b[3] * ay + by)


def _parts(boundaries: list) -> list:
    """Tiles are disjoint, so their polygons can simply be collected (no costly union)."""
    if len(boundaries) == 1:
        return boundaries
    return [shapely.multipolygons(shapely.get_parts(np.array(boundaries)))]


@dataclass(frozen=True)
class _Job:
    """Everything a worker needs to compute one tile (picklable)."""

    lads: tuple[str, ...] | None
    window: Window
    volume: float
    rates: Rates
    seed: int
    bad_rows: bool
    rate: float
    bbox: tuple[float, float, float, float]
    quarters: list[str]


def _compute_tile(job: _Job, k: int, transform: tuple) -> dict:
    """Simulate tile k and return its finished tables (bad rows tile-relative). Pure: the
    tile's random stream is default_rng([seed, k]), whichever process runs it."""
    rng = np.random.default_rng([job.seed, k])
    area = transform_area(load_base_area(LSOA_FILE, job.lads), transform)
    tile = build_tile(area, job.window, job.volume, job.rates, k, rng)
    base = k * ID_BLOCK
    extracts = tile.extracts
    if job.bad_rows:
        extracts, bad = badrows.inject(extracts, job.rate, job.bbox, rng)
    else:
        bad = pd.DataFrame({"file": [], "row": np.array([], dtype=int), "rule": [], "injected": []})
    persons = extracts["crime_persons"]
    bad_person_rows = bad.loc[bad.file == "crime_persons", "row"].to_numpy(int)
    cp_mentions = crime_person_mentions(persons, base)
    cp_mentions["quarantined"] = np.isin(np.arange(len(persons)), bad_person_rows)
    other = tile.truth["person_mentions"].copy()
    other["quarantined"] = _quarantined_keys(other, bad, extracts)
    mentions = pd.concat([cp_mentions, other], ignore_index=True)

    t_crimes = tile.truth["crimes"]
    t_crimes["quarantined"] = truth.crimes_quarantined(
        t_crimes["crime_id"].to_numpy(), bad, extracts["crimes"]
    )
    # a suspect whose crime_persons row is quarantined is not recorded for the pipeline
    loaded = persons.loc[~cp_mentions["quarantined"].to_numpy()]
    has_suspect = set(loaded.loc[loaded.role != "victim", "crime_id"])
    t_crimes["suspect_recorded"] = t_crimes["crime_id"].isin(has_suspect)
    keys = np.empty(len(bad), dtype=object)
    for f in bad.file.unique():
        m = (bad.file == f).to_numpy()
        keys[m] = extracts[f][KEY_COLUMN[f]].to_numpy()[bad.row.to_numpy(int)[m]]
    bad = bad.assign(key=keys)
    t = tile.truth
    truth_tables = {
        "persons": t["persons"],
        "person_mentions": mentions,
        "crimes": t_crimes,
        "courses": t["courses"],
        "orders": t["orders"],
        "intelligence": t["intelligence"],
        "hotspots": t["hotspots"],
        "repeat_victims": truth.repeat_victims(t_crimes, job.quarters),
        "serial_perpetrators": truth.serial_perpetrators(t_crimes, job.quarters),
    }
    return {
        "extracts": {n: to_arrow(df, EXTRACT_COLUMNS[n]) for n, df in extracts.items()},
        "truth": {n: to_arrow(df, TRUTH_COLUMNS[n]) for n, df in truth_tables.items()},
        "bad": bad,
    }


def _tiles(job: _Job, transforms: list, workers: int | None) -> Iterator[tuple[int, dict]]:
    """Tiles in order. Several tiles: a process pool computes ahead while the main process
    writes, with a bounded number in flight so memory stays that of a few tiles."""
    n = len(transforms)
    if workers is None:
        # Sequential by default: on a shared 2-core machine a pool was slower (spawn + import
        # cost, contention), and spawn needs an `if __name__ == "__main__"` guard in scripts.
        workers = 1
    if workers <= 1 or n == 1:
        for k in range(n):
            yield k, _compute_tile(job, k, transforms[k])
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: deque = deque()
        nxt = 0
        while nxt < n or pending:
            while nxt < n and len(pending) < 2 * workers:
                pending.append((nxt, pool.submit(_compute_tile, job, nxt, transforms[nxt])))
                nxt += 1
            k, fut = pending.popleft()
            yield k, fut.result()


def _write_tile(tables: dict, writers: dict, truth_writers: dict) -> None:
    """Append one tile; bad rows get their 1-based row in the whole file."""
    bad = tables["bad"]
    if len(bad):
        offsets = {name: w.rows for name, w in writers.items()}
        bad = bad.assign(
            source_row=[offsets[f] + r + 1 for f, r in zip(bad.file, bad.row, strict=True)]
        )
        truth_writers["bad_rows"].write(bad)
    for name, w in writers.items():
        w.write(tables["extracts"][name])
    for name, df in tables["truth"].items():
        truth_writers[name].write(df)


def _quarantined_keys(mentions: pd.DataFrame, bad: pd.DataFrame, extracts: dict) -> np.ndarray:
    """Intelligence/order mentions whose (first) row was injected bad."""
    q = np.zeros(len(mentions), bool)
    for file, sources in (
        ("intelligence", ("intelligence_subject", "intelligence_victim")),
        ("orders", ("order_subject", "order_protected")),
    ):
        rows = bad.loc[(bad.file == file) & (bad.rule != "duplicate_key"), "row"].to_numpy(int)
        keys = extracts[file][KEY_COLUMN[file]].to_numpy()[rows]
        q |= (
            mentions["source"].isin(sources).to_numpy()
            & mentions["record_key"].isin(keys).to_numpy()
        )
    return q
