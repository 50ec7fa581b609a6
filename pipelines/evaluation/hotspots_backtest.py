"""Hotspot back-test on real police.uk points: PAI, PEI and RRI of Gi* vs naive vs KDE.

`python -m pipelines.evaluation.hotspots_backtest` writes
docs/evaluation/hotspots_backtest.{json,md}.

Rolling folds: train on `k` months of 'Violence and sexual offences' points, flag cells, score
on the following month. Methods flag the same area, so PAI differences are due to *where*:
- gistar: cells classed hot by Gi* (the pipeline's method, pipelines.hotspots.gi_star);
- naive: the same number of cells with the highest training counts (ties broken at random);
- kde: the same number of cells with the highest training KDE density;
- gistar_z: the same number of cells with the highest Gi* z (ranking by z instead of the
  significance decision);
- naive_smooth_<l>: the same number of cells ranked by training count + l x the mean count of
  the queen neighbours (the spatial information Gi* uses, added to the count instead of
  replacing it). l is chosen by leave-one-area-out: the l best on the other force is scored.
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
SMOOTHING = (0.25, 0.5, 1.0)
METHODS = ("gistar", "naive", "kde", "gistar_z") + tuple(f"naive_smooth_{lam}" for lam in SMOOTHING)
MAIN_METHODS = ("gistar", "naive", "kde", "gistar_z")


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
    # Mean training count of each cell's queen neighbours (the Gi* window without the cell).
    neighbour_mean = (weights.window @ train_counts.astype(float) - train_counts) / np.maximum(
        weights.cardinality - 1, 1
    )
    _, _, cx, cy = cell_centres_wgs84(cells, params.cell_size_m)
    density = kde_at(
        train[["x", "y"]].to_numpy(), np.column_stack([cx, cy]), params.kde_bandwidth_m
    )
    cell_km2 = (params.cell_size_m / 1000) ** 2
    # Random tie-break: many cells share a training count, and the naive baseline must not
    # inherit an order from the grid layout.
    jitter = rng.random(len(cells)) * 1e-6
    scores = {
        "naive": train_counts + jitter,
        "kde": density + jitter,
        "gistar_z": gi["gi_z"].to_numpy() + jitter,
    }
    predicted = {
        "gistar": train_counts / months,
        "naive": train_counts / months,
        "kde": density * cell_km2 / months,
        "gistar_z": train_counts / months,
    }
    for lam in SMOOTHING:
        smooth = train_counts + lam * neighbour_mean
        scores[f"naive_smooth_{lam}"] = smooth + jitter
        predicted[f"naive_smooth_{lam}"] = smooth / months
    for method, score in scores.items():
        top = np.zeros(len(cells), bool)
        top[np.argsort(-score)[:k]] = True
        flagged[method] = top
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
    for method in METHODS if folds else ():
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
    """Seconds to compute hotspots for one quarter of the `large` synthetic preset (target:
    <= 20 s), and for every quarter as the pipeline asset does (all 20 quarters on one
    grid; permutations and KDE only for the three published quarters). Points: every located
    crime in crimes.csv, a superset of the stalking universe the asset reads. The machine's
    load average is recorded with the timings (2 shared cores)."""
    import os
    import tempfile

    from pipelines.quarters import quarter_of, shift_quarter
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
    last = "2025-Q4"
    one_quarter = crimes[crimes["quarter"] == last]
    load_before = os.getloadavg()[0]
    # CPU seconds as well as wall: on a shared machine wall time depends on the others' load.
    started, cpu = time.perf_counter(), time.process_time()
    cells, _ = compute_hotspots(one_quarter, params)
    one, one_cpu = time.perf_counter() - started, time.process_time() - cpu
    published = [shift_quarter(last, -4), shift_quarter(last, -1), last]
    started, cpu = time.perf_counter(), time.process_time()
    every, density = compute_hotspots(crimes, params, density_quarters=published)
    asset, asset_cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "preset": "large",
        "located_crimes_quarter": int(len(one_quarter)),
        "cells_quarter": int(len(cells)),
        "hot_cells_quarter": int((cells["gi_class"] == "hot").sum()),
        "seconds_one_quarter": round(one, 1),
        "cpu_seconds_one_quarter": round(one_cpu, 1),
        "quarters": int(crimes["quarter"].nunique()),
        "cells_all_quarters": int(every["cell_id"].nunique()),
        "density_quarters": published,
        "seconds_all_quarters_as_asset": round(asset, 1),
        "cpu_seconds_all_quarters_as_asset": round(asset_cpu, 1),
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpu_count": os.cpu_count(),
        "target_seconds_one_quarter": 20,
    }


def smoothing_cross_validation(results: list[dict]) -> list[dict]:
    """Leave-one-area-out choice of the neighbour weight l for naive_smooth: for each area and
    cell size, take the l with the best mean PAI ratio to naive on the *other* area, and
    report what it scores here. No figure is chosen on the folds it is scored on."""
    rows = []
    for r in results:
        others = [
            o
            for o in results
            if o["dataset"] != r["dataset"]
            and o["cell_size_m"] == r["cell_size_m"]
            and o["train_months"] == r["train_months"]
        ]
        if not others:
            continue
        other = others[0]["summary"]

        def ratio(summary: dict, lam: float) -> float:
            return summary[f"naive_smooth_{lam}"]["mean_pai"] / summary["naive"]["mean_pai"]

        chosen = max(SMOOTHING, key=lambda lam: ratio(other, lam))
        here = r["summary"]
        rows.append(
            {
                "dataset": r["dataset"],
                "cell_size_m": r["cell_size_m"],
                "train_months": r["train_months"],
                "chosen_on": others[0]["dataset"],
                "smoothing": chosen,
                "mean_pai": here[f"naive_smooth_{chosen}"]["mean_pai"],
                "naive_mean_pai": here["naive"]["mean_pai"],
                "gistar_mean_pai": here["gistar"]["mean_pai"],
                "folds_beating_naive": here[f"naive_smooth_{chosen}"]["folds_beating_naive"],
                "folds": len(r["folds"]),
            }
        )
    return rows


def _markdown(results: list[dict], default_cell: int, cv: list[dict]) -> str:
    lines = [
        "# Hotspot back-test (police.uk violence and sexual offences)",
        "",
        "`python -m pipelines.evaluation.hotspots_backtest`. Train on k months, flag cells, score",
        "the next month. Every method flags the same number of cells as Gi* (equal area).",
        "A = force area (LSOA union). PAI = (c/C)/(a/A); PEI = PAI/best PAI at that area;",
        "log RRI = log(predicted/observed crimes in flagged cells), 0 is perfectly calibrated.",
        "gistar = the pipeline's Gi* hot cells; naive = highest training counts; kde = highest",
        "KDE density; gistar_z = highest Gi* z.",
        "",
        "| dataset | cell m | train months | folds | method | mean PAI | mean PEI | mean log RRI "
        "| hit rate | area share | folds PAI > naive |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for method in MAIN_METHODS:
            s = r["summary"][method]
            lines.append(
                f"| {r['dataset']} | {r['cell_size_m']} | {r['train_months']} | {len(r['folds'])} "
                f"| {method} | {s['mean_pai']:.2f} | {s['mean_pei']:.2f} | {s['mean_log_rri']:.2f} "
                f"| {s['mean_hit_rate']:.3f} | {s['mean_area_share']:.4f} "
                f"| {s['folds_beating_naive'] if method != 'naive' else '-'} |"
            )
    lines += [
        "",
        "## Investigated: naive count + l x mean neighbour count (same area)",
        "",
        "| dataset | cell m | naive | "
        + " | ".join(f"l={lam}" for lam in SMOOTHING)
        + " | l chosen on other area | its PAI | folds > naive |",
        "|---|---|---|" + "---|" * len(SMOOTHING) + "---|---|---|",
    ]
    by_key = {(c["dataset"], c["cell_size_m"], c["train_months"]): c for c in cv}
    for r in results:
        s = r["summary"]
        c = by_key.get((r["dataset"], r["cell_size_m"], r["train_months"]))
        chosen = (
            f"{c['smoothing']} ({c['chosen_on']}) | {c['mean_pai']:.2f} | "
            f"{c['folds_beating_naive']}/{c['folds']}"
            if c
            else "- | - | -"
        )
        lines.append(
            f"| {r['dataset']} | {r['cell_size_m']} | {s['naive']['mean_pai']:.2f} | "
            + " | ".join(f"{s[f'naive_smooth_{lam}']['mean_pai']:.2f}" for lam in SMOOTHING)
            + f" | {chosen} |"
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
    lines += [
        "",
        "Why Gi* loses to naive at equal area: Gi* flags a cell for the count of its whole",
        "3x3 window, so a significant cluster includes quiet cells that border a busy one, and",
        "the area they take is then missing from the busiest cells that naive flags; ranking",
        "by Gi* z (gistar_z) has the same problem. Gi* answers 'is this a significant cluster",
        "(with the false-discovery rate controlled)', not 'where will next month's crime be'.",
        "Adding a little neighbourhood to the count (naive_smooth, l chosen on the other area)",
        "is the only rule here that passes naive: by a few per cent at most at 250 and 500 m,",
        "in about half the folds or more, and not at 1 km. It is a refinement of naive, not a",
        "Gi* method, and North Yorkshire has only two folds, so it is reported but not made",
        "the default: is_hotspot stays the Gi* decision the profile describes.",
        "",
    ]
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
                if not r["folds"]:
                    print(f"{dataset:16} {cell:5} m k={k}: too few months, skipped", flush=True)
                    continue
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
    cv = smoothing_cross_validation(results)
    bench = None if args.no_bench else benchmark_large()
    if bench:
        print(f"benchmark: {bench}", flush=True)
    payload = {
        "name": NAME,
        "benchmark": bench,
        "default_cell_size_m": default.cell_size_m,
        "params": default.__dict__,
        "gistar_beats_naive_at_default": verdict,
        "smoothing_cross_validation": cv,
        "runtime_s": round(time.perf_counter() - started, 1),
        "results": results,
    }
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{NAME}.json").write_text(json.dumps(payload, indent=2, default=float))
    md = _markdown(results, default.cell_size_m, cv)
    if bench:
        md += (
            f"\nBenchmark (large preset, {bench['located_crimes_quarter']:,} located crimes in "
            f"one quarter, {bench['cells_quarter']:,} cells): {bench['seconds_one_quarter']} s for "
            f"one quarter with {default.permutations} permutations and KDE "
            f"({bench['cpu_seconds_one_quarter']} s CPU; target <= 20 s); "
            f"{bench['seconds_all_quarters_as_asset']} s "
            f"({bench['cpu_seconds_all_quarters_as_asset']} s CPU) for all "
            f"{bench['quarters']} quarters "
            f"on one {bench['cells_all_quarters']:,}-cell grid as the asset computes them "
            f"(KDE for {', '.join(bench['density_quarters'])} only). "
            f"1-minute load average {bench['load_average_1min'][0]} before, "
            f"{bench['load_average_1min'][1]} after, on {bench['cpu_count']} cores.\n"
        )
    (out / f"{NAME}.md").write_text(md)
    print(f"wrote {out / NAME}.json/.md in {payload['runtime_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
