"""Predicted hot cells, with the method chosen by a back-test on the force's own history.

Every candidate ranks the study cells by a score computed from the counts of past periods and
flags the same number of cells (equal area), so the methods differ only in *where*:
- `naive`: the count of the last `naive_periods` periods (last quarter's crimes): the baseline;
- `count`: the count over the `train_periods` periods of the training window;
- `smooth_<l>`: that count + l x the mean count of the cell's queen neighbours (the spatial lag,
  a row-standardised sparse product over the grid's contiguity weights);
- `kde_<b>`: Gaussian kernel density of the training counts at bandwidth b metres, binned on
  the grid (scipy.ndimage.gaussian_filter over the cells' raster: the counts sit at the cell
  centres, so the binned KDE equals sklearn's KernelDensity fitted on the weighted centres
  to within 3e-5 of the maximum; on the large preset's 32,907 cells it costs 0.001 s CPU a
  call against 2.6 s, which the ~30 KDE calls of a back-test and the quarters' predictions
  cannot afford);
- `ewm_<h>`: exponentially weighted count over the last `memory_periods` periods, weight
  0.5^(age / h) (h = half-life in periods; the latest period weighs 1): longer memory than
  the training window, recent periods counting most;
- `gistar_z`: the Getis-Ord Gi* z of the training count (ranking by z, not the FDR decision);
- `ensemble`: the mean percentile rank (scipy `rankdata`) of count, the first smooth and the
  first KDE;
- `rank_mix`: the mean percentile rank of last quarter's count (`naive`) and the long-run
  count over the last `memory_periods` periods: chronic places (stable over years) and
  recent flare-ups both stay in view (the chronic / temporary hot spot distinction of Gorr
  and Lee, 2015).
Ties are broken by a seeded random jitter, so no method inherits an order from the grid layout.

Back-test: rolling origins over the last `backtest_folds` periods that have at least the
baseline's `naive_periods` before them (a short history still gets a back-test; methods with a
longer window use what there is): train on the periods before the origin, flag, score the
origin's period. PAI = (share of the period's crimes in the flagged cells) / (share of the
study area flagged); at equal area it ranks methods as the hit rate does. The method with the
highest mean PAI is chosen (naive on a tie: the simplest rule wins unless beaten). The profile
publishes the chosen method's cells as `is_hotspot`, its back-test PAI and hit rate, and
naive's beside them.
No Dagster here: the asset, `spp hotspots` and the evaluation call these functions.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter
from scipy.stats import rankdata

from pipelines.hotspots.gistar import GiWeights, gi_star_z

NAIVE = "naive"


@dataclasses.dataclass(frozen=True)
class PredictParams:
    # Share of the study cells flagged by every method (equal area).
    area_share: float = 0.02
    # The baseline: count of the last `naive_periods` periods (1 quarter in the pipeline).
    naive_periods: int = 1
    # Periods of history the other candidates train on.
    train_periods: int = 4
    # Rolling origins scored in the back-test (the most recent ones with full history).
    backtest_folds: int = 4
    smoothing: tuple[float, ...] = (0.5,)
    kde_bandwidths_m: tuple[float, ...] = (250.0, 500.0, 1000.0)
    # Half-lives (periods) of the exponentially weighted counts, and how far back they look.
    ewm_half_lives: tuple[float, ...] = (1.0, 2.0)
    memory_periods: int = 8
    methods: tuple[str, ...] = ()  # empty: every candidate
    seed: int = 12345

    def candidates(self) -> tuple[str, ...]:
        every = (
            NAIVE,
            "count",
            *(f"smooth_{lam:g}" for lam in self.smoothing),
            *(f"kde_{int(b)}" for b in self.kde_bandwidths_m),
            *(f"ewm_{h:g}" for h in self.ewm_half_lives),
            "gistar_z",
            "ensemble",
            "rank_mix",
        )
        return tuple(m for m in every if not self.methods or m in self.methods or m == NAIVE)


@dataclasses.dataclass(frozen=True)
class Raster:
    """The study cells' positions in their bounding raster (for grid-binned smoothing)."""

    rows: np.ndarray
    cols: np.ndarray
    shape: tuple[int, int]
    cell_size_m: float

    @classmethod
    def from_cells(cls, cells: pd.DataFrame, cell_size_m: float) -> Raster:
        col = cells["col"].to_numpy(np.int64)
        row = cells["row"].to_numpy(np.int64)
        if len(col) == 0:
            return cls(row, col, (0, 0), float(cell_size_m))
        r, c = row - row.min(), col - col.min()
        return cls(r, c, (int(r.max()) + 1, int(c.max()) + 1), float(cell_size_m))

    def kde(self, values: np.ndarray, bandwidth_m: float) -> np.ndarray:
        """Gaussian kernel density (per km2) at each cell of `values` placed at the cell
        centres (zero outside the study cells)."""
        if not len(self.rows):
            return np.zeros(0)
        dense = np.zeros(self.shape)
        dense[self.rows, self.cols] = values
        smooth = gaussian_filter(dense, sigma=bandwidth_m / self.cell_size_m, mode="constant")
        return smooth[self.rows, self.cols] / (self.cell_size_m / 1000) ** 2


def neighbour_mean(counts: np.ndarray, weights: GiWeights) -> np.ndarray:
    """Mean count of each cell's neighbours (the Gi* window without the cell itself)."""
    y = np.asarray(counts, float)
    return (weights.window @ y - y) / np.maximum(weights.cardinality - 1, 1)


def method_scores(
    history: np.ndarray,
    raster: Raster,
    weights: GiWeights,
    params: PredictParams,
    methods: tuple[str, ...] | None = None,
) -> dict[str, np.ndarray]:
    """history: (periods x cells) counts, oldest first, the last row the most recent period
    (the last `train_periods` rows are used; `memory_periods` by the weighted counts).
    Returns each method's score per cell."""
    full = np.atleast_2d(np.asarray(history, float))[-max(params.memory_periods, 1) :]
    history = full[-params.train_periods :]
    wanted = params.candidates() if methods is None else methods
    total = history.sum(axis=0)
    out: dict[str, np.ndarray] = {}
    if NAIVE in wanted:
        out[NAIVE] = history[-params.naive_periods :].sum(axis=0)
    if "count" in wanted or "ensemble" in wanted:
        out["count"] = total
    lag = neighbour_mean(total, weights) if len(params.smoothing) else None
    for lam in params.smoothing:
        name = f"smooth_{lam:g}"
        if name in wanted or "ensemble" in wanted:
            out[name] = total + lam * lag
    for b in params.kde_bandwidths_m:
        name = f"kde_{int(b)}"
        if name in wanted or "ensemble" in wanted:
            out[name] = raster.kde(total, float(b))
    for half_life in params.ewm_half_lives:
        name = f"ewm_{half_life:g}"
        if name in wanted or "ensemble" in wanted:
            age = np.arange(len(full))[::-1]
            out[name] = (0.5 ** (age / half_life)) @ full
    if "gistar_z" in wanted:
        out["gistar_z"] = gi_star_z(total, weights)
    if "ensemble" in wanted:
        members = [f"ewm_{h:g}" for h in params.ewm_half_lives[-1:]] or ["count"]
        members += [f"smooth_{lam:g}" for lam in params.smoothing[:1]]
        members += [f"kde_{int(b)}" for b in params.kde_bandwidths_m[:1]]
        out["ensemble"] = np.mean([rankdata(out[m]) / len(total) for m in members], axis=0)
    if "rank_mix" in wanted:
        recent = full[-params.naive_periods :].sum(axis=0)
        out["rank_mix"] = (rankdata(recent) + rankdata(full.sum(axis=0))) / (2 * len(total))
    return {m: out[m] for m in wanted if m in out}


def flagged_cells(n_cells: int, area_share: float) -> int:
    """Cells every method flags: `area_share` of the study cells, at least one."""
    return max(1, int(round(n_cells * area_share))) if n_cells else 0


def top_cells(score: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Boolean mask of the n highest-scoring cells; ties broken by a seeded random order."""
    score = np.asarray(score, float)
    jitter = np.random.default_rng(seed).random(len(score))
    order = np.lexsort((jitter, -score))
    mask = np.zeros(len(score), bool)
    mask[order[:n]] = True
    return mask


def fold_scores(
    train: np.ndarray,
    test: np.ndarray,
    raster: Raster,
    weights: GiWeights,
    params: PredictParams,
    methods: tuple[str, ...] | None = None,
    outside_test: float = 0.0,
    total_cells: float | None = None,
) -> dict[str, dict[str, float]]:
    """PAI and hit rate of each method trained on `train` (periods x cells) and scored on
    `test` (counts per cell). `outside_test`: test crimes outside the study cells (they count
    in C, never hit); `total_cells`: the area A in cells (default: the study cells)."""
    scores = method_scores(train, raster, weights, params, methods)
    n = flagged_cells(len(test), params.area_share)
    area_cells = float(total_cells or len(test))
    crimes = float(np.sum(test) + outside_test)
    out = {}
    for method, score in scores.items():
        mask = top_cells(score, n, params.seed)
        hit = float(np.sum(test[mask]) / crimes) if crimes else math.nan
        out[method] = {
            "pai": hit / (n / area_cells) if crimes else math.nan,
            "hit_rate": hit,
            "area_share": n / area_cells,
        }
    return out


def backtest(
    counts: np.ndarray,
    raster: Raster,
    weights: GiWeights,
    params: PredictParams,
    labels: list[str] | None = None,
) -> pd.DataFrame:
    """counts: (periods x cells), oldest first. Rolling origins over the last
    `backtest_folds` periods that have the baseline's `naive_periods` before them. One row
    per fold x method: period, method, pai, hit_rate, area_share."""
    counts = np.atleast_2d(np.asarray(counts, float))
    periods = counts.shape[0]
    labels = labels or [str(i) for i in range(periods)]
    first = max(params.naive_periods, periods - params.backtest_folds)
    rows = []
    for t in range(first, periods):
        # Everything before the origin: each method keeps its own window of it.
        train = counts[:t]
        for method, s in fold_scores(train, counts[t], raster, weights, params).items():
            rows.append({"period": labels[t], "method": method, **s})
    return pd.DataFrame(rows, columns=["period", "method", "pai", "hit_rate", "area_share"])


def summarise(folds: pd.DataFrame, params: PredictParams) -> pd.DataFrame:
    """One row per method: folds, mean_pai, mean_hit_rate, area_share, naive_pai, is_chosen.
    The highest mean PAI is chosen; naive when nothing beats it (or there are no folds)."""
    order = {m: i for i, m in enumerate(params.candidates())}
    if folds.empty:
        return pd.DataFrame(
            {
                "method": list(order),
                "folds": 0,
                "mean_pai": math.nan,
                "mean_hit_rate": math.nan,
                "area_share": params.area_share,
                "naive_pai": math.nan,
                "is_chosen": [m == NAIVE for m in order],
            }
        )
    summary = (
        folds.groupby("method")
        .agg(
            folds=("pai", "size"),
            mean_pai=("pai", "mean"),
            mean_hit_rate=("hit_rate", "mean"),
            area_share=("area_share", "mean"),
        )
        .reset_index()
    )
    summary["naive_pai"] = float(summary.loc[summary["method"] == NAIVE, "mean_pai"].iloc[0])
    summary["rank"] = summary["method"].map(order)
    best = summary.sort_values(["mean_pai", "rank"], ascending=[False, True], na_position="last")
    chosen = best["method"].iloc[0]
    if not best["mean_pai"].iloc[0] > summary["naive_pai"].iloc[0]:
        chosen = NAIVE
    summary["is_chosen"] = summary["method"] == chosen
    return summary.sort_values("rank").drop(columns="rank").reset_index(drop=True)


def chosen_method(summary: pd.DataFrame) -> str:
    picked = summary.loc[summary["is_chosen"], "method"]
    return str(picked.iloc[0]) if len(picked) else NAIVE


def predict(
    counts: np.ndarray,
    raster: Raster,
    weights: GiWeights,
    params: PredictParams,
    method: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Cells flagged for the period after the last row of `counts` and the method's score."""
    score = method_scores(counts, raster, weights, params, (method,))[method]
    return top_cells(score, flagged_cells(len(score), params.area_share), params.seed), score


METHOD_LABELS = {
    NAIVE: "last quarter's count",
    "count": "the count over the training quarters",
    "gistar_z": "the Gi* z-score",
    "ensemble": "an ensemble of recency-weighted count, smoothed count and density",
    "rank_mix": "the mean rank of last quarter's count and the long-run count",
}


def method_label(method: str) -> str:
    if method.startswith("smooth_"):
        return f"the count plus {method.removeprefix('smooth_')} x the neighbours' mean count"
    if method.startswith("ewm_"):
        return f"the count weighted by recency (half-life {method.removeprefix('ewm_')} quarters)"
    if method.startswith("kde_"):
        return f"kernel density (bandwidth {method.removeprefix('kde_')} m)"
    return METHOD_LABELS.get(method, method)


def backtest_sentence(summary: pd.DataFrame) -> str:
    """One sentence for the profile: what the published cells caught in the force's own
    back-test, and what a plain count of last quarter caught on the same area."""
    chosen = summary[summary["is_chosen"]]
    naive = summary[summary["method"] == NAIVE]
    if chosen.empty or naive.empty or not int(chosen["folds"].iloc[0]):
        return (
            "Too few quarters of history for a back-test: the cells shown are last quarter's "
            "busiest (a plain count)."
        )
    c, n = chosen.iloc[0], naive.iloc[0]
    return (
        f"In a back-test on this force's last {int(c['folds'])} quarters, the cells chosen by "
        f"{method_label(str(c['method']))} caught {c['mean_hit_rate']:.0%} of the next "
        f"quarter's crimes on {c['area_share']:.1%} of the area analysed (PAI "
        f"{c['mean_pai']:.1f}); a plain count of last quarter caught {n['mean_hit_rate']:.0%} "
        f"(PAI {n['mean_pai']:.1f})."
    )
