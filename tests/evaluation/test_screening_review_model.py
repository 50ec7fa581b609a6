"""The screening points re-weighted by the force's reviewed sample
(pipelines.evaluation.screening_review_model), on a hand-made force whose truth is known: below
the threshold only the crimes carrying one indicator are stalking, and the model taught by the
review returns pulls those in, keeps every crime the configured threshold flags, and estimates
the flagged set's precision from the stratified returns near its true value."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.evaluation.screening import precision_recall
from pipelines.evaluation.screening_review_model import (
    ReviewModelSettings,
    estimated_precision,
    reranked_run,
)
from tests.evaluation.review_forces import scored_force

BANDS = [5, 6, 7, 8, 9, 10]
QUARTERS = [f"{year}-Q{q}" for year in (2024, 2025, 2026) for q in (1, 2, 3, 4)][:11]


def _force(seed: int) -> tuple[pd.DataFrame, set[str]]:
    """300 screened crimes a quarter at flag levels 3..11. At 8 or more 90 % are stalking;
    below it, 95 % of those with is_sustained (a third of them) and 5 % of the rest."""
    rng = np.random.default_rng(seed)
    n = 300 * len(QUARTERS)
    level = rng.integers(3, 12, n)
    sustained = rng.random(n) < 1 / 3
    stalking = np.where(
        level >= 8,
        rng.random(n) < 0.9,
        np.where(sustained, rng.random(n) < 0.95, rng.random(n) < 0.05),
    )
    return scored_force(QUARTERS, 300, level, sustained, stalking)


def test_the_reviews_teach_it_which_crimes_below_the_threshold_are_stalking() -> None:
    scored, hidden = _force(1)
    evaluated = QUARTERS[-4:]
    settings = ReviewModelSettings(penalty_c=10.0, cut=0.6, quarters=4)
    flagged, said = reranked_run(scored, hidden, evaluated, settings, BANDS, 8, 8, seed=1)
    in_scope = scored[scored["reported_quarter"].isin(evaluated)]
    configured = set(in_scope.loc[in_scope["score"] >= 8, "crime_id"])
    assert configured <= flagged  # nothing the configured threshold flags is dropped
    pulled = in_scope[in_scope["crime_id"].isin(flagged - configured)]
    # pulled in: reviewed bands below the threshold, the sustained crimes (and only them)
    assert pulled["score"].between(5, 7).all()
    assert pulled["is_sustained"].all()
    below = in_scope[in_scope["score"].between(5, 7) & in_scope["is_sustained"]]
    assert len(pulled) >= 0.9 * len(below)
    truth = hidden & set(in_scope["crime_id"])
    assert (
        precision_recall(flagged, truth)["recall"] > precision_recall(configured, truth)["recall"]
    )
    assert all(s["used"] for s in said)
    # what it adds to the points: the sustained indicator, strongly
    assert all(s["points_added"].get("sustained", 0) >= 2 for s in said)
    # the estimate from the returns lands near the flagged set's true precision
    true_precision = precision_recall(flagged, truth)["precision"]
    assert all(abs(s["estimated_precision"] - true_precision) < 0.06 for s in said)


def test_too_few_returns_leave_the_configured_threshold() -> None:
    scored, hidden = _force(2)
    settings = ReviewModelSettings(penalty_c=10.0, cut=0.6, quarters=1, min_reviewed=1000)
    flagged, said = reranked_run(scored, hidden, QUARTERS[-2:], settings, BANDS, 8, 8, seed=1)
    in_scope = scored[scored["reported_quarter"].isin(QUARTERS[-2:])]
    assert flagged == set(in_scope.loc[in_scope["score"] >= 8, "crime_id"])
    assert not any(s["used"] for s in said)


def test_the_estimate_weights_each_stratum_by_the_crimes_it_held() -> None:
    # band 7 (below threshold 8) held 100 crimes: 4 reviewed, 2 selected, 1 of them stalking;
    # band 8 held 50: 2 reviewed, both stalking. Flagged ~ 100 * 2/4 + 50 = 100, stalking
    # ~ 100 * 1/4 + 50 = 75.
    reviewed = pd.DataFrame(
        {
            "quarter": "2026-Q2",
            "band_floor": [7, 7, 7, 7, 8, 8],
            "band_crimes": [100, 100, 100, 100, 50, 50],
            "verdict": [True, False, True, False, True, True],
        }
    )
    selected = np.array([True, True, False, False, False, False])
    assert estimated_precision(reviewed, selected, 8) == 0.75
