"""Hotspot back-test on real police.uk points: PAI, PEI and RRI of Gi* vs naive vs KDE.

`python -m pipelines.evaluation.hotspots_backtest` writes
docs/evaluation/hotspots_backtest.{json,md}.

Rolling folds: train on `k` months of 'Violence and sexual offences' points, flag cells, score
on the following month. Methods flag the same area, so PAI differences are due to *where*:
- gistar: cells classed hot by Gi* (the pipeline's method, pipelines.hotspots.gi_star);
- naive: the same number of cells with the highest training counts (ties broken at random);
- kde: the same number of cells with the highest training KDE density.
A (total area) is the force area from the LSOA boundaries; C counts every test crime in it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.hotspots.core import HotspotParams, add_cells, compute_hotspots, located
from pipelines.hotspots.evaluate import pai, pei, rri
from pipelines.hotspots.gistar import gi_star
from pipelines.hotspots.grid import cell_centres_wgs84, grid_weights, study_cells
from pipelines.hotspots.kde import kde_at
from pipelines.paths import PROJECT_ROOT, SHARED_DATA_DIR

NAME = "hotspots_backtest"
CRIME_TYPE = "Violence and sexual offences"
METHODS = ("gistar", "naive", "kde")


def load_dataset(name: str) -> tuple[pd.DataFrame, float]:
    """(points with latitude, longitude, month; force area in km2)."""
    base = SHARED_DATA_DIR / "hotspots"
    if name == "northumbria":
        frames = [pd.read_csv(p) for p in sorted((base / "northumbria").glob("*.csv.gz"))]
        geo = SHARED_DATA_DIR / "geo" / "LSOA11_northumbria.geojson"
    else:
        frames = [pd.read_csv(p) for p in sorted((base / "north_yorkshire").glob("*.csv"))]
        geo = SHARED_DATA_DIR / "geo" / "LSOA11_north_yorkshire.geojson"
    raw = pd.concat(frames, ignore_index=True)
    raw = raw[raw["Crime type"] == CRIME_TYPE]
    points = located(
        pd.DataFrame(
            {"latitude": raw["Latitude"], "longitude": raw["Longitude"], "month": raw["Month"]}
        )
    )
    area_km2 = float(gpd.read_file(geo).to_crs(27700).geometry.union_all().area / 1e6)
    return points.reset_index(drop=True), area_km2


def score_fold(
    train: pd.DataFrame,
    test: pd.DataFrame,
    params: HotspotParams,
    months: int,
    force_area_km2: float,
    rng: np.random.Generator,
) -> dict[str, dict[str, float]]:
    cells = study_cells(train["col"].to_numpy(), train["row"].to_numpy(), params.study_buffer_cells)
    key = pd.MultiIndex.from_frame(cells)
    position = pd.Series(np.arange(len(cells)), index=key)
    train_counts = np.bincount(
        position.loc[pd.MultiIndex.from_frame(train[["col", "row"]])].to_numpy(),
        minlength=len(cells),
    )
    test_in = pd.MultiIndex.from_frame(test[["col", "row"]]).isin(key)
    test_counts = np.bincount(
        position.loc[pd.MultiIndex.from_frame(test.loc[test_in, ["col", "row"]])].to_numpy(),
        minlength=len(cells),
    )
    weights = grid_weights(cells, params.neighbour_rings)
    gi = gi_star(train_counts, weights, params.permutations, params.fdr_alpha, params.seed)
    hot = (gi["gi_class"] == "hot").to_numpy()
    if params.hotspot_needs_crime:
        hot &= train_counts > 0
    flagged = {"gistar": hot}
    k = int(flagged["gistar"].sum())
    _, _, cx, cy = cell_centres_wgs84(cells, params.cell_size_m)
    density = kde_at(
        train[["x", "y"]].to_numpy(), np.column_stack([cx, cy]), params.kde_bandwidth_m
    )
    cell_km2 = (params.cell_size_m / 1000) ** 2
    # Random tie-break: many cells share a training count, and the naive baseline must not
    # inherit an order from the grid layout.
    jitter = rng.random(len(cells)) * 1e-6
    for method, score in (("naive", train_counts + jitter), ("kde", density + jitter)):
        top = np.zeros(len(cells), bool)
        top[np.argsort(-score)[:k]] = True
        flagged[method] = top
    predicted = {
        "gistar": train_counts / months,
        "naive": train_counts / months,
        "kde": density * cell_km2 / months,
    }
    # Area outside the study cells is part of A: pad with one "rest of force" pseudo-cell.
    rest_km2 = max(force_area_km2 - len(cells) * cell_km2, 0.0)
    area = np.append(np.full(len(cells), cell_km2), rest_km2)
    observed = np.append(test_counts, len(test) - test_counts.sum())
    out = {}
    for method, mask in flagged.items():
        mask_all = np.append(mask, False)
        out[method] = {
            "pai": pai(mask_all, observed, area),
            "pei": pei(mask, test_counts),
            "rri": rri(mask, predicted[method], test_counts),
            "hit_rate": float(test_counts[mask].sum() / max(len(test), 1)),
            "area_share": float(mask.sum() * cell_km2 / force_area_km2),
            "cells": int(mask.sum()),
        }
    return out


def backtest(dataset: str, params: HotspotParams, train_months: int) -> dict:
    points, force_km2 = load_dataset(dataset)
    points = add_cells(points, params.cell_size_m)
    months = sorted(points["month"].unique())
    rng = np.random.default_rng(params.seed)
    folds = []
    for t in range(train_months, len(months)):
        train = points[points["month"].isin(months[t - train_months : t])]
        test = points[points["month"] == months[t]]
        scores = score_fold(train, test, params, train_months, force_km2, rng)
        folds.append({"test_month": months[t], **scores})
    summary = {}
    for method in METHODS:
        pais = np.array([f[method]["pai"] for f in folds])
        rris = np.array([f[method]["rri"] for f in folds])
        summary[method] = {
            "mean_pai": float(np.nanmean(pais)),
            "mean_pei": float(np.nanmean([f[method]["pei"] for f in folds])),
            "mean_log_rri": float(np.nanmean(np.log(rris[np.isfinite(rris) & (rris > 0)]))),
            "mean_hit_rate": float(np.mean([f[method]["hit_rate"] for f in folds])),
            "mean_area_share": float(np.mean([f[method]["area_share"] for f in folds])),
            "folds_beating_naive": int(sum(f[method]["pai"] > f["naive"]["pai"] for f in folds)),
        }
    return {
        "dataset": dataset,
        "points": int(len(points)),
        "months": months,
        "force_area_km2": round(force_km2, 1),
        "cell_size_m": params.cell_size_m,
        "train_months": train_months,
        "kde_bandwidth_m": params.kde_bandwidth_m,
        "folds": folds,
        "summary": summary,
    }


def benchmark_large(seed: int = 42) -> dict:
    """Seconds to compute hotspots for one quarter of the `large` synthetic preset (issue 7
    target: <= 20 s), and for every quarter as the pipeline asset does."""
    import tempfile

    from pipelines.quarters import quarter_of
    from pipelines.synthetic import generate_force

    folder = Path(tempfile.gettempdir()) / f"spp_hotspots_bench_large_{seed}"
    if not (folder / ".complete").exists():
        generate_force("large", seed, folder, end_quarter="2025-Q4", years=5, bad_rows=False)
        (folder / ".complete").write_text("ok")
    crimes = pd.read_csv(
        folder / "crimes.csv", usecols=["reported_date", "latitude", "longitude"]
    ).dropna()
    crimes["quarter"] = [quarter_of(d) for d in pd.to_datetime(crimes["reported_date"]).dt.date]
    params = HotspotParams.from_settings()
    last = crimes[crimes["quarter"] == "2025-Q4"]
    started = time.perf_counter()
    cells, _ = compute_hotspots(last, params)
    one = time.perf_counter() - started
    started = time.perf_counter()
    compute_hotspots(crimes, params)
    every = time.perf_counter() - started
    return {
        "preset": "large",
        "located_crimes_quarter": int(len(last)),
        "cells_quarter": int(len(cells)),
        "hot_cells_quarter": int((cells["gi_class"] == "hot").sum()),
        "seconds_one_quarter": round(one, 1),
        "quarters": int(crimes["quarter"].nunique()),
        "seconds_all_quarters": round(every, 1),
        "target_seconds_one_quarter": 20,
    }


def _markdown(results: list[dict], default_cell: int) -> str:
    lines = [
        "# Hotspot back-test (police.uk violence and sexual offences)",
        "",
        "`python -m pipelines.evaluation.hotspots_backtest`. Train on k months, flag cells, score",
        "the next month. Naive and KDE flag the same number of cells as Gi* (equal area).",
        "A = force area (LSOA union). PAI = (c/C)/(a/A); PEI = PAI/best PAI at that area;",
        "log RRI = log(predicted/observed crimes in flagged cells), 0 is perfectly calibrated.",
        "",
        "| dataset | cell m | train months | folds | method | mean PAI | mean PEI | mean log RRI "
        "| hit rate | area share | folds PAI > naive |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for method, s in r["summary"].items():
            lines.append(
                f"| {r['dataset']} | {r['cell_size_m']} | {r['train_months']} | {len(r['folds'])} "
                f"| {method} | {s['mean_pai']:.2f} | {s['mean_pei']:.2f} | {s['mean_log_rri']:.2f} "
                f"| {s['mean_hit_rate']:.3f} | {s['mean_area_share']:.4f} "
                f"| {s['folds_beating_naive'] if method != 'naive' else '-'} |"
            )
    lines += ["", f"Default cell size: {default_cell} m (pipelines/config/settings.yaml)."]
    for r in results:
        if r["cell_size_m"] != default_cell:
            continue
        s = r["summary"]
        beats = s["gistar"]["mean_pai"] > s["naive"]["mean_pai"]
        lines.append(
            f"- {r['dataset']}: Gi* mean PAI {s['gistar']['mean_pai']:.1f} vs naive "
            f"{s['naive']['mean_pai']:.1f} -> Gi* {'beats' if beats else 'does NOT beat'} the "
            f"naive baseline; |log RRI| Gi* {abs(s['gistar']['mean_log_rri']):.2f} vs naive "
            f"{abs(s['naive']['mean_log_rri']):.2f} (closer to 0 = better calibrated)."
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell-sizes", default="250,500,1000")
    parser.add_argument("--train-months", default="3")
    parser.add_argument("--out-dir", default=str(PROJECT_ROOT / "docs" / "evaluation"))
    parser.add_argument("--no-bench", action="store_true", help="skip the large-preset timing")
    args = parser.parse_args(argv)
    if not (SHARED_DATA_DIR / "hotspots").exists():
        print(f"skipped: {SHARED_DATA_DIR / 'hotspots'} not found")
        return 0
    default = HotspotParams.from_settings()
    started = time.perf_counter()
    results = []
    for dataset in ("northumbria", "north_yorkshire"):
        for cell in [int(c) for c in args.cell_sizes.split(",")]:
            for k in [int(m) for m in args.train_months.split(",")]:
                params = HotspotParams.from_settings(cell)
                r = backtest(dataset, params, k)
                results.append(r)
                s = r["summary"]
                print(
                    f"{dataset:16} {cell:5} m k={k} "
                    + " ".join(f"{m}={s[m]['mean_pai']:.2f}" for m in METHODS),
                    flush=True,
                )
    default_rows = [r for r in results if r["cell_size_m"] == default.cell_size_m]
    verdict = {
        r["dataset"]: r["summary"]["gistar"]["mean_pai"] > r["summary"]["naive"]["mean_pai"]
        for r in default_rows
    }
    bench = None if args.no_bench else benchmark_large()
    if bench:
        print(f"benchmark: {bench}", flush=True)
    payload = {
        "name": NAME,
        "benchmark": bench,
        "default_cell_size_m": default.cell_size_m,
        "params": default.__dict__,
        "gistar_beats_naive_at_default": verdict,
        "runtime_s": round(time.perf_counter() - started, 1),
        "results": results,
    }
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{NAME}.json").write_text(json.dumps(payload, indent=2, default=float))
    md = _markdown(results, default.cell_size_m)
    if bench:
        md += (
            f"\nBenchmark (large preset, {bench['located_crimes_quarter']:,} located crimes in "
            f"one quarter, {bench['cells_quarter']:,} cells): {bench['seconds_one_quarter']} s for "
            f"one quarter (target <= 20 s); {bench['seconds_all_quarters']} s for all "
            f"{bench['quarters']} quarters (what the asset computes).\n"
        )
    (out / f"{NAME}.md").write_text(md)
    print(f"wrote {out / NAME}.json/.md in {payload['runtime_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
