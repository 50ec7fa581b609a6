"""A delivery of a few days holds demand series with no complete period: nothing can be
forecast, and the outputs must still say which series and why (not an empty table that the
profile reports as unavailable and the FMS file as a bare header)."""

from __future__ import annotations

import pandas as pd

from pipelines.forecasting.step import forecast_tables
from pipelines.settings import ForecastSettings


def test_series_without_a_complete_period_are_listed_as_not_forecast() -> None:
    complete = pd.DataFrame(columns=["series", "period", "period_start", "value"])
    delivered = pd.DataFrame(
        {
            "series": ["all_stalking", "all_stalking", "online"],
            "period": ["month", "quarter", "month"],
        }
    )
    settings = ForecastSettings(error_pool_file="", periods=["month", "quarter"])
    tables = forecast_tables(complete, "2025-Q4", settings, delivered)
    assert tables["forecast"].empty and tables["series_forecast"] == 3
    accuracy = tables["accuracy"]
    assert "cv" not in set(accuracy["source"])
    listed = accuracy[accuracy["source"] == "not_forecast"]
    assert sorted(zip(listed["series"], listed["period"], strict=True)) == [
        ("all_stalking", "month"),
        ("all_stalking", "quarter"),
        ("online", "month"),
    ]


def test_a_series_with_complete_periods_is_not_listed_twice() -> None:
    months = pd.date_range("2021-04-01", periods=48, freq="MS").date
    complete = pd.DataFrame(
        {"series": "all_stalking", "period": "month", "period_start": months, "value": 50}
    )
    delivered = pd.DataFrame({"series": ["all_stalking", "online"], "period": ["month", "month"]})
    tables = forecast_tables(complete, "2025-Q1", ForecastSettings(error_pool_file=""), delivered)
    not_forecast = tables["accuracy"].query("source == 'not_forecast'")
    assert list(not_forecast["series"]) == ["online"]
    assert "all_stalking" in set(tables["forecast"]["series"])
