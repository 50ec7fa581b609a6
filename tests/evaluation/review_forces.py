"""The scored crimes of a hand-made force for the screening review tests: each test module
draws its own levels, sustained flags and truth (its assertions rest on its own draws), and
this builds the frame the review code reads from them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.evaluation.screening import WEIGHT_COLUMNS


def scored_force(
    quarters: list[str],
    per_quarter: int,
    level: np.ndarray,
    sustained: np.ndarray,
    stalking: np.ndarray,
) -> tuple[pd.DataFrame, set[str]]:
    """Crimes c0.. in `quarters`, `per_quarter` each, scored `level` on their only victim with
    a course on that victim, no indicator but is_sustained; and the ids of those truly
    stalking."""
    n = per_quarter * len(quarters)
    scored = pd.DataFrame(
        {
            "crime_id": [f"c{i}" for i in range(n)],
            "reported_quarter": np.repeat(quarters, per_quarter),
            "score": level,
            "score_on_this_victim": level,
            "has_course_on_this_victim": True,
        }
    )
    for column in WEIGHT_COLUMNS.values():
        scored[column] = False
    scored["is_sustained"] = sustained
    return scored, set(scored.loc[stalking, "crime_id"])
