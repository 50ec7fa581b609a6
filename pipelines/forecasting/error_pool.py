"""Forecast intervals from pools of scale-free forecast errors, by kind of series and years ahead.

A series' own rolling-origin errors (a few origins, a few years) cannot show a change it has
not lived through, such as the national rise in recorded harassment of 2014/15-2017/18
(recording practice). A pool holds the errors of the pipeline's own chosen forecasts over
every rolling origin of the 22 forces' Home Office series, so a force's interval reflects
what happened to forecasts of this crime type anywhere in the record.

One pool per kind of series, because an error of an annual total and an error of a single
month are not the same size: `annual` (year-ending-March totals, one point a year) and
`rolling_year` (12-month totals ending at every quarter: the error of a year's total k
quarters ahead, which is also an FMS financial year that ends k quarters after the last
recorded month). Errors are scale-free log ratios, log((actual + 1) / (forecast + 1)), so a
force of any size shares one pool and a proportional change (a recording-practice shift moves
every force by a share, not by a count) is one error size everywhere. The quantiles are
split-conformal with the finite-sample correction (the ceil((n + 1)(1 - a/2))-th smallest
error and its lower twin), so n exchangeable errors give at least the nominal coverage.

The table is computed by `python -m pipelines.evaluation.forecast_backtest` into
docs/evaluation/forecast_error_pool.json and read at run time as a declared input
(`forecasting.error_pool_file`). Where the pool describes the series itself (annual and
quarterly series) it is the interval, or widens the series' own one
(`forecasting.error_pool_composition`); where it does not (months), it only widens the
month's own interval, which carries the month-to-month noise an annual total does not show.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

# Per years-ahead step, fewer errors than this give too noisy a tail quantile to keep.
MIN_ERRORS = 20
ANNUAL = "annual"
ROLLING_YEAR = "rolling_year"
POOL_KINDS = (ANNUAL, ROLLING_YEAR)
# How the pool meets a series' own interval: the pool alone, or the union of both.
COMPOSITIONS = ("pool", "union")
# Which errors a pool is built from: those whose training window and target both end before
# the recording-practice change (`stable_recording`), or every error (`all`).
STABLE_RECORDING = "stable_recording"
ALL_ERRORS = "all"
REGIMES = (STABLE_RECORDING, ALL_ERRORS)
# How the quantiles treat the sign of an error: `symmetric` takes the conformal quantile of
# |error| and puts it on both sides of the forecast; `signed` takes each tail on its own side.
SYMMETRIC = "symmetric"
SIGNED = "signed"
SIDES = (SYMMETRIC, SIGNED)


@dataclass(frozen=True)
class PoolRow:
    years_ahead: float
    level: int
    lo: float  # lower quantile of log((actual + 1) / (forecast + 1))
    hi: float  # upper quantile
    n: int  # errors behind the quantiles
    kind: str = ROLLING_YEAR
    regime: str = ALL_ERRORS
    sides: str = SIGNED


def pool_kind(periods_per_year: int) -> str:
    """The pool that describes a series of this frequency: annual totals for annual series;
    totals of a year ending at any quarter for quarterly and monthly series (the FMS adds
    months into years)."""
    return ANNUAL if periods_per_year == 1 else ROLLING_YEAR


def stable_recording(
    target_end: pd.Series | np.ndarray, recording_change_start: str | pd.Timestamp
) -> np.ndarray:
    """True for a forecast error whose target period ends (exclusive end) on or before the
    recording-practice change; its training window ends earlier still, so neither reaches
    the change. Such errors describe forecasting under stable recording practice."""
    return np.asarray(pd.to_datetime(target_end) <= pd.Timestamp(recording_change_start))


def log_errors(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """Scale-free forecast errors of counts (negative forecasts count as 0)."""
    a = np.asarray(actual, float)
    f = np.clip(np.asarray(forecast, float), 0, None)
    return np.log((a + 1) / (f + 1))


def conformal_bounds(
    errors: np.ndarray, level: int, sides: str = SIGNED
) -> tuple[float, float] | None:
    """Two-sided split-conformal quantiles of `errors` at `level` %. `signed`: the
    floor((n + 1) a/2)-th and ceil((n + 1)(1 - a/2))-th smallest (a = 1 - level / 100), never
    excluding a zero error. `symmetric`: -q and q, q the ceil((n + 1)(1 - a))-th smallest
    |error|. None when there are too few errors for those ranks to exist."""
    e = np.sort(np.asarray(errors, float)[np.isfinite(errors)])
    if sides == SYMMETRIC:
        size = np.sort(np.abs(e))
        rank = math.ceil((len(size) + 1) * level / 100)
        if rank > len(size):
            return None
        return -float(size[rank - 1]), float(size[rank - 1])
    n = len(e)
    tail = (1 - level / 100) / 2
    low_rank, high_rank = math.floor((n + 1) * tail), math.ceil((n + 1) * (1 - tail))
    if low_rank < 1 or high_rank > n:
        return None
    return min(float(e[low_rank - 1]), 0.0), max(float(e[high_rank - 1]), 0.0)


def pool_quantiles(
    years_ahead: np.ndarray,
    errors: np.ndarray,
    levels: tuple[int, ...],
    kind: str = ROLLING_YEAR,
    min_errors: int = MIN_ERRORS,
    regime: str = ALL_ERRORS,
    sides: str = SIGNED,
) -> tuple[PoolRow, ...]:
    """Per distinct years ahead with at least `min_errors` finite errors and per level: the
    split-conformal bounds (`conformal_bounds`, signed or symmetric). Made monotone in the
    years ahead by isotonic regression (the interval never narrows further ahead)."""
    years = np.round(np.asarray(years_ahead, float), 4)
    errors = np.asarray(errors, float)
    keep = np.isfinite(errors) & np.isfinite(years)
    years, errors = years[keep], errors[keep]
    rows = []
    for lv in levels:
        found = []
        for y in np.unique(years):
            at = errors[years == y]
            bounds = conformal_bounds(at, lv, sides) if len(at) >= min_errors else None
            if bounds is not None:
                found.append((float(y), *bounds, len(at)))
        if not found:
            continue
        steps, lo, hi, n = (np.array(v) for v in zip(*found, strict=True))
        if len(steps) > 1:
            hi = IsotonicRegression(increasing=True).fit_transform(steps, hi)
            lo = IsotonicRegression(increasing=False).fit_transform(steps, lo)
        rows += [
            PoolRow(float(y), int(lv), float(a), float(b), int(c), kind, regime, sides)
            for y, a, b, c in zip(steps, lo, hi, n, strict=True)
        ]
    return tuple(rows)


def _growth(years: np.ndarray, growth: str) -> np.ndarray:
    return np.sqrt(years) if growth == "sqrt" else years


def pool_log_bounds(
    years_ahead: np.ndarray,
    pool: tuple[PoolRow, ...],
    level: int,
    kind: str = ROLLING_YEAR,
    growth: str = "linear",
) -> tuple[np.ndarray, np.ndarray] | None:
    """The pool's log-ratio bounds at `years_ahead`: interpolated linearly in the years ahead
    (0 at 0); beyond the pool's furthest horizon H the quantile at H x g(y) / g(H), g = y
    ("linear") or sqrt y ("sqrt"). None when the pool has no row of that kind and level."""
    rows = sorted(
        (r for r in pool if r.level == level and r.kind == kind), key=lambda r: r.years_ahead
    )
    if not rows:
        return None
    ys = np.array([0.0] + [r.years_ahead for r in rows])
    lo_q = np.array([0.0] + [r.lo for r in rows])
    hi_q = np.array([0.0] + [r.hi for r in rows])
    y = np.asarray(years_ahead, float)
    last = ys[-1]
    stretch = np.where(y > last, _growth(np.maximum(y, last), growth) / _growth(last, growth), 1.0)
    return (
        np.interp(np.minimum(y, last), ys, lo_q) * stretch,
        np.interp(np.minimum(y, last), ys, hi_q) * stretch,
    )


def pool_bounds(
    forecast: np.ndarray,
    years_ahead: np.ndarray,
    pool: tuple[PoolRow, ...],
    level: int,
    growth: str = "linear",
    kind: str = ROLLING_YEAR,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The pooled interval of `forecast` (counts) at `years_ahead` (same shape): (forecast + 1)
    x exp(the log bounds of `pool_log_bounds`) - 1, the lower bound at least 0."""
    logs = pool_log_bounds(years_ahead, pool, level, kind, growth)
    if logs is None:
        return None
    base = np.clip(np.asarray(forecast, float), 0, None) + 1
    return np.clip(base * np.exp(logs[0]) - 1, 0, None), base * np.exp(logs[1]) - 1


def pooled_interval(
    forecast: np.ndarray,
    bounds: dict[int, tuple[np.ndarray, np.ndarray]],
    years_ahead: np.ndarray,
    pool: tuple[PoolRow, ...],
    growth: str = "linear",
    kind: str = ROLLING_YEAR,
    union: bool = True,
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Each level's interval from the pool: with `union`, the union of the series' own
    interval (`bounds`: level -> (lo, hi)) and the pooled one (unions of nested intervals
    stay nested); without, the pooled one alone. A level the pool has no row for keeps its
    own interval."""
    out = {}
    for level, (lo, hi) in bounds.items():
        pooled = pool_bounds(forecast, years_ahead, pool, level, growth, kind)
        if pooled is None:
            out[level] = (np.asarray(lo, float), np.asarray(hi, float))
        elif union:
            out[level] = (np.minimum(lo, pooled[0]), np.maximum(hi, pooled[1]))
        else:
            out[level] = pooled
    # Keep the levels nested (each level's quantiles are estimated separately).
    levels = sorted(out)
    for inner, outer in zip(levels, levels[1:], strict=False):
        out[outer] = (
            np.minimum(out[outer][0], out[inner][0]),
            np.maximum(out[outer][1], out[inner][1]),
        )
    return out


def pool_to_json(pool: tuple[PoolRow, ...], source: str) -> dict:
    return {"source": source, "rows": [r.__dict__ for r in pool]}


def read_error_pool(
    path: Path, regime: str = ALL_ERRORS, sides: str = SIGNED
) -> tuple[PoolRow, ...]:
    """The rows of `regime` and `sides` of the pooled error table written by the forecast
    back-test (empty when the file is missing: the intervals are then the series' own, and
    say so in `interval_method`). Rows without a regime were built from every error (`all`),
    rows without sides from signed quantiles."""
    path = Path(path)
    if not path.exists():
        return ()
    payload = json.loads(path.read_text())
    rows = (
        PoolRow(
            float(r["years_ahead"]),
            int(r["level"]),
            float(r["lo"]),
            float(r["hi"]),
            int(r["n"]),
            str(r.get("kind", ROLLING_YEAR)),
            str(r.get("regime", ALL_ERRORS)),
            str(r.get("sides", SIGNED)),
        )
        for r in payload.get("rows", [])
    )
    return tuple(r for r in rows if r.regime == regime and r.sides == sides)


def pool_by_month(
    pool: tuple[PoolRow, ...],
    months: int,
    levels: tuple[int, ...],
    kind: str = ROLLING_YEAR,
    growth: str = "linear",
) -> list[dict]:
    """The pool's log-ratio bounds for a total ending 1..`months` months after the last
    recorded month (the FMS builds each financial year's range from the row of the months
    between the last recorded month and the year's end): rows of kind, regime, months_ahead,
    level, lower_log_ratio, upper_log_ratio, errors (those behind the nearest row). Empty
    without a pool of that kind."""
    ahead = np.arange(1, months + 1)
    rows = []
    for level in levels:
        logs = pool_log_bounds(ahead / 12, pool, level, kind, growth)
        if logs is None:
            continue
        behind = sorted(
            (r for r in pool if r.level == level and r.kind == kind), key=lambda r: r.years_ahead
        )
        years = np.array([r.years_ahead for r in behind])
        for m, lo, hi in zip(ahead, *logs, strict=True):
            nearest = behind[int(np.argmin(np.abs(years - m / 12)))]
            rows.append(
                {
                    "kind": kind,
                    "regime": nearest.regime,
                    "months_ahead": int(m),
                    "level": int(level),
                    "lower_log_ratio": float(lo),
                    "upper_log_ratio": float(hi),
                    "errors": nearest.n,
                }
            )
    return rows
