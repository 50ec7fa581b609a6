"""The forecast step's computation in one call, so that it runs in a worker of the fork server
(pipelines/fork_server.py), which imported this module (statsforecast, statsmodels, scikit-learn
with SciPy: ~1.5 s of CPU and ~130 MB) on the other core while the run was busy with ingest and
dbt; the Dagster step only reads the warehouse and writes the tables
(pipelines/assets/forecasting.py). The fits inside it are split over processes forked from
that worker (`fork_server.pool`)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from pipelines.forecasting.accuracy import backtest_rows, cv_accuracy_rows
from pipelines.forecasting.core import ForecastParams, forecast_series, too_short
from pipelines.forecasting.error_pool import pool_by_month
from pipelines.forecasting.fms import months_to_cover
from pipelines.forecasting.tracking import forecast_tracking
from pipelines.quarters import quarter_end
from pipelines.settings import ForecastSettings

SEP = "|"
ACCURACY_COLUMNS = [
    "source",
    "series",
    "period",
    "horizon",
    "model",
    "mase",
    "naive_mase",
    "coverage80",
    "coverage95",
    "is_chosen",
    "break_applied",
]
POOL_COLUMNS = [
    "kind",
    "regime",
    "months_ahead",
    "level",
    "lower_log_ratio",
    "upper_log_ratio",
    "errors",
]


def member_rows(
    table: pd.DataFrame, candidates: list[pd.DataFrame], members: tuple[str, ...]
) -> pd.DataFrame:
    """The ensemble members' own forecasts (kind 'member', model = the member) of every series
    whose chosen model is the ensemble, at the forecast's periods: what the FMS says when the
    forecast departs from recent demand (which member carries the change). Bounds are left
    empty: only the ensemble's interval is published. Counts are floored at zero, as the
    ensemble floors its members."""
    forecast = table[(table["kind"] == "forecast") & (table["model"] == "ensemble")]
    if forecast.empty or not candidates:
        return table.iloc[0:0]
    wide = pd.concat(candidates, ignore_index=True)
    wide = wide[wide["unique_id"].isin(set(forecast["series"]))]
    keep = forecast.drop(columns=["kind", "model", "value"]).assign(
        period_start=pd.to_datetime(forecast["period_start"])
    )
    for bound in ("lo80", "hi80", "lo95", "hi95"):
        keep[bound] = float("nan")
    rows = [
        keep.merge(
            wide[["unique_id", "ds", m]].rename(
                columns={"unique_id": "series", "ds": "period_start", m: "value"}
            ),
            on=["series", "period_start"],
        ).assign(kind="member", model=m, value=lambda f: f["value"].clip(lower=0))
        for m in members
        if m in wide
    ]
    out = pd.concat(rows, ignore_index=True)[table.columns]
    out["period_start"] = out["period_start"].dt.date
    return out


def not_yet_complete(
    series: pd.DataFrame, delivered: pd.DataFrame, min_periods: int
) -> pd.DataFrame:
    """Per-series summary rows (as `forecast_series`' info) of the delivered series (series,
    period) with no complete period yet (a delivery of a few days): not forecast, for want of
    history, so the outputs still say why rather than showing nothing."""
    have = set(zip(series["series"], series["period"], strict=True))
    missing = sorted(
        {
            (name, period)
            for name, period in zip(delivered["series"], delivered["period"], strict=True)
        }
        - have
    )
    return pd.DataFrame(
        [
            {
                "series": name + SEP + period,
                "period": period,
                "not_forecast": too_short(0, max(min_periods, 2)),
                "model": "",
                "interval_method": "",
                "break_applied": "",
                "cv_mase": math.nan,
                "cv_windows": 0,
            }
            for name, period in missing
        ],
        columns=[
            "series",
            "period",
            "not_forecast",
            "model",
            "interval_method",
            "break_applied",
            "cv_mase",
            "cv_windows",
        ],
    )


def forecast_tables(
    series: pd.DataFrame,
    quarter: str,
    settings: ForecastSettings,
    delivered: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """series: marts.demand_series' complete periods up to the quarter's end (series, period,
    period_start, value); delivered: every series and period the demand series hold (series,
    period), complete or not, so a series with no complete period yet is listed as not
    forecast. Returns the frames of marts.demand_forecast (`forecast`: actuals,
    forecasts and, for the ensemble, its members' forecasts),
    .forecast_accuracy (`accuracy`), .forecast_tracking (`tracking`), .forecast_error_pool
    (`pool`), and the counts the step reports (`series_forecast`, `breaks_applied`)."""
    params = ForecastParams.from_settings(settings)
    as_of = quarter_end(quarter)
    if settings.series:
        series = series[series["series"].isin(settings.series)]
    if settings.periods:
        series = series[series["period"].isin(settings.periods)]
    tables, infos = [], []
    for period, part in series.groupby("period"):
        # the forecast starts after the last recorded period (a delivery gap at the end is
        # forecast, pipelines.forecasting.core.fill_delivery_gaps)
        last = pd.Timestamp(part.dropna(subset=["value"])["period_start"].max()).date()
        months = months_to_cover(last, as_of, params.horizon_years)
        horizon = months if period == "month" else math.ceil(months / 3)
        frame = part.assign(series=part["series"] + SEP + part["period"])
        candidates: list[pd.DataFrame] = []
        table, info = forecast_series(
            frame[["series", "period_start", "value"]], horizon, params, candidates
        )
        members = member_rows(table, candidates, params.ensemble_members)
        tables.append(pd.concat([table, members], ignore_index=True) if len(members) else table)
        infos.append(info)
    if delivered is not None:
        if settings.series:
            delivered = delivered[delivered["series"].isin(settings.series)]
        if settings.periods:
            delivered = delivered[delivered["period"].isin(settings.periods)]
        infos.append(not_yet_complete(series, delivered, params.min_periods))
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    infos = [frame for frame in infos if len(frame)]
    info = pd.concat(infos, ignore_index=True) if infos else pd.DataFrame()
    if len(table):
        split = table["series"].str.rsplit(SEP, n=1, expand=True)
        table = table.assign(series=split[0], period=split[1])
    accuracy = pd.DataFrame(backtest_rows() + cv_accuracy_rows(info, SEP), columns=ACCURACY_COLUMNS)
    tracking = forecast_tracking(
        series[["series", "period", "period_start", "value"]], quarter, params
    )
    # Every financial year the FMS shows ends within horizon_years + 1 years of the data.
    pool = pd.DataFrame(
        pool_by_month(
            params.error_pool,
            (params.horizon_years + 1) * 12,
            params.levels,
            growth=params.interval_growth,
        ),
        columns=POOL_COLUMNS,
    )
    breaks = {b for b in info.get("break_applied", pd.Series(dtype=str)) if b}
    return {
        "forecast": table,
        "accuracy": accuracy,
        "tracking": tracking,
        "pool": pool,
        "series_forecast": int(len(info)),
        "breaks_applied": len(breaks),
    }
