"""Demand forecasts with statsforecast: candidate models, rolling-origin CV on MASE, intervals.

Per series: apply the configured structural break (fit after it, or shift the earlier level),
cross-validate every candidate over rolling origins, keep the lowest mean MASE, refit on all
(post-break) data and forecast with 80/95% intervals.

Ensemble: the mean of the ETS, Theta and ARIMA forecasts; its interval bounds are the means of
the members' bounds at each level (quantile averaging / "Vincentisation"), which is simple,
keeps the intervals nested and, unlike averaging variances, never assumes independent errors.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, Naive, SeasonalNaive
from utilsforecast.losses import mase

ENSEMBLE_MEMBERS = ("ets", "theta", "arima")
ALL_MODELS = ("naive", "seasonal_naive", "ets", "theta", "arima", "ensemble")


@dataclass(frozen=True)
class Frequency:
    name: str  # month / quarter / year
    alias: str  # pandas offset alias for statsforecast
    periods_per_year: int


@dataclass(frozen=True)
class ForecastParams:
    models: tuple[str, ...] = ("seasonal_naive", "ets", "theta", "arima", "ensemble")
    cv_windows: int = 3
    levels: tuple[int, ...] = (80, 95)
    break_dates: tuple[str, ...] = ()
    break_method: str = "refit"
    horizon_years: int = 4

    @classmethod
    def from_settings(cls) -> ForecastParams:
        from pipelines.settings import load_settings

        s = load_settings().forecasting
        return cls(
            models=tuple(s.models),
            cv_windows=s.cv_windows,
            levels=tuple(s.levels),
            break_dates=tuple(s.break_dates),
            break_method=s.break_method,
            horizon_years=s.horizon_years,
        )


_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


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


def _base_models(season: int) -> list:
    return [
        Naive(alias="naive"),
        SeasonalNaive(season_length=season, alias="seasonal_naive"),
        AutoETS(season_length=season, alias="ets"),
        AutoTheta(season_length=season, alias="theta"),
        # A bounded, approximate stepwise search: the default search costs ~0.7 s a monthly
        # series here (no numba), which would dominate the pipeline's runtime.
        AutoARIMA(
            season_length=season,
            max_p=2,
            max_q=2,
            max_P=1,
            max_Q=1,
            max_order=3,
            nmodels=20,
            approximation=True,
            alias="arima",
        ),
    ]


def _columns(model: str, levels: tuple[int, ...]) -> list[str]:
    return [model] + [f"{model}-{side}-{lv}" for lv in levels for side in ("lo", "hi")]


def _add_ensemble(frame: pd.DataFrame, levels: tuple[int, ...]) -> pd.DataFrame:
    frame = frame.copy()
    for src, dst in zip(_columns("ets", levels), _columns("ensemble", levels), strict=True):
        members = [src.replace("ets", m, 1) for m in ENSEMBLE_MEMBERS]
        frame[dst] = frame[members].mean(axis=1)
    return frame


def _season_for(n: int, freq: Frequency) -> int:
    """Seasonal models need two full seasons plus a little; shorter series go non-seasonal."""
    s = freq.periods_per_year
    return s if s > 1 and n >= 2 * s + 2 else 1


def _statsforecast(season: int, freq: Frequency, n_series: int) -> StatsForecast:
    # Two processes pay off only with enough series to amortise the start-up.
    n_jobs = min(2, os.cpu_count() or 1) if n_series >= 16 else 1
    # A model that cannot fit a series (e.g. ETS on very short data) falls back to naive.
    return StatsForecast(
        models=_base_models(season), freq=freq.alias, n_jobs=n_jobs, fallback_model=Naive()
    )


def _quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore")
    logging.getLogger("statsforecast").setLevel(logging.ERROR)
    return ctx


def cross_validate(
    df: pd.DataFrame, freq: Frequency, season: int, params: ForecastParams, cv_h: int
) -> pd.DataFrame:
    """Mean MASE per series and model over rolling origins (unique_id, model, mase, windows)."""
    n_min = int(df.groupby("unique_id").size().min())
    windows = min(params.cv_windows, max(0, (n_min - max(2 * season, 8)) // cv_h))
    if windows < 1:
        return pd.DataFrame(columns=["unique_id", "model", "mase", "windows"])
    ctx = _quiet()
    try:
        cv = _statsforecast(season, freq, df["unique_id"].nunique()).cross_validation(
            h=cv_h,
            df=df,
            n_windows=windows,
            step_size=cv_h,
            level=list(params.levels),
            # Fit once at the first origin and roll forward: refitting per origin quadruples
            # the cost (AutoARIMA/AutoETS) for little change in which model ranks first.
            refit=False,
        )
    finally:
        ctx.__exit__(None, None, None)
    cv = _add_ensemble(cv, params.levels)
    scores = []
    for cutoff, part in cv.groupby("cutoff"):
        train = df[df["ds"] <= cutoff]
        m = mase(
            part[["unique_id", "ds", "y", *ALL_MODELS]],
            models=list(ALL_MODELS),
            seasonality=season,
            train_df=train,
        )
        scores.append(m.assign(cutoff=cutoff))
    long = pd.concat(scores).melt(
        id_vars=["unique_id", "cutoff"], var_name="model", value_name="mase"
    )
    long["mase"] = long["mase"].replace([np.inf, -np.inf], np.nan)
    out = long.groupby(["unique_id", "model"], as_index=False)["mase"].mean()
    return out.assign(windows=windows)


def forecast_group(
    df: pd.DataFrame, freq: Frequency, horizon: int, params: ForecastParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """df: unique_id, ds, y (one frequency). Returns (forecasts of every candidate in wide
    statsforecast form, CV scores)."""
    n_min = int(df.groupby("unique_id").size().min())
    season = _season_for(n_min, freq)
    cv_h = min(horizon, max(freq.periods_per_year, 2))
    scores = cross_validate(df, freq, season, params, cv_h)
    ctx = _quiet()
    try:
        fc = _statsforecast(season, freq, df["unique_id"].nunique()).forecast(
            h=horizon, df=df, level=list(params.levels)
        )
    finally:
        ctx.__exit__(None, None, None)
    return _add_ensemble(fc, params.levels), scores.assign(season_length=season)


def choose(
    scores: pd.DataFrame, ids: list[str], allowed: tuple[str, ...], margin: float = 0.1
) -> dict[str, str]:
    """Per series, the configured model with the lowest mean CV MASE, except that the
    ensemble is kept unless another model beats it by more than `margin` (10%): with 1-3
    CV windows the ranking is noisy and combinations are the robust default (M3/M4
    competitions). Series without a CV get the ensemble (or the first configured model)."""
    fallback = "ensemble" if "ensemble" in allowed else allowed[0]
    chosen = dict.fromkeys(ids, fallback)
    ok = scores[scores["model"].isin(allowed)].dropna(subset=["mase"])
    order = {m: i for i, m in enumerate(allowed)}
    for uid, part in ok.groupby("unique_id"):
        best = part.assign(o=part["model"].map(order)).sort_values(["mase", "o"]).iloc[0]
        mase_of = part.set_index("model")["mase"]
        if "ensemble" in mase_of and best["mase"] >= (1 - margin) * mase_of["ensemble"]:
            chosen[uid] = "ensemble"
        else:
            chosen[uid] = best["model"]
    return chosen


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
    ).dropna(subset=["period_start", "value"])
    data = data.groupby(["series", "period_start"], as_index=False)["value"].sum()
    groups: dict[Frequency, list[pd.DataFrame]] = {}
    applied: dict[str, str] = {}
    frequencies: dict[str, Frequency] = {}
    for name, part in data.groupby("series"):
        freq = infer_frequency(part["period_start"])
        frequencies[name] = freq
        frame = pd.DataFrame(
            {"unique_id": name, "ds": part["period_start"], "y": part["value"].astype(float)}
        ).sort_values("ds")
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
        for uid, model in chosen.items():
            f = fc[fc["unique_id"] == uid]
            cols = _columns(model, params.levels)
            out = pd.DataFrame({"series": uid, "period_start": f["ds"].to_numpy()})
            out["value"] = f[cols[0]].to_numpy()
            for lv in params.levels:
                out[f"lo{lv}"] = f[f"{model}-lo-{lv}"].to_numpy()
                out[f"hi{lv}"] = f[f"{model}-hi-{lv}"].to_numpy()
            rows.append(out.assign(kind="forecast", model=model))
            s = scores[scores["unique_id"] == uid].set_index("model")["mase"]
            summary.append(
                {
                    "series": uid,
                    "period": freq.name,
                    "model": model,
                    "cv_mase": float(s.get(model, math.nan)),
                    "cv_mase_seasonal_naive": float(s.get("seasonal_naive", math.nan)),
                    **{f"cv_mase_{m}": float(s.get(m, math.nan)) for m in ALL_MODELS},
                    "season_length": int(scores["season_length"].iloc[0]) if len(scores) else 1,
                    "break_applied": applied[uid],
                }
            )
    actual = data.rename(columns={})[["series", "period_start", "value"]].assign(
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
    info = pd.DataFrame(summary)
    table = table.merge(
        info[["series", "period", "break_applied"]], on="series", how="left"
    ).assign(cv_mase=table["series"].map(info.set_index("series")["cv_mase"]))
    table.loc[table["kind"] == "actual", "cv_mase"] = np.nan
    order = ["series", "period_start", "kind", "value"]
    order += [f"{side}{lv}" for lv in params.levels for side in ("lo", "hi")]
    order += ["model", "period", "break_applied", "cv_mase"]
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
