"""The screening points chosen on held-in parts: every indicator's whole points at a fixed
threshold, searched directly for what screening is asked to do. Evaluation only: the pipeline
keeps a points score (settings screening.weights), explainable crime by crime; no model runs
in it.

- The aim must hold on every force, so a set of points is ranked on the worse part: the lower
  recall of the parts where every part's precision reaches the floor, then the lower
  precision. Pooling the parts would let the force with more hidden stalking (where
  precision comes easily) carry the other below the floor.
- The search: coordinate ascent from the configured points, each indicator in turn tried at
  0..MAX_POINTS with the others held, a change kept when it ranks higher, until a sweep
  changes nothing. Points stay >= 0 (a point only raises attention) and the flag rule is the
  pipeline's (flags: the suspect's history with other victims never pulls a crime in alone).
- A precision floor met exactly on the crimes the search sees is met less often on others, so
  the floor the search aims at (at or above the target) is chosen by cross-validation inside
  the held-in parts: the aim that gives the best worse-part recall on the folds left out,
  with every part's left-out precision reaching the target.

A logistic-regression scorecard (coefficients scaled to whole points) was weighed against it
on the same folds and lost (docs/evaluation/screening.md, session 24 note): log-loss rewards
ranking every crime, the threshold only the crimes near it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipelines.evaluation.screening import (
    WEIGHT_COLUMNS,
    flags,
    has_course,
    indicator_matrix,
    precision_recall,
)

MAX_POINTS = 12
SWEEPS = 6
FOLDS = 5
# the precision the search aims at on the crimes it sees; chosen among these by cross-validation
AIMS = (0.85, 0.86, 0.87, 0.88, 0.89)


@dataclass(frozen=True)
class Part:
    """One held-in part: its screened crimes' indicators (WEIGHT_COLUMNS order), whether each
    has a course against its victim, and whether each is truly hidden stalking."""

    crime_ids: np.ndarray
    indicators: np.ndarray
    course: np.ndarray
    truth: np.ndarray

    @classmethod
    def of(cls, scored: pd.DataFrame, hidden: set[str]) -> Part:
        # in crime order, so the folds do not depend on the order the warehouse returns rows in
        scored = scored.sort_values("crime_id", kind="stable")
        return cls(
            scored["crime_id"].to_numpy(),
            indicator_matrix(scored),
            has_course(scored),
            scored["crime_id"].isin(hidden).to_numpy(),
        )

    def subset(self, mask: np.ndarray) -> Part:
        return Part(
            self.crime_ids[mask], self.indicators[mask], self.course[mask], self.truth[mask]
        )


def as_points(weights: dict[str, int]) -> np.ndarray:
    return np.array([weights[name] for name in WEIGHT_COLUMNS], dtype=np.int32)


def as_weights(points: np.ndarray) -> dict[str, int]:
    return {name: int(value) for name, value in zip(WEIGHT_COLUMNS, points, strict=True)}


def figures(part: Part, flagged: np.ndarray) -> dict[str, Any]:
    return precision_recall(set(part.crime_ids[flagged]), set(part.crime_ids[part.truth]))


def worse_part_key(by_part: dict[str, dict[str, Any]], floor: float) -> tuple[float, float]:
    """The ranking of the worse part: the lower recall where every part's precision reaches
    the floor (else -1), then the lower precision."""
    precision = min(m["precision"] for m in by_part.values())
    recall = min(m["recall"] for m in by_part.values())
    return (recall if precision >= floor else -1.0, precision)


def _key(parts: list[Part], points: np.ndarray, threshold: int, floor: float) -> tuple:
    precision, recall = [], []
    for part in parts:
        flagged = flags(part.indicators, part.course, points, threshold)
        hits = int((flagged & part.truth).sum())
        precision.append(hits / flagged.sum() if flagged.any() else 1.0)
        recall.append(hits / part.truth.sum() if part.truth.any() else 1.0)
    return (min(recall) if min(precision) >= floor else -1.0, min(precision))


def search_points(
    parts: list[Part],
    start: np.ndarray,
    threshold: int,
    floor: float,
    free: tuple[str, ...] | None = None,
) -> np.ndarray:
    """Coordinate ascent on the worse part's ranking, from `start`, over the weights named in
    `free` (None: every weight; the others stay as in `start`)."""
    points = start.astype(np.int32).copy()
    best = _key(parts, points, threshold, floor)
    coordinates = [i for i, name in enumerate(WEIGHT_COLUMNS) if free is None or name in free]
    for _ in range(SWEEPS):
        changed = False
        for i in coordinates:
            for value in range(MAX_POINTS + 1):
                if value == points[i]:
                    continue
                candidate = points.copy()
                candidate[i] = value
                key = _key(parts, candidate, threshold, floor)
                if key > best:
                    best, points, changed = key, candidate, True
        if not changed:
            break
    return points


def _folds(parts: dict[str, Part], folds: int, seed: int) -> dict[str, np.ndarray]:
    """A fold number per crime, stratified by part and truth."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, part in parts.items():
        fold = np.empty(len(part.truth), dtype=int)
        for value in (True, False):
            index = np.flatnonzero(part.truth == value)
            fold[index] = rng.permutation(np.arange(len(index)) % folds)
        out[name] = fold
    return out


def cross_validated(
    parts: dict[str, Part],
    start: np.ndarray,
    threshold: int,
    aim: float,
    folds: int = FOLDS,
    seed: int = 0,
    free: tuple[str, ...] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each part's precision and recall over every fold's crimes, each fold flagged with the
    points searched on the other folds."""
    fold_of = _folds(parts, folds, seed)
    flagged = {name: np.zeros(len(part.truth), dtype=bool) for name, part in parts.items()}
    for k in range(folds):
        train = [part.subset(fold_of[name] != k) for name, part in parts.items()]
        points = search_points(train, start, threshold, aim, free)
        for name, part in parts.items():
            test = fold_of[name] == k
            flagged[name][test] = flags(part.indicators[test], part.course[test], points, threshold)
    return {name: figures(part, flagged[name]) for name, part in parts.items()}


def choose_points(
    parts: dict[str, Part],
    configured: dict[str, int],
    threshold: int,
    target: float = 0.85,
    aims: tuple[float, ...] = AIMS,
    folds: int = FOLDS,
    free: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The aim ranked best on the worse part under cross-validation (left-out precision at the
    target on every part), the points then searched on every held-in crime at that aim, and
    their figures beside the configured points' on each part (in-sample: the crimes the
    choice was made on). `free`: the weights searched (None: all), the rest as configured."""
    start = as_points(configured)
    rows = [
        {"aim": aim, "figures": cross_validated(parts, start, threshold, aim, folds, free=free)}
        for aim in aims
    ]
    best = max(rows, key=lambda row: (worse_part_key(row["figures"], target), -row["aim"]))
    points = search_points(list(parts.values()), start, threshold, best["aim"], free)

    def on_parts(chosen: np.ndarray) -> dict[str, dict[str, Any]]:
        return {
            name: figures(part, flags(part.indicators, part.course, chosen, threshold))
            for name, part in parts.items()
        }

    return {
        "parts": list(parts),
        "free": list(free) if free is not None else None,
        "threshold": threshold,
        "target_precision": target,
        "folds": folds,
        "aims": rows,
        "aim": best["aim"],
        "cross_validated": best["figures"],
        "points": as_weights(points),
        "figures": on_parts(points),
        "configured": {"points": dict(configured), "figures": on_parts(start)},
    }
