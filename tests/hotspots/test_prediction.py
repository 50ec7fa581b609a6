"""Predicted hot cells: the back-test at equal area picks the method that predicts best on the
points' own quarters, naive when nothing beats it; is_hotspot is that method's cells and
is_significant the Gi* label."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.hotspots import HotspotParams
from pipelines.hotspots.core import hotspot_outputs
from pipelines.hotspots.grid import bng_to_lonlat, grid_weights
from pipelines.hotspots.predict import (
    NAIVE,
    PredictParams,
    Raster,
    backtest,
    flagged_cells,
    summarise,
    top_cells,
)

X0, Y0 = 450_000.0, 440_000.0
PARAMS = HotspotParams(cell_size_m=500, permutations=99, seed=3)


def _stable_points(quarters: list[str], per_quarter: int, seed: int) -> pd.DataFrame:
    """Each quarter: Poisson draws from one fixed, skewed intensity over a 10 km square (a
    few busy places that stay busy), so a longer history estimates it better than one
    quarter's count."""
    rng = np.random.default_rng(seed)
    sites = rng.uniform(0, 10_000, (60, 2))
    weight = rng.pareto(1.2, 60) + 0.05
    weight /= weight.sum()
    frames = []
    for quarter in quarters:
        pick = rng.choice(60, per_quarter, p=weight)
        xy = sites[pick] + rng.normal(0, 60, (per_quarter, 2))
        lon, lat = bng_to_lonlat(X0 + xy[:, 0], Y0 + xy[:, 1])
        frames.append(pd.DataFrame({"latitude": lat, "longitude": lon, "quarter": quarter}))
    return pd.concat(frames, ignore_index=True)


QUARTERS = [f"{y}-Q{q}" for y in (2023, 2024) for q in (1, 2, 3, 4)]


def test_back_test_chooses_a_method_and_publishes_its_cells() -> None:
    points = _stable_points(QUARTERS, 150, seed=1)
    out = hotspot_outputs(points, PARAMS)
    summary = out.method_backtest
    assert set(summary["method"]) == set(PARAMS.prediction.candidates())
    assert summary["is_chosen"].sum() == 1
    assert (summary["folds"] == PARAMS.prediction.backtest_folds).all()
    # Equal area: every method flags the same share of the study cells.
    assert summary["area_share"].nunique() == 1
    chosen = summary.loc[summary["is_chosen"]].iloc[0]
    assert chosen["mean_pai"] >= chosen["naive_pai"]
    # A fixed intensity seen over 4 quarters beats one quarter's count here.
    assert chosen["method"] != NAIVE
    cells = out.hotspots
    assert (cells["prediction_method"] == chosen["method"]).all()
    per_quarter = cells.groupby("quarter")["is_hotspot"].sum()
    n_cells = cells["cell_id"].nunique()
    assert (per_quarter == flagged_cells(n_cells, PARAMS.prediction.area_share)).all()
    # is_hotspot = the top prediction scores of each quarter.
    last = cells[cells["quarter"] == QUARTERS[-1]]
    assert last.loc[last["is_hotspot"], "prediction_score"].min() >= (
        last.loc[~last["is_hotspot"], "prediction_score"].max()
    )
    # Significance is its own column: a Gi* FDR hot cell that holds crime.
    assert (cells["is_significant"] == ((cells["gi_class"] == "hot") & (cells["crimes"] > 0))).all()


def test_same_inputs_same_outputs() -> None:
    points = _stable_points(QUARTERS[:6], 120, seed=2)
    a, b = hotspot_outputs(points, PARAMS), hotspot_outputs(points, PARAMS)
    pd.testing.assert_frame_equal(a.hotspots, b.hotspots)
    pd.testing.assert_frame_equal(a.method_backtest, b.method_backtest)


def _naive_best_folds(params: PredictParams) -> pd.DataFrame:
    """Two folds in which naive (PAI 10) beats every other candidate (PAI 9)."""
    return pd.DataFrame(
        [
            {"period": p, "method": m, "pai": 10.0 if m == NAIVE else 9.0, "area_share": 0.02}
            for p in ("a", "b")
            for m in params.candidates()
        ]
    ).assign(hit_rate=lambda f: f["pai"] / 50)


def test_naive_is_chosen_when_nothing_beats_it() -> None:
    params = PredictParams()
    folds = _naive_best_folds(params)
    summary = summarise(folds, params)
    assert summary.loc[summary["is_chosen"], "method"].tolist() == [NAIVE]
    assert (summary["naive_pai"] == 10.0).all()
    # A tie with naive also keeps naive (the simplest rule wins unless beaten).
    folds.loc[folds["method"] == "count", "pai"] = 10.0
    assert summarise(folds, params).loc[lambda s: s["is_chosen"], "method"].tolist() == [NAIVE]
    # No folds at all (a single period): naive.
    assert summarise(folds.iloc[0:0], params).loc[lambda s: s["is_chosen"], "method"].tolist() == [
        NAIVE
    ]


def test_back_test_scores_only_the_future_of_each_origin() -> None:
    """A method trained on the folds' past cannot see the scored period: with counts that
    move to a new cell every period, naive and every candidate score 0."""
    cells = pd.DataFrame({"col": np.arange(50) % 10, "row": np.arange(50) // 10})
    weights = grid_weights(cells)
    raster = Raster.from_cells(cells, 500)
    counts = np.zeros((8, 50))
    for t in range(8):
        counts[t, (t * 7) % 50] = 20  # far from every earlier period's cell
    params = PredictParams(
        area_share=0.02, train_periods=2, backtest_folds=3, kde_bandwidths_m=(250.0,)
    )
    folds = backtest(counts, raster, weights, params)
    assert sorted(folds["period"].unique()) == ["5", "6", "7"]
    assert (folds.loc[folds["method"] == NAIVE, "hit_rate"] == 0).all()


def test_top_cells_breaks_ties_by_seed_not_grid_order() -> None:
    score = np.zeros(1_000)
    picks = [np.flatnonzero(top_cells(score, 10, seed)) for seed in (1, 2)]
    assert len(picks[0]) == 10 and not np.array_equal(picks[0], picks[1])
    assert np.array_equal(picks[0], np.flatnonzero(top_cells(score, 10, 1)))


def test_recency_weighted_count_remembers_beyond_the_window_and_favours_recent_crime() -> None:
    from pipelines.hotspots.predict import method_scores

    cells = pd.DataFrame({"col": np.arange(4), "row": np.zeros(4, int)})
    weights = grid_weights(cells)
    raster = Raster.from_cells(cells, 500)
    counts = np.zeros((8, 4))
    counts[0:2, 0] = 10  # busy long ago, before the 2-period training window
    counts[7, 1] = 4  # the latest period
    counts[6, 2] = 4  # one period earlier
    params = PredictParams(
        train_periods=2, ewm_half_lives=(1.0,), memory_periods=8, kde_bandwidths_m=()
    )
    scores = method_scores(counts, raster, weights, params, ("count", "ewm_1"))
    assert scores["count"][0] == 0 and scores["ewm_1"][0] > 0
    assert scores["count"][1] == scores["count"][2]
    # Half-life 1: a period's crimes weigh half as much one period later.
    assert np.isclose(scores["ewm_1"][1], 4.0) and np.isclose(scores["ewm_1"][2], 2.0)
    short = method_scores(
        counts,
        raster,
        weights,
        PredictParams(
            train_periods=2, ewm_half_lives=(1.0,), memory_periods=2, kde_bandwidths_m=()
        ),
        ("ewm_1",),
    )
    assert short["ewm_1"][0] == 0  # memory_periods bounds how far back it looks


def test_short_history_still_gets_a_back_test_from_the_baselines_window() -> None:
    """Three periods, a 4-period training window: the back-test scores every period that has
    the baseline's one period before it, and the longer-window methods use what there is."""
    cells = pd.DataFrame({"col": np.arange(20) % 5, "row": np.arange(20) // 5})
    weights = grid_weights(cells)
    raster = Raster.from_cells(cells, 500)
    counts = np.zeros((3, 20))
    counts[:, 3] = [5, 6, 7]  # one place busy throughout
    params = PredictParams(train_periods=4, backtest_folds=4, kde_bandwidths_m=(250.0,))
    folds = backtest(counts, raster, weights, params)
    assert sorted(folds["period"].unique()) == ["1", "2"]
    assert (folds.loc[folds["method"] == "count", "hit_rate"] == 1).all()


def test_rank_mix_keeps_chronic_and_recent_places_above_quiet_ones() -> None:
    from pipelines.hotspots.predict import method_scores

    cells = pd.DataFrame({"col": np.arange(6), "row": np.zeros(6, int)})
    weights = grid_weights(cells)
    raster = Raster.from_cells(cells, 500)
    counts = np.zeros((8, 6))
    counts[:7, 0] = 3  # chronic: busy every period but the latest
    counts[7, 1] = 3  # a flare-up in the latest period only
    counts[7, 2] = 1
    params = PredictParams(naive_periods=1, memory_periods=8, kde_bandwidths_m=())
    scores = method_scores(counts, raster, weights, params, ("naive", "rank_mix"))
    quiet = scores["rank_mix"][3:]
    assert scores["naive"][0] == 0  # last quarter's count misses the chronic place
    assert scores["rank_mix"][0] > quiet.max() and scores["rank_mix"][1] > quiet.max()
    assert scores["rank_mix"][1] > scores["rank_mix"][2]


def test_expected_hits_is_the_mean_over_every_tie_break_at_the_cut() -> None:
    from itertools import combinations

    from pipelines.hotspots.predict import expected_hits

    score = np.array([5.0, 3.0, 3.0, 3.0, 1.0, 0.0])
    observed = np.array([4.0, 6.0, 0.0, 3.0, 9.0, 1.0])
    # Top 3: the 5 and two of the three 3s; every pair of the tied cells equally likely.
    draws = [observed[0] + observed[list(pair)].sum() for pair in combinations([1, 2, 3], 2)]
    assert np.isclose(expected_hits(score, observed, 3), np.mean(draws))
    # No tie at the cut: the plain top-n sum; n beyond the cells: every crime.
    assert expected_hits(score, observed, 1) == 4.0
    assert expected_hits(score, observed, 10) == observed.sum()
    # A score that could not be computed (NaN) ranks last.
    assert expected_hits(np.array([np.nan, 1.0, 2.0]), np.array([5.0, 1.0, 3.0]), 1) == 3.0
    # A seeded random tie-break can land above or below the expectation.
    picks = {float(observed[top_cells(score, 3, seed)].sum()) for seed in range(20)}
    assert min(picks) < expected_hits(score, observed, 3) < max(picks)


def test_lexicographic_keeps_naive_order_and_breaks_its_ties_by_the_long_run_count() -> None:
    from pipelines.hotspots.predict import method_scores

    cells = pd.DataFrame({"col": np.arange(5), "row": np.zeros(5, int)})
    weights = grid_weights(cells)
    raster = Raster.from_cells(cells, 500)
    counts = np.zeros((6, 5))
    counts[-1] = [2, 2, 2, 3, 0]  # last period: cell 3 busiest, cells 0-2 tied
    counts[:-1, 1] = 4  # cell 1 busy for long
    counts[:-1, 4] = 9  # cell 4 busy for long but quiet last period
    params = PredictParams(naive_periods=1, memory_periods=6, kde_bandwidths_m=())
    s = method_scores(counts, raster, weights, params, ("naive", "lexicographic"))
    order = list(np.argsort(-s["lexicographic"], kind="stable"))
    assert order[0] == 3  # naive's strict order stands
    assert order[1] == 1  # the tie among 0-2 goes to the long-run busy cell
    assert order[-1] == 4  # long-run count never lifts a cell over a higher recent count


def test_shrinkage_lifts_a_thin_cell_with_busy_neighbours_over_a_lone_one() -> None:
    from pipelines.hotspots.predict import shrunk_rate

    cells = pd.DataFrame({"col": np.arange(49) % 7, "row": np.arange(49) // 7})
    weights = grid_weights(cells)
    history = np.zeros((4, 49))
    history[:, [8, 9, 15]] = 5  # a busy block around cell 16 (col 2, row 2)
    history[0, 16] = 2  # the block's own cell: 2 crimes in 4 periods
    history[0, 40] = 2  # a lone cell, the same 2 crimes, quiet neighbours
    rate = shrunk_rate(history, weights)
    assert rate[16] > rate[40] > 0
    # A long busy record keeps about its own rate (5 a period).
    assert abs(rate[8] - 5) < 1.5


def test_learned_ranker_learns_a_pattern_last_periods_count_misses() -> None:
    """Crime returns to the cells hit two periods earlier: the ranker, trained only on the
    origins inside the history, finds the lag-2 cells; last period's count cannot."""
    from pipelines.hotspots.predict import learned_ranker

    rng = np.random.default_rng(0)
    n_cells, periods = 200, 12
    cells = pd.DataFrame({"col": np.arange(n_cells) % 20, "row": np.arange(n_cells) // 20})
    weights = grid_weights(cells)
    counts = np.zeros((periods + 1, n_cells))
    for t in range(periods + 1):
        if t >= 2:
            counts[t] = rng.poisson(3 * (counts[t - 2] > 0))
        counts[t, rng.choice(n_cells, 10, replace=False)] += rng.poisson(4, 10)
    params = PredictParams(naive_periods=1, ewm_half_lives=(1.0,), ranker_alpha=0.1)
    history, scored = counts[:periods], counts[periods]
    from pipelines.hotspots.predict import expected_hits

    ranker = expected_hits(learned_ranker(history, weights, params), scored, 20)
    naive = expected_hits(history[-1], scored, 20)
    assert ranker > 1.5 * naive
    # Too little history for a training origin: the baseline's count.
    assert np.array_equal(learned_ranker(history[:1], weights, params), history[0])
    # No crime at all: the baseline's (zero) count, no fit.
    quiet = np.zeros((6, n_cells))
    assert not learned_ranker(quiet, weights, params).any()


def test_horizon_scores_the_next_periods_summed_with_every_origin_the_data_allow() -> None:
    cells = pd.DataFrame({"col": np.arange(20) % 5, "row": np.arange(20) // 5})
    weights = grid_weights(cells)
    raster = Raster.from_cells(cells, 500)
    counts = np.zeros((6, 20))
    counts[:, 3] = 4
    counts[5, 7] = 50  # only in the last period
    params = PredictParams(
        area_share=0.05, backtest_folds=10, horizon_periods=2, kde_bandwidths_m=()
    )
    folds = backtest(counts, raster, weights, params)
    # Origins 1..4: each has the baseline's period before it and two periods after.
    assert sorted(folds["period"].unique()) == ["1", "2", "3", "4"]
    naive = folds[folds["method"] == NAIVE].set_index("period")["hit_rate"]
    assert naive["3"] == 1.0 and np.isclose(naive["4"], 8 / 58)


def test_learned_ranker_is_a_candidate_only_when_named() -> None:
    assert "poisson_glm" not in PredictParams().candidates()
    assert "shrunk" in PredictParams().candidates()
    named = PredictParams(methods=("poisson_glm",)).candidates()
    assert named == (NAIVE, "poisson_glm")
