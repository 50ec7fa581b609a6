"""The screening points searched on held-in parts (pipelines.evaluation.screening_points), on
hand-made parts whose truth is known: the search finds points that reach the precision floor
on every part where the configured ones do not, ranks on the worse part, and its flags are
the pipeline's rule (the suspect's history with other victims never pulls a crime in alone)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.evaluation.screening import WEIGHT_COLUMNS, flagged_with, points_markdown
from pipelines.evaluation.screening_points import (
    Part,
    as_points,
    choose_points,
    search_points,
    worse_part_key,
)

NONE = dict.fromkeys(WEIGHT_COLUMNS, 0)


def _scored(n: int, seed: int, prefix: str, hidden_share: float) -> tuple[pd.DataFrame, set[str]]:
    """Hidden stalking shows linked intelligence on 90 % (others 1 %) and a high risk grading
    on 60 % (others 20 %); a repeat victim shows more on the others. Half the crimes have a
    course against their victim; a third of the others' suspects have a stalking history with
    someone else."""
    rng = np.random.default_rng(seed)
    is_hidden = rng.random(n) < hidden_share

    def signal(on_hidden: float, on_others: float) -> np.ndarray:
        return np.where(is_hidden, rng.random(n) < on_hidden, rng.random(n) < on_others)

    scored = pd.DataFrame({"crime_id": [f"{prefix}{i}" for i in range(n)]})
    for column in WEIGHT_COLUMNS.values():
        scored[column] = False
    scored["has_linked_intelligence"] = signal(0.9, 0.01)
    scored["is_high_risk"] = signal(0.6, 0.2)
    scored["is_repeat_victim"] = signal(0.1, 0.5)
    scored["has_suspect_stalking_history"] = signal(0.0, 0.33)
    scored["has_course_on_this_victim"] = rng.random(n) < 0.5
    return scored, set(scored.loc[is_hidden, "crime_id"])


def _parts() -> dict[str, Part]:
    return {
        "a": Part.of(*_scored(1500, 1, "a", 0.1)),
        "b": Part.of(*_scored(1000, 2, "b", 0.3)),
    }


def test_the_flags_are_the_pipelines_rule_on_the_suspects_history() -> None:
    scored, _ = _scored(400, 3, "x", 0.2)
    weights = {**NONE, "suspect_stalking": 9, "high_risk": 2}
    flagged = flagged_with(scored, weights, 8)
    history = scored["has_suspect_stalking_history"]
    course = scored["has_course_on_this_victim"]
    # the history alone reaches 8 points, yet flags only crimes with a course on this victim
    assert flagged[history & ~course].sum() == 0
    assert flagged[history & course].all()
    assert not flagged[~history].any()


def test_the_search_reaches_the_floor_on_every_part_from_weak_points() -> None:
    parts = _parts()
    weak = {**NONE, "high_risk": 8}
    points = search_points(list(parts.values()), as_points(weak), 8, 0.85)
    chosen = dict(zip(WEIGHT_COLUMNS, points.tolist(), strict=True))
    assert chosen["linked_intelligence"] >= 8
    assert chosen["high_risk"] < 8
    assert chosen["repeat_victim"] == 0
    assert (points >= 0).all()


def test_the_choice_is_cross_validated_and_reported_beside_the_configured_points() -> None:
    parts = _parts()
    weak = {**NONE, "high_risk": 8}
    choice = choose_points(parts, weak, 8, aims=(0.85, 0.9), folds=3)
    assert choice["aim"] in (0.85, 0.9)
    for figures in (choice["figures"], choice["cross_validated"]):
        assert min(m["precision"] for m in figures.values()) >= 0.85
        assert min(m["recall"] for m in figures.values()) >= 0.85
    configured = choice["configured"]["figures"]
    assert min(m["precision"] for m in configured.values()) < 0.85
    text = "\n".join(points_markdown(choice))
    assert "high_risk 8" in text and "where they differ" in text
    assert f"linked_intelligence {choice['points']['linked_intelligence']}" in text


def test_the_worse_part_decides_and_a_part_below_the_floor_disqualifies() -> None:
    def m(precision: float, recall: float) -> dict[str, float]:
        return {"precision": precision, "recall": recall}

    even = worse_part_key({"a": m(0.9, 0.8), "b": m(0.86, 0.8)}, 0.85)
    uneven = worse_part_key({"a": m(0.95, 0.95), "b": m(0.9, 0.7)}, 0.85)
    below = worse_part_key({"a": m(0.99, 0.99), "b": m(0.84, 0.99)}, 0.85)
    assert even > uneven > below
    assert below[0] == -1.0


def test_a_search_of_named_weights_moves_only_those() -> None:
    parts = _parts()
    weak = {**NONE, "high_risk": 8}
    # linked intelligence alone is searched: high risk keeps its 8 whatever it costs
    points = search_points(list(parts.values()), as_points(weak), 8, 0.85, ("linked_intelligence",))
    chosen = dict(zip(WEIGHT_COLUMNS, points.tolist(), strict=True))
    assert chosen["high_risk"] == 8
    assert chosen["linked_intelligence"] >= 8
    assert {name for name in WEIGHT_COLUMNS if chosen[name] != weak[name]} == {
        "linked_intelligence"
    }
    choice = choose_points(parts, weak, 8, aims=(0.85,), folds=3, free=("linked_intelligence",))
    assert choice["free"] == ["linked_intelligence"]
    assert choice["points"]["high_risk"] == 8
    text = "\n".join(points_markdown(choice))
    assert "linked_intelligence alone 0..12 points (the other points as configured)" in text
