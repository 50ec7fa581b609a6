"""Demand forecasts with statsforecast: candidate models, rolling-origin CV on MASE, intervals.

Per series: apply the configured structural break (fit after it, or shift the earlier level),
then, per group of series of one frequency:
- fit every model needed per series (statsforecast, series split over 2 processes) and
  evaluate it over rolling origins inside the training data. Long series (>= `refit_below`
  periods) are fitted once, before the first origin, and the fitted models are rolled forward
  with their parameters fixed (`model.forward`) to each origin: one model search for the CV
  instead of one per origin. The forecast itself is fitted again on all the data
  (`refit_final`): rolled forward, a fit made on the first 70% of the data carried a trend
  fitted to a peak on after it. Short series are cheap to fit and are refitted at each origin
  and on all the data;
- keep per series the candidate with the lowest mean CV MASE (see `choose`);
- calibrate the intervals: each model's 80/95% half-widths are multiplied by split-conformal
  factors (per step ahead) estimated from the same CV errors, pooled over the group's series,
  so the CV actuals are covered at the nominal rate (`interval_scale`).

Ensemble: the mean of the `ensemble_members`' forecasts; its interval bounds are the means of
the members' bounds at each level (quantile averaging / "Vincentisation"), which is simple,
keeps the intervals nested and, unlike averaging variances, never assumes independent errors.
It is calibrated like any other candidate. Only the baselines, the candidates and the
members are fitted (`fitted_models`).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import utilsforecast.processing as ufp
from sklearn.isotonic import IsotonicRegression
from statsforecast import StatsForecast
from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, Naive, SeasonalNaive

from pipelines import fork_server
from pipelines.forecasting.error_pool import (
    PoolRow,
    pool_kind,
    pooled_interval,
    read_error_pool,
)
from pipelines.paths import PROJECT_ROOT
from pipelines.settings import ForecastSettings

BASE_MODELS = ("naive", "seasonal_naive", "ets", "theta", "arima", "pooled_drift")
# Not a statsforecast model: computed across the group's series (see `pooled_drift`).
CROSS_SERIES_MODELS = ("pooled_drift",)
ALL_MODELS = (*BASE_MODELS, "ensemble")
# Always fitted: naive is the baseline every MASE is shown beside; seasonal naive costs nothing.
BASELINES = ("naive", "seasonal_naive")
# A CV that cannot calibrate (huge errors against near-zero model widths) is capped here.
MAX_INTERVAL_SCALE = 20.0
# Per-step interval factors need this many CV scores per step (series x origins); fewer give
# too noisy a quantile, and one factor pooled over all steps is used instead.
MIN_SCORES_PER_STEP = 20


@dataclass(frozen=True)
class Frequency:
    name: str  # month / quarter / year
    alias: str  # pandas offset alias for statsforecast
    periods_per_year: int


@dataclass(frozen=True)
class ForecastParams:
    models: tuple[str, ...] = ("ensemble",)
    # The ensemble is the mean of these base models' forecasts and bounds.
    ensemble_members: tuple[str, ...] = ("arima", "pooled_drift")
    # Base models fitted beside the candidates but never chosen (back-tests compare them).
    extra_models: tuple[str, ...] = ()
    cv_windows: int = 3
    levels: tuple[int, ...] = (80, 95)
    break_dates: tuple[str, ...] = ()
    break_method: str = "refit"
    horizon_years: int = 4
    # Periods between CV origins (None: a quarter of the CV horizon, at least 1).
    cv_step: int | None = None
    # Series shorter than this (periods) are refitted at every CV origin and for the
    # forecast; longer ones are fitted once and rolled forward (see cv_plan).
    refit_below: int = 48
    # Rescale each model's intervals so the rolling-origin CV errors are covered at the
    # nominal rate (False: the models' own intervals).
    calibrate: bool = True
    # How calibrated intervals are made (see `pooled_error_intervals`):
    # "pooled_errors": per step ahead, quantiles of the scale-free CV errors pooled over the
    # group's series and origins (conformal_scale when a step has < 20 errors);
    # "conformal_scale": the models' own half-widths x split-conformal factors per step.
    interval_method: str = "conformal_scale"
    # Beyond the CV horizon h the last step's quantiles grow as g(k)/g(h): "linear" (k) or
    # "sqrt" (sqrt k).
    interval_growth: str = "linear"
    # Series with fewer periods than this are not forecast (listed as "not enough history").
    min_periods: int = 6
    # Pooled scale-free errors by years ahead (pipelines/forecasting/error_pool.py; read from
    # `error_pool_file` at the edge). Empty: the series' own calibrated intervals only.
    error_pool: tuple[PoolRow, ...] = ()
    # Annual series: "pool" = the pooled interval alone, "union" = its union with the
    # series' own interval. Quarterly and monthly series always take the union (see
    # `pooled_union`).
    error_pool_composition: str = "pool"
    # The errors the pool was built from (`error_pool.REGIMES`) and the date from which
    # recording practice changed (the back-test builds the pool of this regime).
    error_pool_regime: str = "stable_recording"
    recording_change_start: str = "2014-04-01"
    # Whether the pool's quantiles are of |error| on both sides or of each tail on its side
    # (`error_pool.SIDES`; the back-test builds the pool of these sides).
    error_pool_sides: str = "symmetric"
    # pooled_drift: the annual-total growth over this many years, pooled over the series.
    pooled_growth_years: int = 2
    # Whether ARIMA may carry a drift (a linear trend) of its own.
    arima_drift: bool = True
    # Long series (not refitted at each CV origin): whether the final forecast is fitted
    # again on all the data (True) or rolls forward the fit made before the first CV origin.
    refit_final: bool = True

    @classmethod
    def from_settings(cls, forecasting: ForecastSettings | None = None) -> ForecastParams:
        """From the run's forecasting settings (None: the defaults, as settings.yaml)."""
        s = forecasting or ForecastSettings()
        return cls(
            models=tuple(s.models),
            ensemble_members=tuple(s.ensemble_members),
            cv_windows=s.cv_windows,
            levels=tuple(s.levels),
            break_dates=tuple(s.break_dates),
            break_method=s.break_method,
            horizon_years=s.horizon_years,
            cv_step=s.cv_step,
            refit_below=s.refit_below,
            calibrate=s.calibrate,
            interval_method=s.interval_method,
            interval_growth=s.interval_growth,
            min_periods=s.min_periods,
            pooled_growth_years=s.pooled_growth_years,
            arima_drift=s.arima_drift,
            refit_final=s.refit_final,
            error_pool=read_error_pool(
                PROJECT_ROOT / s.error_pool_file, s.error_pool_regime, s.error_pool_sides
            )
            if s.error_pool_file
            else (),
            error_pool_composition=s.error_pool_composition,
            error_pool_regime=s.error_pool_regime,
            recording_change_start=s.recording_change_start,
            error_pool_sides=s.error_pool_sides,
        )


_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def too_short(n_periods: int, min_periods: int) -> str:
    """The reason a series is not forecast ('' when it is long enough)."""
    if n_periods >= min_periods:
        return ""
    return f"not enough history ({n_periods} periods; at least {min_periods} needed)"


def _period_name(dates: pd.Series) -> str:
    """month / quarter / year where the spacing says so, else ''."""
    try:
        return infer_frequency(dates).name
    except ValueError:
        return ""


def infer_frequency(dates: pd.Series) -> Frequency:
    """Monthly, quarterly or annual from the spacing of period starts (any start month)."""
    d = pd.to_datetime(pd.Series(dates)).sort_values().drop_duplicates()
    if len(d) < 2:
        raise ValueError("a series needs at least two periods to infer its frequency")
    months = (d.dt.year * 12 + d.dt.month).diff().dropna()
    step = int(months.mode().iloc[0])
    first = int(d.iloc[0].month)
    if step == 1:
        return Frequency("month", "MS", 12)
    if step == 3:
        return Frequency("quarter", f"QS-{_MONTHS[(first - 1) % 3]}", 4)
    if step == 12:
        return Frequency("year", f"YS-{_MONTHS[first - 1]}", 1)
    raise ValueError(f"cannot infer a monthly, quarterly or annual frequency (step {step} months)")


def apply_break(
    frame: pd.DataFrame, break_dates: tuple[str, ...], method: str, season: int
) -> tuple[pd.DataFrame, str]:
    """frame: ds, y for one series (sorted). Returns (frame to fit, description of what was
    applied, '' when no break falls inside the series)."""
    inside = [
        pd.Timestamp(b)
        for b in break_dates
        if frame["ds"].iloc[0] < pd.Timestamp(b) <= frame["ds"].iloc[-1]
    ]
    if not inside:
        return frame, ""
    brk = max(inside)
    after = frame[frame["ds"] >= brk]
    before = frame[frame["ds"] < brk]
    min_fit = max(2 * season + 2, 6)
    if method == "refit" and len(after) >= min_fit:
        return after.reset_index(drop=True), f"{brk.date()} refit after break"
    # Level shift: scale the pre-break history to the post-break level, comparing one season
    # (at least 3 periods) either side so seasonality does not masquerade as a shift.
    span = max(season, 3)
    pre, post = before["y"].tail(span).mean(), after["y"].head(span).mean()
    if len(after) == 0 or not pre or not np.isfinite(pre) or not np.isfinite(post):
        return frame, ""
    shifted = frame.copy()
    shifted.loc[shifted["ds"] < brk, "y"] = before["y"].to_numpy() * (post / pre)
    label = "level shift" if method == "level_shift" else "level shift (too few periods to refit)"
    return shifted, f"{brk.date()} {label} x{post / pre:.2f}"


def fitted_models(params: ForecastParams) -> tuple[str, ...]:
    """The base models a run fits: the baselines, the configured candidates and the
    ensemble's members (an unused ARIMA search would cost most of the run time)."""
    wanted = set(BASELINES) | set(params.models) | set(params.extra_models)
    if "ensemble" in params.models:
        wanted |= set(params.ensemble_members)
    return tuple(m for m in BASE_MODELS if m in wanted)


def _base_models(season: int, names: tuple[str, ...], arima_drift: bool = True) -> list:
    models = [
        Naive(alias="naive"),
        SeasonalNaive(season_length=season, alias="seasonal_naive"),
        AutoETS(season_length=season, alias="ets"),
        AutoTheta(season_length=season, alias="theta"),
        # A bounded, approximate stepwise search. The search (BFGS with numerical gradients,
        # pure Python) dominates the run time: the default costs ~0.7 s per monthly series
        # here; p,q <= 2 with 20 models ~0.23 s, with 10 models ~0.1 s (100 series of 48
        # months: 23 s vs 10 s). The 10-model search did not forecast worse in the back-test
        # (ARIMA 1-year MASE, HO annual 4.62 -> 4.59, HO rolling quarterly 7.24 -> 7.03).
        AutoARIMA(
            season_length=season,
            max_p=2,
            max_q=2,
            max_P=1,
            max_Q=1,
            max_order=3,
            nmodels=10,
            approximation=True,
            allowdrift=arima_drift,
            alias="arima",
        ),
    ]
    return [m for m in models if m.alias in names]


def pooled_growth(histories: list[np.ndarray], periods_per_year: int, years: int) -> float:
    """Log growth per period shared by the series forecast together: per series, the log
    ratio of its latest year's total to the total `years` earlier (+1, so zeros count),
    spread over the periods between; the median over the series. A change every series
    shows (recording practice, a new offence) is estimated from all of them instead of from
    one short, noisy history; series too short for the window (or, not being counts, with a
    total at or below -1) are left out (none left: 0)."""
    lag = years * periods_per_year
    rates = []
    for y in histories:
        if len(y) < periods_per_year + lag:
            continue
        now, then = y[-periods_per_year:].sum() + 1, y[-periods_per_year - lag : -lag].sum() + 1
        if now > 0 and then > 0:  # counts always; any other series only where a ratio exists
            rates.append(math.log(now / then) / lag)
    return float(np.median(rates)) if rates else 0.0


def pooled_drift(
    base_cv: np.ndarray,
    base_final: np.ndarray,
    histories: list[np.ndarray],
    cv_ends: list[list[int]],
    periods_per_year: int,
    years: int,
    season: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """The seasonal-naive forecasts (and bounds) grown by the pooled growth (`pooled_growth`)
    known at each origin: cross-learning across the series for histories too short to
    estimate a trend of their own. Step k repeats the period s x ceil(k / s) earlier (s =
    `season`; 1: the last value), so it is grown over that many periods. `cv_ends[i][w]`:
    periods of series i before CV origin w. Arrays as `_fit_and_roll`: CV (series, windows, h,
    columns), final (series, horizon, columns)."""

    def gaps(h: int) -> np.ndarray:
        steps = np.arange(1, h + 1)
        return season * np.ceil(steps / season)

    cv = base_cv.copy()
    for w in range(base_cv.shape[1]):
        g = pooled_growth(
            [y[: ends[w]] for y, ends in zip(histories, cv_ends, strict=True)],
            periods_per_year,
            years,
        )
        cv[:, w] *= np.exp(g * gaps(cv.shape[2]))[None, :, None]
    g = pooled_growth(histories, periods_per_year, years)
    final = base_final * np.exp(g * gaps(base_final.shape[1]))[None, :, None]
    return cv, final


def not_below_zero(values: np.ndarray) -> np.ndarray:
    """Forecasts or bounds of counts floored at zero (NaN stays NaN)."""
    return np.where(np.asarray(values, float) < 0, 0.0, values)


def _columns(model: str, levels: tuple[int, ...]) -> list[str]:
    return [model] + [f"{model}-{side}-{lv}" for lv in levels for side in ("lo", "hi")]


def _season_for(n: int, freq: Frequency) -> int:
    """Seasonal models need two full seasons plus a little; shorter series go non-seasonal."""
    s = freq.periods_per_year
    return s if s > 1 and n >= 2 * s + 2 else 1


# Model searches (series x fits per series) from which the work is split over processes.
MIN_FITS_TO_SPLIT = 4


def _n_jobs(n_series: int, fits_per_series: int) -> int:
    """Processes for the fits: two when there are at least two series and MIN_FITS_TO_SPLIT
    model searches. A worker from the fork server (pipelines.fork_server) starts in ~0.05 s
    (the server has imported this module) while one ARIMA search costs 0.1-0.5 s, so even a
    force's six series pay off: its quarterly series are refitted at every CV origin (24
    searches), and one process left half the CPUs idle."""
    if n_series < 2 or n_series * fits_per_series < MIN_FITS_TO_SPLIT:
        return 1
    return min(2, os.cpu_count() or 1)


def _quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore")
    logging.getLogger("statsforecast").setLevel(logging.ERROR)
    return ctx


@dataclass(frozen=True)
class CVPlan:
    """Rolling origins inside the training data: `windows` origins `step` periods apart,
    each forecasting `h` periods (`test_size` periods from the first origin to the end).
    refit: fit the models again at every origin and on all the data for the forecast;
    otherwise fit once, before the first origin, and roll the fitted models forward."""

    h: int
    step: int
    windows: int
    refit: bool

    @property
    def test_size(self) -> int:
        return self.h + (self.windows - 1) * self.step if self.windows else 0

    def ends(self, n_periods: int) -> list[int]:
        """Periods before each origin, for a series of `n_periods`."""
        return [n_periods - self.test_size + w * self.step for w in range(self.windows)]

    def held_out(self) -> list[int]:
        """Periods held out at each origin."""
        return [self.test_size - w * self.step for w in range(self.windows)]


def cv_plan(
    n_min: int, season: int, freq: Frequency, horizon: int, params: ForecastParams
) -> CVPlan:
    """One year ahead (at least 2 periods), origins a quarter of that apart. Series of at
    least `refit_below` periods are fitted once for the CV and rolled forward to each origin
    (the fit costs ~10x the roll-forward), and that fit keeps at least half the shortest
    series (the final forecast is fitted on all the data, `refit_final`, or rolls the same
    models forward). Shorter series are cheap to refit and lose too much by being fitted on
    half their length."""
    h = min(horizon, max(freq.periods_per_year, 2))
    step = params.cv_step or max(1, h // 4)
    refit = n_min < params.refit_below
    min_fit = 2 * season + 2 if season > 1 else 6
    if not refit:
        min_fit = max(min_fit, math.ceil(n_min / 2))
    room = n_min - min_fit - h
    windows = 0 if room < 0 else min(params.cv_windows, room // step + 1)
    return CVPlan(h=h, step=step, windows=windows, refit=refit)


def _forward(model, y: np.ndarray, h: int, levels: list[int]) -> dict[str, np.ndarray]:
    """The fitted model (parameters fixed) applied to `y`, forecasting h periods."""
    try:
        out = model.forward(y=y, h=h, level=levels)
        if np.all(np.isfinite(out["mean"])):
            return out
    except Exception:  # noqa: BLE001 - any failing model falls back to naive, as statsforecast does
        pass
    return Naive().forecast(y=y, h=h, level=levels)


def _stack(results: list[dict[str, np.ndarray]], levels: tuple[int, ...]) -> np.ndarray:
    """[series][...] forward outputs -> array (series, ..., 1 + 2 * levels): mean, lo, hi."""
    keys = ["mean"] + [f"{side}-{lv}" for lv in levels for side in ("lo", "hi")]
    return np.stack([np.stack([r[k] for k in keys], axis=-1) for r in results])


def _fit_roll_chunk(
    df: pd.DataFrame,
    alias: str,
    season: int,
    plan: CVPlan,
    horizon: int,
    levels: tuple[int, ...],
    names: tuple[str, ...],
    arima_drift: bool = True,
    refit_final: bool = True,
) -> tuple[list[str], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """One worker's share. Fit the base models `names` per series with statsforecast: once, on the
    data before the first CV origin (and, `refit_final`, again on all the data for the
    forecast), or (plan.refit) at each origin and on all the data. Then apply the fitted
    models, parameters fixed (`forward`), to the data before each origin and to all the data.
    Returns (ids, CV forecasts per model with shape (series, windows, h, mean/lo/hi columns),
    final forecasts (series, horizon, columns))."""
    from_end = df.groupby("unique_id").cumcount(ascending=False)
    held_out = plan.held_out()
    # Periods held out when fitting the models used at each origin and for the forecast.
    if plan.refit:
        fit_at = [*held_out, 0]
    else:
        fit_at = [plan.test_size] * plan.windows + [0 if refit_final else plan.test_size]
    ctx = _quiet()
    try:
        fitted = {}
        for d in sorted(set(fit_at)):
            sf = StatsForecast(
                models=_base_models(season, names, arima_drift),
                freq=alias,
                n_jobs=1,
                fallback_model=Naive(),
            )
            fitted[d] = sf.fit(df=df[from_end >= d]).fitted_
        ids = [str(u) for u in sf.uids]
        by_id = {str(k): g.to_numpy(float) for k, g in df.groupby("unique_id")["y"]}
        names = tuple(m.alias for m in sf.models)
        cv: dict[str, list] = {m: [] for m in names}
        final: dict[str, list] = {m: [] for m in names}
        for i, uid in enumerate(ids):
            y = by_id[uid]
            for j, name in enumerate(names):
                cv[name] += [
                    _forward(fitted[d][i, j], y[: len(y) - k], plan.h, list(levels))
                    for d, k in zip(fit_at, held_out, strict=False)
                ]
                final[name].append(_forward(fitted[fit_at[-1]][i, j], y, horizon, list(levels)))
    finally:
        ctx.__exit__(None, None, None)
    n_cols = 1 + 2 * len(levels)
    cv_arr = {
        m: _stack(v, levels).reshape(len(ids), plan.windows, plan.h, n_cols)
        if v
        else np.empty((len(ids), 0, plan.h, n_cols))
        for m, v in cv.items()
    }
    return ids, cv_arr, {m: _stack(v, levels) for m, v in final.items()}


def _fit_and_roll(
    df: pd.DataFrame,
    freq: Frequency,
    season: int,
    plan: CVPlan,
    horizon: int,
    params: ForecastParams,
) -> tuple[list[str], dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Fit and roll forward (`_fit_roll_chunk`), the series split between processes.
    Returns (ids, CV forecasts and final forecasts per model incl. the ensemble, CV actuals
    (series, windows, h), MASE scales (series, windows))."""
    df = df.sort_values(["unique_id", "ds"], ignore_index=True)
    uids = df["unique_id"].unique()
    jobs = _n_jobs(len(uids), plan.windows + 1 if plan.refit else 1 + params.refit_final)
    fitted = tuple(m for m in fitted_models(params) if m not in CROSS_SERIES_MODELS)
    args = (
        freq.alias,
        season,
        plan,
        horizon,
        tuple(params.levels),
        fitted,
        params.arima_drift,
        params.refit_final,
    )
    if jobs == 1:
        parts = [_fit_roll_chunk(df, *args)]
    else:
        # The fit and the roll-forward both run in the workers (statsforecast's own n_jobs
        # would leave the roll-forward in one process). One series per task, handed to
        # whichever worker is free: an ARIMA search costs 0.02-0.6 s by series, so halves
        # split in advance left one worker idle for a third of the step (force preset's
        # quarterly series: 2.4 s against 3.6 s of CPU).
        chunks = [df[df["unique_id"] == uid] for uid in uids]
        with fork_server.pool(jobs, [__name__]) as pool:
            parts = list(pool.map(_fit_roll_chunk, chunks, *[[a] * len(chunks) for a in args]))
    ids = [u for p in parts for u in p[0]]
    cv = {m: np.concatenate([p[1][m] for p in parts]) for m in parts[0][1]}
    final = {m: np.concatenate([p[2][m] for p in parts]) for m in parts[0][2]}
    by_id = {str(k): g.to_numpy(float) for k, g in df.groupby("unique_id")["y"]}
    histories = [by_id[uid] for uid in ids]
    if "pooled_drift" in fitted_models(params):
        cv["pooled_drift"], final["pooled_drift"] = pooled_drift(
            cv["seasonal_naive"],
            final["seasonal_naive"],
            histories,
            [plan.ends(len(y)) for y in histories],
            freq.periods_per_year,
            params.pooled_growth_years,
            season,
        )
    if "ensemble" in params.models:
        for arrays in (cv, final):
            # Ensemble: mean of the members' forecasts and bounds (quantile averaging), each
            # floored at zero first: a count cannot be negative, so a member forecasting
            # below zero is wrong by at least that much and would drag the mean down with it.
            arrays["ensemble"] = np.mean(
                [not_below_zero(arrays[m]) for m in params.ensemble_members], axis=0
            )
    actual = np.full((len(ids), plan.windows, plan.h), np.nan)
    scale = np.full((len(ids), plan.windows), np.nan)
    for i, y in enumerate(histories):
        for w, c in enumerate(plan.ends(len(y))):
            actual[i, w] = y[c : c + plan.h]
            # MASE scale: in-sample seasonal naive MAE of the data before the origin.
            s = season if c > season else 1
            denom = np.mean(np.abs(y[s:c] - y[: c - s]))
            scale[i, w] = denom if denom > 0 else np.nan
    return ids, cv, final, actual, scale


def _conformal_quantile(score: np.ndarray, q: float) -> float | None:
    """Split-conformal quantile: the ceil((n + 1) q)-th smallest score; None when there are
    too few scores for that rank to exist."""
    score = np.sort(score[~np.isnan(score)])
    rank = math.ceil((len(score) + 1) * q)
    if len(score) < 5 or rank > len(score):
        return None
    return float(min(score[rank - 1], MAX_INTERVAL_SCALE))


def interval_scale(
    cv: np.ndarray, actual: np.ndarray, levels: tuple[int, ...]
) -> dict[int, np.ndarray]:
    """Per level, the factors (one per CV step ahead) by which the model's interval
    half-widths must be multiplied for the rolling-origin CV actuals to fall inside at the
    nominal rate: split-conformal quantiles of the error measured in half-widths (on the
    side the actual fell), pooled over the group's series and origins. Per step when there
    are at least MIN_SCORES_PER_STEP scores per step (else one factor pooled over all
    steps), made non-decreasing with the step: level shifts make errors grow faster than
    the models' own intervals, and at least 1 (calibration only widens). Keeps each
    model's own asymmetry; no CV gives 1 (the model's own interval)."""
    out = {}
    mean = cv[..., 0]
    err = actual - mean
    for i, lv in enumerate(levels):
        lo, hi = cv[..., 1 + 2 * i], cv[..., 2 + 2 * i]
        half = np.where(err >= 0, hi - mean, mean - lo)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(half > 0, np.abs(err) / half, np.where(err == 0, 0.0, np.inf))
        score = np.where(np.isfinite(err), score, np.nan)
        pooled = _conformal_quantile(score.ravel(), lv / 100)
        if pooled is None:
            # Too few scores for the rank: the largest seen, or the model's own interval.
            seen = score[~np.isnan(score)]
            pooled = float(min(seen.max(), MAX_INTERVAL_SCALE)) if len(seen) >= 5 else 1.0
        if not cv.shape[2]:
            out[lv] = np.ones(1)
            continue
        per_step = np.full(cv.shape[2], pooled)
        if np.sum(~np.isnan(score[..., 0])) >= MIN_SCORES_PER_STEP:
            for k in range(cv.shape[2]):
                f = _conformal_quantile(score[..., k].ravel(), lv / 100)
                per_step[k] = pooled if f is None else f
        # Non-decreasing in the step by isotonic regression (a running maximum of noisy
        # quantiles would be biased upwards). Never below 1: a few CV origins can show that
        # a model's interval is too narrow (level shifts), not reliably that it is too wide.
        smooth = IsotonicRegression().fit_transform(np.arange(len(per_step)), per_step)
        out[lv] = np.maximum(smooth, 1.0)
    return out


def _growth(steps: np.ndarray, growth: str) -> np.ndarray:
    k = np.asarray(steps, float)
    return np.sqrt(k) if growth == "sqrt" else k


def pooled_error_quantiles(
    cv_mean: np.ndarray,
    actual: np.ndarray,
    scale: np.ndarray,
    levels: tuple[int, ...],
    min_scores: int = MIN_SCORES_PER_STEP,
) -> dict[int, tuple[np.ndarray, np.ndarray]] | None:
    """Signed error quantiles per step ahead in units of each series' scale: the errors of
    every rolling origin (series, windows, h) divided by the series' MASE scale at the
    origin (in-sample seasonal-naive MAE), pooled over the group's series and origins.
    Scale-free, so series of any size share one pool. Per level, (lower, upper) arrays of
    length h, made monotone in the step by isotonic regression (the interval never narrows
    further ahead). None when a step has fewer than `min_scores` errors (the caller then
    uses `interval_scale`). Outer order statistics ('lower' / 'higher')."""
    if actual.ndim != 3 or not actual.shape[-1]:
        return None
    score = (actual - cv_mean) / scale[..., None]
    h = score.shape[-1]
    per_step = [score[..., k][np.isfinite(score[..., k])] for k in range(h)]
    if min(len(v) for v in per_step) < min_scores:
        return None
    steps = np.arange(h)
    out = {}
    for lv in levels:
        tail = (1 - lv / 100) / 2
        lo = np.array([np.quantile(v, tail, method="lower") for v in per_step])
        hi = np.array([np.quantile(v, 1 - tail, method="higher") for v in per_step])
        hi = IsotonicRegression(increasing=True).fit_transform(steps, hi)
        lo = IsotonicRegression(increasing=False).fit_transform(steps, lo)
        out[lv] = (lo, hi)
    return out


def pooled_error_intervals(
    final: np.ndarray,
    quantiles: dict[int, tuple[np.ndarray, np.ndarray]],
    scale: np.ndarray,
    levels: tuple[int, ...],
    growth: str,
) -> np.ndarray:
    """final (series, horizon, mean/lo/hi...): bounds = mean + scale x quantile of the step;
    steps beyond the CV horizon h take the last step's quantile x g(k) / g(h), g(k) = k
    ("linear") or sqrt k ("sqrt"). The forecast always lies inside its interval."""
    out = final.copy()
    n = final.shape[-2]
    mean = final[..., 0]
    for i, lv in enumerate(levels):
        lo, hi = (np.asarray(q, float) for q in quantiles[lv])
        h = len(hi)
        k = np.arange(1, n + 1)
        stretch = np.where(k > h, _growth(k, growth) / _growth(np.array([h]), growth), 1.0)
        at = np.minimum(k, h) - 1
        out[..., 1 + 2 * i] = mean + scale[:, None] * np.minimum(lo[at] * stretch, 0.0)
        out[..., 2 + 2 * i] = mean + scale[:, None] * np.maximum(hi[at] * stretch, 0.0)
    return out


def _rescale(
    arr: np.ndarray, factors: dict[int, np.ndarray], levels: tuple[int, ...]
) -> np.ndarray:
    """arr (..., horizon, mean/lo/hi): half-widths times the factor of each step ahead
    (steps beyond the CV horizon keep the last factor)."""
    out = arr.copy()
    mean = arr[..., 0]
    n = arr.shape[-2]
    for i, lv in enumerate(levels):
        f = factors.get(lv, np.ones(1))
        k = np.concatenate([f, np.repeat(f[-1], max(0, n - len(f)))])[:n]
        out[..., 1 + 2 * i] = mean - k * (mean - arr[..., 1 + 2 * i])
        out[..., 2 + 2 * i] = mean + k * (arr[..., 2 + 2 * i] - mean)
    # Keep the intervals nested (each level's factor is estimated separately).
    order = sorted(range(len(levels)), key=lambda i: levels[i])
    for inner, outer in itertools.pairwise(order):
        out[..., 1 + 2 * outer] = np.minimum(out[..., 1 + 2 * outer], out[..., 1 + 2 * inner])
        out[..., 2 + 2 * outer] = np.maximum(out[..., 2 + 2 * outer], out[..., 2 + 2 * inner])
    return out


def forecast_group(
    df: pd.DataFrame, freq: Frequency, horizon: int, params: ForecastParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """df: unique_id, ds, y (one frequency). Returns (forecasts of every candidate in wide
    statsforecast form, with calibrated intervals and the models' own ones as
    `{model}-native-lo-80` ..., and CV scores: unique_id, model, mase, windows,
    season_length, scale80, scale95)."""
    n_min = int(df.groupby("unique_id").size().min())
    season = _season_for(n_min, freq)
    plan = cv_plan(n_min, season, freq, horizon, params)
    ids, cv, final, actual, scale = _fit_and_roll(df, freq, season, plan, horizon, params)
    last = df.groupby("unique_id")["ds"].max().reindex(ids)
    starts = ufp.offset_times(pd.Series(last.to_numpy()), freq=freq.alias, n=1)
    wide = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, horizon),
            "ds": ufp.time_ranges(starts, freq=freq.alias, periods=horizon).to_numpy(),
        }
    )
    scores, factors = [], {}
    pooled = params.calibrate and params.interval_method == "pooled_errors"
    full_scale = _full_scale(df, ids, season) if pooled else None
    method_used = {}
    for model in cv:
        f = cv[model]
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows -> NaN
            per_window = np.nanmean(np.abs(actual - f[..., 0]), axis=2) / scale
            mase_ = np.nanmean(per_window, axis=1) if plan.windows else np.full(len(ids), np.nan)
        factors[model] = (
            interval_scale(f, actual, params.levels)
            if params.calibrate
            else {lv: np.ones(1) for lv in params.levels}
        )
        scores.append(pd.DataFrame({"unique_id": ids, "model": model, "mase": mase_}))
        native = final[model].reshape(len(ids) * horizon, -1)
        quantiles = (
            pooled_error_quantiles(f[..., 0], actual, scale, params.levels) if pooled else None
        )
        if quantiles is not None:
            calibrated = pooled_error_intervals(
                final[model], quantiles, full_scale, params.levels, params.interval_growth
            ).reshape(native.shape)
            method_used[model] = f"pooled_errors_{params.interval_growth}"
        else:
            calibrated = _rescale(final[model], factors[model], params.levels).reshape(native.shape)
            method_used[model] = "conformal_scale" if params.calibrate else "model"
        for c, col in enumerate(_columns(model, params.levels)):
            wide[col] = calibrated[:, c]
            if c:
                wide[col.replace(f"{model}-", f"{model}-native-", 1)] = native[:, c]
    out = pd.concat(scores, ignore_index=True)
    out["mase"] = out["mase"].replace([np.inf, -np.inf], np.nan)
    for lv in params.levels:
        # Reported: the factor at the end of the CV horizon (one year ahead).
        out[f"scale{lv}"] = out["model"].map({m: float(f[lv][-1]) for m, f in factors.items()})
    out["interval_method"] = out["model"].map(method_used)
    return wide, out.assign(windows=plan.windows, season_length=season)


def _full_scale(df: pd.DataFrame, ids: list[str], season: int) -> np.ndarray:
    """Each series' MASE scale on all its data (in-sample seasonal-naive MAE; 1-step when
    the series is too short for its season; 1.0 when it is constant)."""
    by_id = {str(k): g.to_numpy(float) for k, g in df.groupby("unique_id")["y"]}
    out = np.ones(len(ids))
    for i, uid in enumerate(ids):
        y = by_id[uid]
        s = season if len(y) > season else 1
        d = np.mean(np.abs(y[s:] - y[:-s])) if len(y) > s else 0.0
        out[i] = d if d > 0 else 1.0
    return out


def choose(
    scores: pd.DataFrame,
    ids: list[str],
    allowed: tuple[str, ...],
    margin: float = 0.1,
    pool_weight: float = 0.5,
) -> dict[str, str]:
    """Per series, the configured model with the lowest CV MASE, where a series' MASE of a
    model is shrunk towards that model's mean over the group's series (`pool_weight` 0.5:
    half its own, half the group's). With 1-3 CV origins a single series' ranking is noisy,
    and partial pooling lowered the chosen model's back-test MASE on all three data sets
    (docs/evaluation/forecast_backtest.md). The ensemble is kept unless another model beats
    it by more than `margin` (10%): combinations are the robust default (M3/M4
    competitions). Series without a CV get the ensemble (or the first configured model)."""
    fallback = "ensemble" if "ensemble" in allowed else allowed[0]
    chosen = dict.fromkeys(ids, fallback)
    ok = scores[scores["model"].isin(allowed)].dropna(subset=["mase"])
    group = ok.groupby("model")["mase"].transform("mean")
    ok = ok.assign(mase=(1 - pool_weight) * ok["mase"] + pool_weight * group)
    order = {m: i for i, m in enumerate(allowed)}
    for uid, part in ok.groupby("unique_id"):
        best = part.assign(o=part["model"].map(order)).sort_values(["mase", "o"]).iloc[0]
        mase_of = part.set_index("model")["mase"]
        if "ensemble" in mase_of and best["mase"] >= (1 - margin) * mase_of["ensemble"]:
            chosen[uid] = "ensemble"
        else:
            chosen[uid] = best["model"]
    return chosen


def pooled_union(freq: Frequency, params: ForecastParams) -> bool:
    """Whether the pooled interval is joined to the series' own (else it replaces it). Only
    an annual series is the quantity its pool describes (annual totals), so only there may
    the pool replace the series' own interval (`error_pool_composition`). A quarterly value
    may be a quarter's count or a year's total ending that quarter, and a month is a month:
    their own interval carries the period-to-period noise, and the pool only widens it."""
    return freq.periods_per_year != 1 or params.error_pool_composition == "union"


def pool_years_ahead(steps: int, freq: Frequency) -> np.ndarray:
    """The pool's years ahead of each forecast step. Annual and quarterly series: the step
    in years (a quarterly value k steps ahead is a total k quarters ahead). Months of the j-th
    year ahead take the j-year row, so that a year's summed monthly bounds widen at least as
    much as a year's total."""
    k = np.arange(1, steps + 1)
    if freq.periods_per_year == 12:
        return np.ceil(k / 12)
    return k / freq.periods_per_year


def interval_method_name(own: str, pooled: bool, union: bool) -> str:
    """What made the published interval: the series' own method, `+error_pool` when the
    pool widened it, `error_pool` when the pool alone is the interval."""
    if not pooled:
        return own
    return f"{own}+error_pool" if union else "error_pool"


def fill_delivery_gaps(frame: pd.DataFrame) -> pd.DataFrame:
    """frame: unique_id, ds, y of one series at regular periods, sorted; y missing in a delivery
    gap (periods in which the force delivered no crime of any kind). The models need a value
    in every period, and a zero would teach them a fall that never happened: a gap inside the
    series takes the straight line between the recorded periods either side (pandas' linear
    interpolation); missing periods at either end are left out (at the end, the forecast
    covers them). The actuals keep a gap inside the series."""
    if not frame["y"].isna().any():
        return frame
    filled = frame.assign(y=frame["y"].interpolate(method="linear", limit_area="inside"))
    return filled.dropna(subset=["y"]).reset_index(drop=True)


def forecast_series(
    series: pd.DataFrame,
    horizon: int | None,
    params: ForecastParams,
    candidates: list[pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """series: series, period_start, value (any mix of frequencies). `horizon` in periods of
    each series (None = params.horizon_years years). Returns (demand_forecast table, per-series
    model-selection summary with CV MASE of every candidate). When `candidates` is a list, every
    candidate's forecasts (statsforecast wide form) are appended to it (for back-tests)."""
    data = series.assign(
        period_start=pd.to_datetime(series["period_start"]),
        value=pd.to_numeric(series["value"], errors="coerce"),
    ).dropna(subset=["period_start"])
    # A missing value is a delivery gap (marts.demand_series): it stays missing among the
    # actuals, and only the fit sees it filled (`fill_delivery_gaps`).
    data = data.groupby(["series", "period_start"], as_index=False)["value"].sum(min_count=1)
    groups: dict[Frequency, list[pd.DataFrame]] = {}
    applied: dict[str, str] = {}
    frequencies: dict[str, Frequency] = {}
    not_forecast: list[dict] = []
    for name, part in data.groupby("series"):
        reason = too_short(int(part["value"].notna().sum()), max(params.min_periods, 2))
        try:
            freq = infer_frequency(part["period_start"]) if not reason else None
        except ValueError as error:  # irregular spacing: no model of ours fits it
            freq, reason = None, str(error)
        if freq is None:
            not_forecast.append(
                {
                    "series": name,
                    "period": _period_name(part["period_start"]),
                    "not_forecast": reason,
                }
            )
            continue
        frequencies[name] = freq
        frame = fill_delivery_gaps(
            pd.DataFrame(
                {"unique_id": name, "ds": part["period_start"], "y": part["value"].astype(float)}
            ).sort_values("ds", ignore_index=True)
        )
        frame, applied[name] = apply_break(
            frame, params.break_dates, params.break_method, freq.periods_per_year
        )
        groups.setdefault(freq, []).append(frame)
    rows, summary = [], []
    for freq, frames in groups.items():
        df = pd.concat(frames, ignore_index=True)
        h = horizon or params.horizon_years * freq.periods_per_year
        fc, scores = forecast_group(df, freq, h, params)
        if candidates is not None:
            candidates.append(fc)
        chosen = choose(scores, list(df["unique_id"].unique()), params.models)
        fc_by_id = dict(tuple(fc.groupby("unique_id", sort=False)))
        scores_by_id = dict(tuple(scores.groupby("unique_id", sort=False)))
        for uid, model in chosen.items():
            f = fc_by_id[uid]
            cols = _columns(model, params.levels)
            out = pd.DataFrame({"series": uid, "period_start": f["ds"].to_numpy()})
            out["value"] = f[cols[0]].to_numpy()
            bounds = {
                lv: (f[f"{model}-lo-{lv}"].to_numpy(), f[f"{model}-hi-{lv}"].to_numpy())
                for lv in params.levels
            }
            union = pooled_union(freq, params)
            if params.error_pool:
                bounds = pooled_interval(
                    out["value"].to_numpy(),
                    bounds,
                    pool_years_ahead(len(out), freq),
                    params.error_pool,
                    params.interval_growth,
                    pool_kind(freq.periods_per_year),
                    union,
                )
            for lv in params.levels:
                out[f"lo{lv}"], out[f"hi{lv}"] = bounds[lv]
            rows.append(out.assign(kind="forecast", model=model))
            s = scores_by_id[uid].set_index("model")["mase"]
            summary.append(
                {
                    "series": uid,
                    "period": freq.name,
                    "model": model,
                    "cv_mase": float(s.get(model, math.nan)),
                    "cv_mase_seasonal_naive": float(s.get("seasonal_naive", math.nan)),
                    **{f"cv_mase_{m}": float(s.get(m, math.nan)) for m in ALL_MODELS},
                    "season_length": int(scores["season_length"].iloc[0]) if len(scores) else 1,
                    "cv_windows": int(scores["windows"].iloc[0]) if len(scores) else 0,
                    **{
                        f"interval_scale{lv}": float(
                            scores_by_id[uid].set_index("model")[f"scale{lv}"][model]
                        )
                        for lv in params.levels
                    },
                    "interval_method": interval_method_name(
                        str(scores_by_id[uid].set_index("model")["interval_method"][model]),
                        bool(params.error_pool),
                        union,
                    ),
                    "break_applied": applied[uid],
                    "not_forecast": "",
                }
            )
    # A gap at the end of a series (the data end inside it) is no recorded month: the forecast
    # starts after the last recorded period and covers it, so only gaps inside stay actuals.
    last_recorded = data.dropna(subset=["value"]).groupby("series")["period_start"].max()
    recorded = data["period_start"] <= data["series"].map(last_recorded)
    actual = data.loc[recorded, ["series", "period_start", "value"]].assign(
        kind="actual", model=None
    )
    table = pd.concat([actual, *rows], ignore_index=True)
    # Counts cannot be negative: clip the forecast and its lower bounds at zero.
    for col in [
        "value",
        *[f"lo{lv}" for lv in params.levels],
        *[f"hi{lv}" for lv in params.levels],
    ]:
        if col not in table:
            table[col] = np.nan
        table[col] = table[col].clip(lower=0)
    # Series not forecast keep a row saying why (model and interval method empty).
    skipped = pd.DataFrame(not_forecast, columns=["series", "period", "not_forecast"]).assign(
        model="", interval_method="", break_applied="", cv_mase=math.nan, cv_windows=0
    )
    info = pd.concat(
        [frame for frame in (pd.DataFrame(summary), skipped) if len(frame)] or [skipped],
        ignore_index=True,
    )
    table = table.merge(
        info[["series", "period", "break_applied", "interval_method"]], on="series", how="left"
    ).assign(cv_mase=table["series"].map(info.set_index("series")["cv_mase"]))
    table.loc[table["kind"] == "actual", "cv_mase"] = np.nan
    order = ["series", "period_start", "kind", "value"]
    order += [f"{side}{lv}" for lv in params.levels for side in ("lo", "hi")]
    order += ["model", "interval_method", "period", "break_applied", "cv_mase"]
    table = table[order].sort_values(["series", "period_start"], ignore_index=True)
    table["period_start"] = pd.to_datetime(table["period_start"]).dt.date
    return table, info


__all__ = [
    "ForecastParams",
    "Frequency",
    "apply_break",
    "choose",
    "forecast_series",
    "infer_frequency",
]
