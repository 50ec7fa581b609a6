"""Demand-forecast assets: marts.demand_series -> marts.demand_forecast, forecast_accuracy and
forecast_tracking (the FMS files are written from them by the publish stage).

Wiring only: the logic is pipelines.forecasting (statsforecast candidates, rolling-origin CV);
the tables' columns are declared once, as dbt sources (pipelines/warehouse_tables.py).
"""

import time

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines import fork_server
from pipelines.partitions import quarterly_partitions
from pipelines.quarters import quarter_end
from pipelines.resources import ProfileRun
from pipelines.warehouse_tables import replace_table

DEMAND_SERIES = dg.AssetKey(["marts", "demand_series"])
DEMAND_FORECAST = dg.AssetKey(["marts", "demand_forecast"])
FORECAST_ACCURACY = dg.AssetKey(["marts", "forecast_accuracy"])
FORECAST_TRACKING = dg.AssetKey(["marts", "forecast_tracking"])
FORECAST_ERROR_POOL = dg.AssetKey(["marts", "forecast_error_pool"])
# What the step computes, by name (pipelines/forecasting/step.py); the CLI's fork server imports it.
FORECAST_TABLES = "pipelines.forecasting.step:forecast_tables"


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
    quarter = context.partition_key
    started = time.perf_counter()
    with duckdb.get_connection() as con:
        series = con.execute(
            "select series, period, period_start, value from marts.demand_series "
            "where is_complete and period_start <= ?",
            [quarter_end(quarter)],
        ).df()
        delivered = con.execute(
            "select distinct series, period from marts.demand_series where period_start <= ?",
            [quarter_end(quarter)],
        ).df()
    # Computed in a worker of the fork server, which `spp profile` started with the forecasting
    # modules imported (statsforecast, statsmodels, scikit-learn: ~1.5 s of CPU, ~130 MB) on
    # the other core while ingest and dbt ran: this process no longer imports them. The same
    # function, inputs and results as in this process (without the CLI the worker imports
    # the modules itself).
    tables = fork_server.call(
        FORECAST_TABLES, series, quarter, profile_run.settings().forecasting, delivered
    )
    table, tracking = tables["forecast"], tables["tracking"]
    with duckdb.get_connection() as con:
        replace_table(con, "marts.demand_forecast", table)
        replace_table(con, "marts.forecast_accuracy", tables["accuracy"])
        replace_table(con, "marts.forecast_tracking", tracking)
        replace_table(con, "marts.forecast_error_pool", tables["pool"])
    seconds = round(time.perf_counter() - started, 2)
    yield dg.MaterializeResult(
        asset_key=DEMAND_FORECAST,
        metadata={
            "series": tables["series_forecast"],
            "rows": int(len(table)),
            "breaks_applied": tables["breaks_applied"],
            "seconds": seconds,
        },
    )
    yield dg.MaterializeResult(
        asset_key=FORECAST_ACCURACY, metadata={"rows": len(tables["accuracy"])}
    )
    yield dg.MaterializeResult(
        asset_key=FORECAST_TRACKING,
        metadata={
            "series": len(tracking),
            "outside_interval": int(tracking["outside_interval"].sum()) if len(tracking) else 0,
        },
    )
    yield dg.MaterializeResult(
        asset_key=FORECAST_ERROR_POOL, metadata={"rows": len(tables["pool"])}
    )
