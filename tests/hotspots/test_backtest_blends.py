"""The hotspot back-test's evidence rows (shrinkage blends, ranker penalties): picked on
held-in folds only; the per-fold choice sees only folds scored before its origin."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.evaluation.hotspots_backtest import add_chosen, best_on_held_in, shrinkage_blends
from pipelines.hotspots.grid import grid_weights
from pipelines.hotspots.predict import NAIVE, PredictParams, Raster


def test_blends_shrink_a_cell_toward_its_neighbourhood() -> None:
    cells = pd.DataFrame({"col": np.arange(25) % 5, "row": np.arange(25) // 5})
    weights = grid_weights(cells)
    raster = Raster.from_cells(cells, 500)
    history = np.zeros((3, 25))
    history[:, 12] = 6  # the centre cell busy every month
    history[-1, 0] = 6  # a corner cell busy once, recently, with a quiet neighbourhood
    blends = shrinkage_blends(history, raster, weights, 500)
    plain = blends["blend_ewm3+0.1xneighbours"]
    heavy = blends["blend_ewm3+1xneighbours"]
    # The centre's neighbours gain from it; the lone corner gains nothing from its neighbours.
    assert heavy[13] > plain[13] > 0 and heavy[0] == plain[0]
    assert all(score.shape == (25,) for score in blends.values())


def test_the_blend_reported_is_the_best_held_in_not_held_out() -> None:
    table = pd.DataFrame(
        [
            ("a", "held_in", "blend_x", 1.04),
            ("a", "held_out", "blend_x", 1.00),
            ("a", "held_in", "blend_y", 1.01),
            ("a", "held_out", "blend_y", 1.09),
            ("b", "held_out", "blend_x", 0.99),
            ("a", "held_in", "naive", 1.0),
        ],
        columns=["dataset", "split", "method", "ratio_to_naive"],
    ).assign(horizon_months=1)
    best = best_on_held_in(table, "blend_")
    assert best["method"] == "blend_x" and best["candidates"] == 2
    assert best["ratio_to_naive"] == {"a:held_in": 1.04, "a:held_out": 1.0, "b:held_out": 0.99}


def test_the_choice_at_a_fold_sees_only_folds_scored_before_its_origin() -> None:
    """At a three-month horizon the fold one month earlier scores months that include this
    origin's: the choice must not use it, only folds whose scored months all precede."""
    params = PredictParams(backtest_folds=4, methods=("count",))
    months = [f"2020-{m:02d}" for m in range(1, 8)]
    rows = []
    for i, month in enumerate(months):
        # count beats naive at the first origin only; later it loses.
        rows.append((month, NAIVE, 10.0))
        rows.append((month, "count", 20.0 if i == 0 else 5.0))
    folds = pd.DataFrame(rows, columns=["month", "method", "pai"]).assign(
        dataset="a", horizon_months=3, split="held_out", hit_rate=0.1, area_share=0.02
    )
    picked = add_chosen(folds, params, NAIVE).query("method == 'chosen'").set_index("month")
    # Origins 0-2 have no fully scored earlier fold; origin 3 sees only origin 0 (count won).
    assert picked.loc[months[:3], "picked"].tolist() == [NAIVE] * 3
    assert picked.loc[months[3], "picked"] == "count"
    # Origin 4 sees origins 0 and 1: count's mean 12.5 still beats 10; origin 5 adds a loss.
    assert picked.loc[months[4], "picked"] == "count"
    assert picked.loc[months[5], "picked"] == NAIVE
