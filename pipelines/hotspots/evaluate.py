"""Hotspot accuracy indices (../shared/DOMAIN.md s5).

PAI = (c_t / C) / (a_t / A): share of test-period crimes in the flagged cells divided by the
share of the study area flagged. PEI = PAI / the best PAI achievable with the same flagged
area. RRI (as in ptools) = crimes the method predicted in the flagged cells / crimes observed
there (Inf when none observed; analyse log RRI).
"""

from __future__ import annotations

import math

import numpy as np


def pai(flagged: np.ndarray, observed: np.ndarray, area: np.ndarray | None = None) -> float:
    flagged = np.asarray(flagged, bool)
    observed = np.asarray(observed, float)
    area = np.ones_like(observed) if area is None else np.asarray(area, float)
    total_crimes, total_area = observed.sum(), area.sum()
    flagged_area = area[flagged].sum()
    if total_crimes == 0 or flagged_area == 0:
        return math.nan
    return float((observed[flagged].sum() / total_crimes) / (flagged_area / total_area))


def pei(flagged: np.ndarray, observed: np.ndarray) -> float:
    """PAI relative to the best possible choice of the same number of (equal-area) cells."""
    flagged = np.asarray(flagged, bool)
    k = int(flagged.sum())
    if k == 0:
        return math.nan
    best = np.zeros(len(flagged), bool)
    best[np.argsort(-np.asarray(observed, float), kind="stable")[:k]] = True
    best_pai = pai(best, observed)
    return float(pai(flagged, observed) / best_pai) if best_pai else math.nan


def rri(flagged: np.ndarray, predicted: np.ndarray, observed: np.ndarray) -> float:
    flagged = np.asarray(flagged, bool)
    pred = float(np.asarray(predicted, float)[flagged].sum())
    obs = float(np.asarray(observed, float)[flagged].sum())
    if obs == 0:
        return math.inf if pred > 0 else math.nan
    return pred / obs
