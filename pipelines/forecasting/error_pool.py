"""Forecast intervals from a pool of scale-free forecast errors, by years ahead.

A series' own rolling-origin errors (a few origins, a few years) cannot show a change it has
not lived through, such as the national rise in recorded harassment of 2014/15-2017/18
(recording practice). The pool holds the errors of the pipeline's own chosen forecasts over
every rolling origin of the 22 forces' Home Office series, so a force's interval reflects
what happened to forecasts of this crime type anywhere in the record.

Errors are scale-free log ratios, log((actual + 1) / (forecast + 1)), so a force of any size
shares one pool and a proportional change (a recording-practice shift moves every force by a
share, not by a count) is one error size everywhere. The table (per years ahead and level:
the lower and upper quantile of those log errors) is computed by
`python -m pipelines.evaluation.forecast_backtest` into docs/evaluation/forecast_error_pool.json
and read at run time as a declared input (`forecasting.error_pool_file`).

At run time the published interval is the union of the series' own calibrated interval (which
carries its period-to-period noise: monthly counts are noisier than annual totals) and the
pooled one (which carries changes of level).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.isotonic import IsotonicRegression

# Per years-ahead step, fewer errors than this give too noisy a tail quantile to keep.
MIN_ERRORS = 20


@dataclass(frozen=True)
class PoolRow:
    years_ahead: float
    level: int
    lo: float  # lower quantile of log((actual + 1) / (forecast + 1))
    hi: float  # upper quantile
    n: int  # errors behind the quantiles


def log_errors(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """Scale-free forecast errors of counts (negative forecasts count as 0)."""
    a = np.asarray(actual, float)
    f = np.clip(np.asarray(forecast, float), 0, None)
    return np.log((a + 1) / (f + 1))


def pool_quantiles(
    years_ahead: np.ndarray,
    errors: np.ndarray,
    levels: tuple[int, ...],
    min_errors: int = MIN_ERRORS,
) -> tuple[PoolRow, ...]:
    """Per distinct years ahead with at least `min_errors` finite errors and per level: the
    outer order statistics ('lower' / 'higher') at (1 - level) / 2 and (1 + level) / 2.
    Made monotone in the years ahead by isotonic regression (the interval never narrows
    further ahead) and never excluding a zero error (the forecast stays inside)."""
    years = np.round(np.asarray(years_ahead, float), 4)
    errors = np.asarray(errors, float)
    keep = np.isfinite(errors) & np.isfinite(years)
    years, errors = years[keep], errors[keep]
    steps = [y for y in np.unique(years) if np.sum(years == y) >= min_errors]
    if not steps:
        return ()
    rows = []
    for lv in levels:
        tail = (1 - lv / 100) / 2
        lo = np.array([np.quantile(errors[years == y], tail, method="lower") for y in steps])
        hi = np.array([np.quantile(errors[years == y], 1 - tail, method="higher") for y in steps])
        if len(steps) > 1:
            hi = IsotonicRegression(increasing=True).fit_transform(steps, hi)
            lo = IsotonicRegression(increasing=False).fit_transform(steps, lo)
        for y, a, b in zip(steps, lo, hi, strict=True):
            n = int(np.sum(years == y))
            rows.append(PoolRow(float(y), int(lv), float(min(a, 0.0)), float(max(b, 0.0)), n))
    return tuple(rows)


def _growth(years: np.ndarray, growth: str) -> np.ndarray:
    return np.sqrt(years) if growth == "sqrt" else years


def pool_bounds(
    forecast: np.ndarray,
    years_ahead: np.ndarray,
    pool: tuple[PoolRow, ...],
    level: int,
    growth: str = "linear",
) -> tuple[np.ndarray, np.ndarray] | None:
    """The pooled interval of `forecast` (counts) at `years_ahead` (same shape): the log
    quantiles interpolated linearly in the years ahead (0 at 0), beyond the pool's furthest
    horizon H the quantile at H x g(y) / g(H), g = y ("linear") or sqrt y ("sqrt").
    None when the pool has no row for the level."""
    rows = sorted((r for r in pool if r.level == level), key=lambda r: r.years_ahead)
    if not rows:
        return None
    ys = np.array([0.0] + [r.years_ahead for r in rows])
    lo_q = np.array([0.0] + [r.lo for r in rows])
    hi_q = np.array([0.0] + [r.hi for r in rows])
    y = np.asarray(years_ahead, float)
    last = ys[-1]
    stretch = np.where(y > last, _growth(np.maximum(y, last), growth) / _growth(last, growth), 1.0)
    lo = np.interp(np.minimum(y, last), ys, lo_q) * stretch
    hi = np.interp(np.minimum(y, last), ys, hi_q) * stretch
    base = np.clip(np.asarray(forecast, float), 0, None) + 1
    return np.clip(base * np.exp(lo) - 1, 0, None), base * np.exp(hi) - 1


def widen_with_pool(
    forecast: np.ndarray,
    bounds: dict[int, tuple[np.ndarray, np.ndarray]],
    years_ahead: np.ndarray,
    pool: tuple[PoolRow, ...],
    growth: str = "linear",
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The union of each level's own interval (`bounds`: level -> (lo, hi)) and the pooled
    one. Unions of nested intervals stay nested."""
    out = {}
    for level, (lo, hi) in bounds.items():
        pooled = pool_bounds(forecast, years_ahead, pool, level, growth)
        if pooled is None:
            out[level] = (np.asarray(lo, float), np.asarray(hi, float))
        else:
            out[level] = (np.minimum(lo, pooled[0]), np.maximum(hi, pooled[1]))
    return out


def pool_to_json(pool: tuple[PoolRow, ...], source: str) -> dict:
    return {"source": source, "rows": [r.__dict__ for r in pool]}


def read_error_pool(path: Path) -> tuple[PoolRow, ...]:
    """The pooled error table written by the forecast back-test (empty when the file is
    missing: the intervals are then the series' own, and say so in `interval_method`)."""
    path = Path(path)
    if not path.exists():
        return ()
    payload = json.loads(path.read_text())
    return tuple(
        PoolRow(
            float(r["years_ahead"]), int(r["level"]), float(r["lo"]), float(r["hi"]), int(r["n"])
        )
        for r in payload.get("rows", [])
    )
