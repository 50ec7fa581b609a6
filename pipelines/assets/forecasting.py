"""Demand-forecast assets: marts.demand_series -> marts.demand_forecast (+ accuracy tables) and
the FMS exports OUT/YYYY-Qn/fms/demand.{csv,xlsx}.

Wiring only: the logic is pipelines.forecasting (statsforecast candidates, rolling-origin CV).
"""

import math
import time

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipelines.partitions import quarterly_partitions
from pipelines.quarters import quarter_end
from pipelines.resources import ProfileRun
from pipelines.settings import load_settings

DEMAND_SERIES = dg.AssetKey(["marts", "demand_series"])
DEMAND_FORECAST = dg.AssetKey(["marts", "demand_forecast"])
FORECAST_ACCURACY = dg.AssetKey(["marts", "forecast_accuracy"])
FORECAST_TRACKING = dg.AssetKey(["marts", "forecast_tracking"])
SEP = "|"

FORECAST_SQL = """
create or replace table marts.demand_forecast as
select
    series::varchar as series,
    period::varchar as period,
    period_start::date as period_start,
    kind::varchar as kind,
    value::double as value,
    lo80::double as lo80,
    hi80::double as hi80,
    lo95::double as lo95,
    hi95::double as hi95,
    model::varchar as model,
    interval_method::varchar as interval_method,
    break_applied::varchar as break_applied,
    cv_mase::double as cv_mase
from _fc_table
order by series, period, period_start
"""

ACCURACY_SQL = """
create or replace table marts.forecast_accuracy as
select
    source::varchar as source,
    series::varchar as series,
    period::varchar as period,
    horizon::varchar as horizon,
    model::varchar as model,
    mase::double as mase,
    naive_mase::double as naive_mase,
    coverage80::double as coverage80,
    coverage95::double as coverage95,
    is_chosen::boolean as is_chosen,
    break_applied::varchar as break_applied
from _fc_accuracy
order by source, series, period, horizon, model
"""

TRACKING_SQL = """
create or replace table marts.forecast_tracking as
select
    series::varchar as series,
    quarter::varchar as quarter,
    actual::double as actual,
    expected::double as expected,
    lo80::double as lo80,
    hi80::double as hi80,
    outside_interval::boolean as outside_interval,
    direction::varchar as direction,
    model::varchar as model
from _fc_tracking
order by series
"""


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
    settings = load_settings()
    # Imported here, not at module level: statsforecast (with statsmodels, scipy, sklearn) is
    # this step's cost, not every process that loads the definitions (CLI, UI, sensors).
    from pipelines.forecasting import ForecastParams, forecast_series
    from pipelines.forecasting.accuracy import (
        backtest_rows,
        coverage_lines,
        cv_accuracy_rows,
        headline_accuracy,
    )
    from pipelines.forecasting.fms import (
        apply_disclosure,
        fms_table,
        months_to_cover,
        write_fms,
    )
    from pipelines.forecasting.tracking import (
        forecast_tracking,
        publishable_tracking,
        warning_lines,
    )

    params = ForecastParams.from_settings()
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
    tracking = forecast_tracking(series[["series", "period_start", "value"]], quarter, params)
    with duckdb.get_connection() as con:
        con.execute("create schema if not exists marts")
        con.register("_fc_table", table)
        con.register("_fc_accuracy", accuracy_df)
        con.register("_fc_tracking", tracking)
        con.execute(FORECAST_SQL)
        con.execute(ACCURACY_SQL)
        con.execute(TRACKING_SQL)
        con.unregister("_fc_table")
        con.unregister("_fc_accuracy")
        con.unregister("_fc_tracking")
    monthly = table[table["period"] == "month"] if len(table) else table
    fms = fms_table(monthly, as_of, params.horizon_years, headline_accuracy(accuracy))
    fms = apply_disclosure(fms, settings.disclosure.min_count)
    breaks = sorted({b for b in info.get("break_applied", pd.Series(dtype=str)) if b})
    notes = [
        f"Quarter {quarter}; financial years April-March; data to {as_of}.",
        "Model per series chosen by rolling-origin cross-validation on MASE among seasonal "
        "naive, ETS, Theta, ARIMA and their ensemble (statsforecast).",
        _interval_note(info),
        *coverage_lines(accuracy),
        *warning_lines(tracking),
        "Year intervals: sums of monthly bounds (errors treated as perfectly correlated).",
        f"Structural breaks applied: {', '.join(breaks) if breaks else 'none'}.",
        f"Counts below {settings.disclosure.min_count} shown as [c].",
        "Back-test accuracy: docs/evaluation/forecast_backtest.md.",
    ]
    csv, _ = write_fms(
        fms,
        profile_run.quarter_dir(quarter) / "fms",
        notes,
        sheets={"tracking": publishable_tracking(tracking, settings.disclosure.min_count)},
    )
    seconds = round(time.perf_counter() - started, 2)
    yield dg.MaterializeResult(
        asset_key=DEMAND_FORECAST,
        metadata={
            "series": int(len(info)),
            "rows": int(len(table)),
            "breaks_applied": len(breaks),
            "seconds": seconds,
            "fms_csv": dg.MetadataValue.path(str(csv)),
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


def _interval_note(info: pd.DataFrame) -> str:
    methods = sorted(set(info.get("interval_method", pd.Series(dtype=str)).dropna()) - {""})
    if any(m.startswith("pooled_errors") for m in methods):
        return (
            "Monthly intervals: forecast + the series' scale x the quantiles of the scale-free "
            "rolling-origin errors of all series, growing with the months ahead "
            f"({', '.join(methods)})."
        )
    pooled = (
        " and at least as wide as the errors that forecasts of the 22 forces' Home Office "
        "series made at the same distance ahead (docs/evaluation/forecast_error_pool.json)"
        if any(m.endswith("+error_pool") for m in methods)
        else ""
    )
    return (
        "Monthly intervals: each model's own, widened so that they cover its rolling-origin "
        f"CV errors at the nominal rate{pooled} ({', '.join(methods) or 'none'})."
    )
