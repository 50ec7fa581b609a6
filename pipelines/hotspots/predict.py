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
  and Lee, 2015);
- `lexicographic`: last quarter's count, its ties broken by the long-run count (naive's own
  ranking wherever it has one);
- `shrunk`: empirical-Bayes shrinkage of each cell's rate over the memory window toward its
  neighbours' rate (Poisson-gamma posterior mean; the prior's variance estimated from the
  cells by moments, so nothing is tuned);
- `poisson_glm`: a learned ranker (scikit-learn `PoissonRegressor` on standardised log1p
  features known at the origin: counts at lags 1-3, the baseline's count, the recency-weighted
  counts, the long-run mean and the neighbours' recent and long-run means), trained
  time-ordered on the origins inside the history it is given, never on the period it predicts.
Published cells break ties by a seeded random jitter, so no method inherits an order from the
grid layout. The back-test scores the *expected* hits over every such tie-break (the cells
tied at the cut count fractionally), so no method gains or loses by a lucky draw at the cut.

Back-test: rolling origins over the last `backtest_folds` periods that have at least the
baseline's `naive_periods` before them (a short history still gets a back-test; methods with a
longer window use what there is): train on the periods before the origin, flag, score the
origin's next `horizon_periods` periods summed. PAI = (share of the scored crimes in the
flagged cells) / (share of the study area flagged); at equal area it ranks methods as the
hit rate does. The method with the highest mean PAI is chosen (naive on a tie: the simplest
rule wins unless beaten: a force on which no candidate beat naive gets naive's cells and is
told so). The profile publishes the chosen method's cells as `is_hotspot`, its back-test PAI
and hit rate, and naive's beside them.
No Dagster here: the asset, `spp hotspots` and the evaluation call these functions.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter
from scipy.stats import rankdata
from sklearn.linear_model import PoissonRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pipelines.hotspots.gistar import GiWeights, gi_star_z

NAIVE = "naive"
# Candidates scored only when named in `methods`: the learned ranker added nothing to the
# held-in choice (docs/evaluation/hotspots_backtest.md) and costs a model fit per fold.
OPT_IN_METHODS = ("poisson_glm",)


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
    # Ridge penalty of the learned ranker (on standardised features).
    ranker_alpha: float = 0.1
    methods: tuple[str, ...] = ()  # empty: every candidate
    # Periods summed in what is predicted (and scored): 1 = the next period.
    horizon_periods: int = 1
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
            "lexicographic",
            "shrunk",
            *OPT_IN_METHODS,
        )
        return tuple(
            m
            for m in every
            if m == NAIVE or m in self.methods or (not self.methods and m not in OPT_IN_METHODS)
        )


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


def recency_weighted(history: np.ndarray, half_life: float) -> np.ndarray:
    """Each cell's count over the rows of `history` weighted 0.5^(age / half_life), the last
    row (age 0) weighing 1."""
    age = np.arange(len(history))[::-1]
    return (0.5 ** (age / half_life)) @ history


def shrunk_rate(history: np.ndarray, weights: GiWeights) -> np.ndarray:
    """Empirical-Bayes rate per period of each cell: the Poisson-gamma posterior mean with a
    prior centred on the neighbours' rate. The prior's variance is the spread of the cells'
    rates around their neighbours' beyond Poisson noise (method of moments), so a cell with
    a long, busy record keeps its own rate and a thin one leans on its neighbourhood."""
    periods = max(len(history), 1)
    total = history.sum(axis=0)
    rate = total / periods
    prior = np.maximum(neighbour_mean(total, weights) / periods, 1e-9)
    variance = max(float(np.mean((rate - prior) ** 2) - np.mean(rate) / periods), 1e-9)
    return (total + prior**2 / variance) / (periods + prior / variance)


def ranker_features(history: np.ndarray, weights: GiWeights, params: PredictParams) -> np.ndarray:
    """(cells x features) known at the origin after the last row of `history`."""
    periods, n_cells = history.shape

    def lag(k: int) -> np.ndarray:
        return history[-k] if periods >= k else np.zeros(n_cells)

    recent = history[-params.naive_periods :].sum(axis=0)
    long_run = history.mean(axis=0) if periods else np.zeros(n_cells)
    columns = [lag(1), lag(2), lag(3), recent]
    columns += [recency_weighted(history, h) for h in params.ewm_half_lives]
    columns += [long_run, neighbour_mean(recent, weights), neighbour_mean(long_run, weights)]
    return np.log1p(np.column_stack(columns))


def learned_ranker(history: np.ndarray, weights: GiWeights, params: PredictParams) -> np.ndarray:
    """Expected count per cell over the next `horizon_periods` from a Poisson regression
    trained on the origins inside `history` (features from the periods before each origin,
    target the `horizon_periods` after it; only origins whose target lies wholly inside
    `history`). With no such origin, or no crime in their targets: the baseline's count."""
    horizon = params.horizon_periods
    origins = range(params.naive_periods, len(history) - horizon + 1)
    baseline = history[-params.naive_periods :].sum(axis=0)
    if not len(origins):
        return baseline
    features = np.vstack([ranker_features(history[:s], weights, params) for s in origins])
    target = np.concatenate([history[s : s + horizon].sum(axis=0) for s in origins])
    if not target.any():  # nothing to learn from
        return baseline
    model = make_pipeline(
        StandardScaler(), PoissonRegressor(alpha=params.ranker_alpha, max_iter=1000)
    )
    model.fit(features, target)
    return model.predict(ranker_features(history, weights, params))


def ensemble_members(params: PredictParams) -> list[str]:
    """The scores the ensemble averages the percentile ranks of: the longest-memory weighted
    count (the count without one), the first smooth and the first KDE."""
    members = [f"ewm_{h:g}" for h in params.ewm_half_lives[-1:]] or ["count"]
    members += [f"smooth_{lam:g}" for lam in params.smoothing[:1]]
    members += [f"kde_{int(b)}" for b in params.kde_bandwidths_m[:1]]
    return members


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
    members = ensemble_members(params) if "ensemble" in wanted else []
    # The scores computed: the methods wanted and the ensemble's members (only those: each
    # quarter's prediction by the ensemble would otherwise compute every KDE bandwidth).
    needed = {*wanted, *members}
    total = history.sum(axis=0)
    out: dict[str, np.ndarray] = {}
    if NAIVE in wanted:
        out[NAIVE] = history[-params.naive_periods :].sum(axis=0)
    if "count" in needed:
        out["count"] = total
    lag = neighbour_mean(total, weights) if len(params.smoothing) else None
    for lam in params.smoothing:
        name = f"smooth_{lam:g}"
        if name in needed:
            out[name] = total + lam * lag
    for b in params.kde_bandwidths_m:
        name = f"kde_{int(b)}"
        if name in needed:
            out[name] = raster.kde(total, float(b))
    for half_life in params.ewm_half_lives:
        name = f"ewm_{half_life:g}"
        if name in needed:
            out[name] = recency_weighted(full, half_life)
    if "gistar_z" in wanted:
        out["gistar_z"] = gi_star_z(total, weights)
    if "ensemble" in wanted:
        out["ensemble"] = np.mean([rankdata(out[m]) / len(total) for m in members], axis=0)
    recent = full[-params.naive_periods :].sum(axis=0)
    if "rank_mix" in wanted or "lexicographic" in wanted:
        long_run_rank = rankdata(full.sum(axis=0))  # ranked once for both
    if "rank_mix" in wanted:
        out["rank_mix"] = (rankdata(recent) + long_run_rank) / (2 * len(total))
    if "lexicographic" in wanted:
        # A fraction below any step of the count: the long-run count only orders ties.
        out["lexicographic"] = recent + long_run_rank / (len(total) + 1)
    if "shrunk" in wanted:
        out["shrunk"] = shrunk_rate(full, weights)
    if "poisson_glm" in wanted:
        out["poisson_glm"] = learned_ranker(full, weights, params)
    return {m: out[m] for m in wanted if m in out}


def flagged_cells(n_cells: int, area_share: float) -> int:
    """Cells every method flags: `area_share` of the study cells, at least one."""
    return max(1, int(round(n_cells * area_share))) if n_cells else 0


def top_cells(score: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Boolean mask of the n highest-scoring cells; ties broken by a seeded random order.

    The cells a full sort by (score descending, random draw, position) would put first, found
    by a partition: every cell above the n-th score, then the ones tied with it in the random
    order (a full sort of ~640,000 cells for each of the quarters cost seconds a run)."""
    score = np.asarray(score, float)
    jitter = np.random.default_rng(seed).random(len(score))
    mask = np.zeros(len(score), bool)
    n = min(max(n, 0), len(score))
    if n == 0:
        return mask
    key = -score  # ascending; a score that is NaN sorts last, as in a sort
    cut = np.partition(key, n - 1)[n - 1]
    if np.isnan(cut):
        above, tied = ~np.isnan(key), np.isnan(key)
    else:
        above, tied = key < cut, key == cut
    mask[above] = True
    candidates = np.flatnonzero(tied)
    # stable: equal draws keep the cells' order, as lexsort does
    chosen = candidates[np.argsort(jitter[candidates], kind="stable")[: n - int(above.sum())]]
    mask[chosen] = True
    return mask


def expected_hits(score: np.ndarray, observed: np.ndarray, n: int) -> float:
    """Crimes caught by the n highest-scoring cells, averaged over every way of breaking the
    ties at the cut: cells above the cut count whole, the cells tied at it count by the
    share of them that fits (the expectation of a random tie-break). PAI at exactly equal
    area, whatever the tie-break draws."""
    # A score that could not be computed ranks last, never at the cut by accident.
    score = np.nan_to_num(np.asarray(score, float), nan=-np.inf)
    observed = np.asarray(observed, float)
    if n <= 0 or not len(score):
        return 0.0
    n = min(n, len(score))
    cut = np.partition(score, len(score) - n)[len(score) - n]
    above, tied = score > cut, score == cut
    return float(observed[above].sum() + (n - above.sum()) / tied.sum() * observed[tied].sum())


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
    return equal_area_scores(scores, test, params.area_share, outside_test, total_cells)


def equal_area_scores(
    scores: dict[str, np.ndarray],
    test: np.ndarray,
    area_share: float,
    outside_test: float = 0.0,
    total_cells: float | None = None,
) -> dict[str, dict[str, float]]:
    """PAI, hit rate and area share of each score's top `area_share` of the cells on `test`
    (expected hits over the tie-breaks at the cut, see `expected_hits`)."""
    n = flagged_cells(len(test), area_share)
    area_cells = float(total_cells or len(test))
    crimes = float(np.sum(test) + outside_test)
    out = {}
    for method, score in scores.items():
        hit = expected_hits(score, test, n) / crimes if crimes else math.nan
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
    `backtest_folds` origins that have the baseline's `naive_periods` before them and
    `horizon_periods` after. One row per fold x method: period (the first period scored),
    method, pai, hit_rate, area_share."""
    counts = np.atleast_2d(np.asarray(counts, float))
    periods = counts.shape[0]
    labels = labels or [str(i) for i in range(periods)]
    horizon = params.horizon_periods
    last = periods - horizon
    first = max(params.naive_periods, last + 1 - params.backtest_folds)
    rows = []
    for t in range(first, last + 1):
        # Everything before the origin: each method keeps its own window of it.
        train, test = counts[:t], counts[t : t + horizon].sum(axis=0)
        for method, s in fold_scores(train, test, raster, weights, params).items():
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


@dataclasses.dataclass(frozen=True)
class Predictions:
    """The back-test's folds and summary, the method it chose, and every quarter's flagged
    cells and scores under that method, stacked quarter after quarter."""

    folds: pd.DataFrame
    summary: pd.DataFrame
    method: str
    is_hotspot: np.ndarray
    score: np.ndarray


def predictions(
    counts: np.ndarray,
    raster: Raster,
    weights: GiWeights,
    params: PredictParams,
    labels: list[str],
    order: np.ndarray,
) -> Predictions:
    """counts: (periods x cells), oldest first. Chooses the method on these periods (the
    back-test), then flags each period's cells for the period after it from the data up to
    it; each period's cells are stacked in `order` (positions into the cells)."""
    folds = backtest(counts, raster, weights, params, labels)
    summary = summarise(folds, params)
    method = chosen_method(summary)
    flagged, scores = [], []
    for period in range(len(counts)):
        mask, score = predict(counts[: period + 1], raster, weights, params, method)
        flagged.append(mask[order])
        scores.append(score[order])
    return Predictions(folds, summary, method, np.concatenate(flagged), np.concatenate(scores))


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
