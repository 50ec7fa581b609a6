"""The gated re-ranking (pipelines.evaluation.screening_review_gate) on hand-made forces whose
truth is known: where the reviews can tell which crimes below the threshold are stalking, the
gate opens and the model pulls them in; where nothing the screen records tells them apart, the
returns' estimate keeps the gate shut and the screen is the configured threshold's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.evaluation.screening import WEIGHT_COLUMNS, indicator_matrix
from pipelines.evaluation.screening_review_gate import (
    INDICATOR_GROUPS,
    GatedSettings,
    choose,
    features,
    group_matrix,
    part_figures,
    stratified_precision,
)
from tests.evaluation.review_forces import scored_force

BANDS = [5, 6, 7, 8, 9, 10]
QUARTERS = [f"{year}-Q{q}" for year in (2023, 2024, 2025, 2026) for q in (1, 2, 3, 4)][:15]


def _force(seed: int, teachable: bool) -> tuple[pd.DataFrame, set[str]]:
    """200 screened crimes a quarter at flag levels 3..11; at 8 or more 90 % are stalking.
    Below it, teachable: 95 % of the crimes with is_sustained (a third) and 5 % of the rest;
    else 30 % of every crime, whatever it carries."""
    rng = np.random.default_rng(seed)
    n = 200 * len(QUARTERS)
    level = rng.integers(3, 12, n)
    sustained = rng.random(n) < 1 / 3
    below = (
        np.where(sustained, rng.random(n) < 0.95, rng.random(n) < 0.05)
        if teachable
        else rng.random(n) < 0.3
    )
    stalking = np.where(level >= 8, rng.random(n) < 0.9, below)
    return scored_force(QUARTERS, 200, level, sustained, stalking)


def _settings(form: str, gate: float | None) -> GatedSettings:
    return GatedSettings(form=form, penalty_c=10.0, cut=0.6, quarters=4, per_band_low=12, gate=gate)


@pytest.mark.parametrize("form", ["indicators", "groups"])
def test_the_gate_opens_where_the_reviews_teach(form: str) -> None:
    scored, hidden = _force(1, teachable=True)
    settings = _settings(form, 0.85)
    figures = part_figures(scored, hidden, QUARTERS[-1], [settings], BANDS, 8, 8, draws=2)[settings]
    configured = figures["configured"]
    assert figures["gate_open_share"] == 1.0
    # the sustained crimes of bands 5-7 are found, and they are stalking 95 % of the time
    assert figures["recall"] > configured["recall"] + 0.1
    assert figures["precision"] > 0.85
    # 12 a band in 5-7 and 8 a band in 8-10, every band holding more crimes than that
    assert figures["reviews_per_quarter"] == 3 * 12 + 3 * 8


def test_the_gate_stays_shut_where_nothing_tells_the_crimes_apart() -> None:
    scored, hidden = _force(2, teachable=False)
    gated, open_ = _settings("indicators", 0.85), _settings("indicators", None)
    figures = part_figures(scored, hidden, QUARTERS[-1], [gated, open_], BANDS, 8, 8, draws=2)
    configured = figures[gated]["configured"]
    # the gate keeps the configured screen; without it the model may pull in 30 % stalking
    assert figures[gated]["gate_open_share"] == 0.0
    assert figures[gated]["precision"] == configured["precision"]
    assert figures[gated]["recall"] == configured["recall"]
    assert figures[open_]["precision"] <= configured["precision"]


def test_the_estimate_weights_each_stratum_by_its_crimes() -> None:
    reviewed = pd.DataFrame(
        {
            "quarter": ["q"] * 8,
            "band_floor": [5] * 4 + [6] * 4,
            "band_crimes": [100] * 4 + [20] * 4,
            "verdict": [True, False, False, False, True, True, True, True],
        }
    )
    selected = np.ones(8, dtype=bool)
    estimate, behind = stratified_precision(reviewed, selected)
    # (100 x 1/4 + 20 x 4/4) / (100 + 20)
    assert estimate == round(45 / 120, 4)
    assert behind == 8
    assert stratified_precision(reviewed, np.eye(8, dtype=bool)[0]) == (None, 1)


def test_groups_cover_every_indicator_once() -> None:
    names = [n for group in INDICATOR_GROUPS.values() for n in group]
    assert sorted(names) == sorted(WEIGHT_COLUMNS)
    scored, _ = _force(3, teachable=True)
    matrix = indicator_matrix(scored)
    assert (group_matrix(matrix).sum(axis=1) == matrix.sum(axis=1)).all()
    assert features(scored, np.zeros(len(scored)), "groups").shape[1] == 1 + len(INDICATOR_GROUPS)


def test_choose_keeps_nothing_that_costs_precision() -> None:
    scored, hidden = _force(2, teachable=False)
    grid = [_settings("indicators", None)]
    chosen, rows = choose({"a": part_figures(scored, hidden, QUARTERS[-1], grid, BANDS, 8, 8, 1)})
    assert chosen is None
    assert rows[0]["eligible"] is False
