"""Delivery gaps (months in which a force delivered no crime of any kind: missing values in
marts.demand_series): the forecast fits through them on the straight line between the months
either side, keeps them missing among the actuals, and never learns them as zeros."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.forecasting import ForecastParams
from pipelines.forecasting.core import fill_delivery_gaps, forecast_series
from pipelines.forecasting.tracking import forecast_tracking

PARAMS = ForecastParams(models=("seasonal_naive",), cv_windows=1)


def _monthly(values: list[float], start: str = "2020-01-01") -> pd.DataFrame:
    ds = pd.date_range(start, periods=len(values), freq="MS")
    return pd.DataFrame({"series": "s", "period_start": ds, "value": values})


def test_a_gap_inside_is_the_line_between_its_neighbours_and_gaps_at_the_ends_are_dropped() -> None:
    frame = pd.DataFrame(
        {
            "unique_id": "s",
            "ds": pd.date_range("2020-01-01", periods=7, freq="MS"),
            "y": [np.nan, 4.0, np.nan, np.nan, 10.0, 12.0, np.nan],
        }
    )
    filled = fill_delivery_gaps(frame)
    assert filled["ds"].tolist() == frame["ds"].iloc[1:6].tolist()
    assert filled["y"].tolist() == [4.0, 6.0, 8.0, 10.0, 12.0]


def test_the_forecast_fits_through_a_gap_and_keeps_it_missing() -> None:
    rng = np.random.default_rng(5)
    values = list(rng.poisson(20, 48).astype(float))
    gapped = values.copy()
    gapped[40:43] = [np.nan] * 3  # inside the last year, which seasonal naive repeats
    table, info = forecast_series(_monthly(gapped), 12, PARAMS)
    actual = table[table["kind"] == "actual"].set_index("period_start")["value"]
    assert len(actual) == 48 and actual.isna().sum() == 3
    # the fit saw the interpolated months: the same forecast as the series filled by hand
    by_hand = pd.Series(gapped).interpolate().tolist()
    expected, _ = forecast_series(_monthly(by_hand), 12, PARAMS)
    fc = table[table["kind"] == "forecast"]["value"].to_numpy()
    assert np.allclose(fc, expected[expected["kind"] == "forecast"]["value"].to_numpy())
    # and not zeros: those give another forecast
    zeros, _ = forecast_series(_monthly([0.0 if v != v else v for v in gapped]), 12, PARAMS)
    assert not np.allclose(fc, zeros[zeros["kind"] == "forecast"]["value"].to_numpy())
    assert info["not_forecast"].eq("").all()


def test_a_gap_at_the_end_is_forecast_not_recorded() -> None:
    values = [float(10 + i % 12) for i in range(36)] + [np.nan] * 3
    table, _ = forecast_series(_monthly(values), 6, PARAMS)
    actual = table[table["kind"] == "actual"]
    forecast = table[table["kind"] == "forecast"]
    assert actual["value"].notna().all() and len(actual) == 36
    assert forecast["period_start"].min() == pd.Timestamp("2023-01-01").date()
    assert not set(actual["period_start"]) & set(forecast["period_start"])


def test_no_early_warning_on_a_quarter_of_a_gap() -> None:
    rng = np.random.default_rng(7)
    values = list(rng.poisson(30, 48).astype(float))
    values[45:47] = [np.nan] * 2  # two months of 2023-Q4 missing
    series = _monthly(values)
    assert forecast_tracking(series, "2023-Q4", PARAMS).empty
    assert len(forecast_tracking(series, "2023-Q3", PARAMS)) == 1
