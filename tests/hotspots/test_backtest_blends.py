"""The hotspot back-test's evidence rows (shrinkage blends, ranker penalties): picked on
held-in folds only; the per-fold choice sees only folds scored before its origin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.evaluation.hotspots_backtest import (
    add_chosen,
    best_on_held_in,
    load_dataset,
    pool_draws,
    shrinkage_blends,
    thinned_section,
)
from pipelines.hotspots.grid import grid_weights
from pipelines.hotspots.predict import NAIVE, PredictParams, Raster
from pipelines.paths import SHARED_DATA_DIR


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


@pytest.mark.skipif(
    not (SHARED_DATA_DIR / "hotspots").exists(), reason="shared police.uk points not present"
)
def test_thinning_is_a_seeded_draw_of_about_the_share_kept() -> None:
    full, area = load_dataset("north_yorkshire")
    kept, same_area = load_dataset("north_yorkshire", keep_share=0.1, seed=1)
    again, _ = load_dataset("north_yorkshire", keep_share=0.1, seed=1)
    other, _ = load_dataset("north_yorkshire", keep_share=0.1, seed=2)
    assert same_area == area
    assert 0.08 < len(kept) / len(full) < 0.12
    assert kept.equals(again) and not kept.equals(other)
    # Thinning keeps points, never moves them.
    assert kept.merge(full.drop_duplicates(), how="left", indicator=True)["_merge"].eq("both").all()


def test_the_stalking_density_section_shows_the_lowest_draw_beside_the_mean() -> None:
    rows = []
    for seed, chosen in ((1, 1.2), (2, 0.9)):
        for method, pai in ((NAIVE, 10.0), ("chosen", 10.0 * chosen)):
            rows.append(
                {
                    "keep_share": 0.02,
                    "dataset": "a",
                    "horizon_months": 1,
                    "split": "held_out",
                    "method": method,
                    "folds": 3,
                    "mean_pai": pai,
                    "ratio_to_naive": pai / 10.0,
                    "seed": seed,
                    "points_per_month": 50.0,
                }
            )
    table = pool_draws(pd.DataFrame(rows))
    text = "\n".join(thinned_section(table.to_dict("records")))
    assert "| 2% | a | held_out | 1m | 3 | 10.00 | 1.050 (0.900) |" in text
    assert "2 seeded draws" in text and "a 50" in text
