"""The hotspot back-test's shrinkage blends: picked on held-in folds only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.evaluation.hotspots_backtest import best_blend_on_held_in, shrinkage_blends
from pipelines.hotspots.grid import grid_weights
from pipelines.hotspots.predict import Raster


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
    )
    best = best_blend_on_held_in(table)
    assert best["method"] == "blend_x" and best["candidates"] == 2
    assert best["ratio_to_naive"] == {"a:held_in": 1.04, "a:held_out": 1.0, "b:held_out": 0.99}
