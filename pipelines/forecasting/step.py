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
from pipelines.forecasting.core import ForecastParams, forecast_series
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


def forecast_tables(
    series: pd.DataFrame, quarter: str, settings: ForecastSettings
) -> dict[str, Any]:
    """series: marts.demand_series' complete periods up to the quarter's end (series, period,
    period_start, value). Returns the frames of marts.demand_forecast (`forecast`),
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
        last = pd.Timestamp(part["period_start"].max()).date()
        months = months_to_cover(last, as_of, params.horizon_years)
        horizon = months if period == "month" else math.ceil(months / 3)
        frame = part.assign(series=part["series"] + SEP + part["period"])
        table, info = forecast_series(frame[["series", "period_start", "value"]], horizon, params)
        tables.append(table)
        infos.append(info)
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
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
