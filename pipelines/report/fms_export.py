"""The FMS demand export (OUT/YYYY-Qn/fms/demand.csv and .xlsx), drawn from the forecast marts.

Written by the publish stage from the tables the forecasting step stored (demand_forecast,
forecast_accuracy, forecast_tracking: declared dbt sources), so the export and the profile read
the same figures and nothing but the publish stage writes under OUT/.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from pipelines.forecasting.accuracy import coverage_lines, headline_accuracy
from pipelines.forecasting.fms import apply_disclosure, fms_table, write_fms
from pipelines.forecasting.tracking import publishable_tracking, warning_lines
from pipelines.quarters import quarter_end


def write_fms_export(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    folder: Path,
    horizon_years: int,
    min_count: int,
) -> list[Path]:
    """fms/demand.csv and fms/demand.xlsx for `quarter`, counts below min_count as '[c]'."""
    as_of = quarter_end(quarter)
    forecast = con.execute(
        "select * from marts.demand_forecast where period = 'month' order by series, period_start"
    ).df()
    accuracy = con.execute(
        "select * from marts.forecast_accuracy order by source, series, period, horizon, model"
    ).df()
    tracking = con.execute("select * from marts.forecast_tracking order by series").df()
    accuracy_rows = accuracy.to_dict("records")
    table = apply_disclosure(
        fms_table(forecast, as_of, horizon_years, headline_accuracy(accuracy_rows)), min_count
    )
    breaks = sorted({b for b in forecast["break_applied"].dropna() if b})
    notes = [
        f"Quarter {quarter}; financial years April-March; data to {as_of}.",
        "Model per series chosen by rolling-origin cross-validation on MASE among seasonal "
        "naive, ETS, Theta, ARIMA and their ensemble (statsforecast).",
        interval_note(forecast),
        *coverage_lines(accuracy_rows),
        *warning_lines(tracking),
        "Year intervals: sums of monthly bounds (errors treated as perfectly correlated).",
        f"Structural breaks applied: {', '.join(breaks) if breaks else 'none'}.",
        f"Counts below {min_count} shown as [c].",
        "Back-test accuracy: docs/evaluation/forecast_backtest.md.",
    ]
    csv, xlsx = write_fms(
        table,
        folder / "fms",
        notes,
        sheets={"tracking": publishable_tracking(tracking, min_count)},
    )
    return [csv, xlsx]


def interval_note(forecast: pd.DataFrame) -> str:
    methods = sorted(set(forecast["interval_method"].dropna()))
    if any(m.startswith("pooled_errors") for m in methods):
        return (
            "Monthly intervals: forecast + the series' scale x the quantiles of the scale-free "
            "rolling-origin errors of all series, growing with the months ahead "
            f"({', '.join(methods)})."
        )
    return (
        "Monthly intervals: each model's own, widened so that they cover its rolling-origin "
        f"CV errors at the nominal rate ({', '.join(methods) or 'none'})."
    )
