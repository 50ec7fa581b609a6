"""Demand-forecast assets: marts.demand_series -> marts.demand_forecast, forecast_accuracy and
forecast_tracking (the FMS files are written from them by the publish stage).

Wiring only: the logic is pipelines.forecasting (statsforecast candidates, rolling-origin CV);
the tables' columns are declared once, as dbt sources (pipelines/warehouse_tables.py).
"""

import math
import time

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.partitions import quarterly_partitions
from pipelines.quarters import quarter_end
from pipelines.resources import ProfileRun
from pipelines.warehouse_tables import replace_table

DEMAND_SERIES = dg.AssetKey(["marts", "demand_series"])
DEMAND_FORECAST = dg.AssetKey(["marts", "demand_forecast"])
FORECAST_ACCURACY = dg.AssetKey(["marts", "forecast_accuracy"])
FORECAST_TRACKING = dg.AssetKey(["marts", "forecast_tracking"])
FORECAST_ERROR_POOL = dg.AssetKey(["marts", "forecast_error_pool"])
SEP = "|"


@dg.multi_asset(
    outs={
        "demand_forecast": dg.AssetOut(
            key=DEMAND_FORECAST,
            description="Actuals and 4-year forecasts with 80/95% intervals per demand series.",
            kinds={"duckdb", "python"},
        ),
        "forecast_accuracy": dg.AssetOut(
            key=FORECAST_ACCURACY,
            description="CV MASE of every candidate per series (naive beside), and the "
            "measured back-test: MASE and interval coverage, held-in and held-out.",
            kinds={"duckdb", "python"},
        ),
        "forecast_tracking": dg.AssetOut(
            key=FORECAST_TRACKING,
            description="FMS early warning: each series' latest quarter against the 80% "
            "interval forecast a quarter earlier (outside_interval, direction).",
            kinds={"duckdb", "python"},
        ),
        "forecast_error_pool": dg.AssetOut(
            key=FORECAST_ERROR_POOL,
            description="The shipped error pool by months ahead: the log-ratio bounds the FMS "
            "financial-year ranges are built from.",
            kinds={"duckdb", "python"},
        ),
    },
    deps=[DEMAND_SERIES],
    group_name="forecasting",
    partitions_def=quarterly_partitions,
    can_subset=False,
)
def demand_forecast(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, profile_run: ProfileRun
):
    import pandas as pd  # imported in the step: not at start-up

    quarter = context.partition_key
    settings = profile_run.settings()
    # Imported here, not at module level: statsforecast (with statsmodels, scipy, sklearn) is
    # this step's cost, not every process that loads the definitions (CLI, UI, sensors).
    from pipelines.forecasting import ForecastParams, forecast_series
    from pipelines.forecasting.accuracy import backtest_rows, cv_accuracy_rows
    from pipelines.forecasting.error_pool import pool_by_month
    from pipelines.forecasting.fms import months_to_cover
    from pipelines.forecasting.tracking import forecast_tracking

    params = ForecastParams.from_settings(settings.forecasting)
    as_of = quarter_end(quarter)
    started = time.perf_counter()
    with duckdb.get_connection() as con:
        series = con.execute(
            "select series, period, period_start, value from marts.demand_series "
            "where is_complete and period_start <= ?",
            [as_of],
        ).df()
    if settings.forecasting.series:
        series = series[series["series"].isin(settings.forecasting.series)]
    if settings.forecasting.periods:
        series = series[series["period"].isin(settings.forecasting.periods)]
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
    accuracy = backtest_rows() + cv_accuracy_rows(info, SEP)
    accuracy_df = pd.DataFrame(
        accuracy,
        columns=[
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
        ],
    )
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
        columns=[
            "kind",
            "regime",
            "months_ahead",
            "level",
            "lower_log_ratio",
            "upper_log_ratio",
            "errors",
        ],
    )
    with duckdb.get_connection() as con:
        replace_table(con, "marts.demand_forecast", table)
        replace_table(con, "marts.forecast_accuracy", accuracy_df)
        replace_table(con, "marts.forecast_tracking", tracking)
        replace_table(con, "marts.forecast_error_pool", pool)
    breaks = sorted({b for b in info.get("break_applied", pd.Series(dtype=str)) if b})
    seconds = round(time.perf_counter() - started, 2)
    yield dg.MaterializeResult(
        asset_key=DEMAND_FORECAST,
        metadata={
            "series": int(len(info)),
            "rows": int(len(table)),
            "breaks_applied": len(breaks),
            "seconds": seconds,
        },
    )
    yield dg.MaterializeResult(asset_key=FORECAST_ACCURACY, metadata={"rows": len(accuracy_df)})
    yield dg.MaterializeResult(
        asset_key=FORECAST_TRACKING,
        metadata={
            "series": len(tracking),
            "outside_interval": int(tracking["outside_interval"].sum()) if len(tracking) else 0,
        },
    )
    yield dg.MaterializeResult(asset_key=FORECAST_ERROR_POOL, metadata={"rows": len(pool)})
