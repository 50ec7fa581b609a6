"""Forecasting: recovers a planted trend + seasonality, intervals nest and widen, a configured
break is fitted after, frequency inference, the `spp forecast` entry point and the FMS table."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipelines.forecasting import ForecastParams, forecast_file, forecast_series, infer_frequency
from pipelines.forecasting.core import apply_break, choose
from pipelines.forecasting.fms import apply_disclosure, fms_table

PARAMS = ForecastParams(cv_windows=2)


def _truth(t: np.ndarray) -> np.ndarray:
    return 200 + 1.5 * t + 30 * np.sin(2 * np.pi * t / 12)


@pytest.fixture(scope="module")
def seasonal_forecast() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(4)
    t = np.arange(72)
    frame = pd.DataFrame(
        {
            "series": "planted",
            "period_start": pd.date_range("2019-01-01", periods=72, freq="MS"),
            "value": np.round(_truth(t) + rng.normal(0, 4, 72)),
        }
    )
    return forecast_series(frame, 24, PARAMS)


def test_recovers_trend_and_seasonality(seasonal_forecast) -> None:
    table, info = seasonal_forecast
    fc = table[table["kind"] == "forecast"]
    assert len(fc) == 24
    truth = _truth(np.arange(72, 96))
    mape = np.mean(np.abs(fc["value"].to_numpy() - truth) / truth)
    assert mape < 0.05
    # The chosen model beats seasonal naive in CV on a trending seasonal series.
    assert info.loc[0, "cv_mase"] < info.loc[0, "cv_mase_seasonal_naive"]
    # The seasonal shape is there: forecast peaks and troughs a half-year apart.
    values = fc["value"].to_numpy()[:12]
    assert values.argmax() in (1, 2, 3, 4) and values.argmin() in (7, 8, 9, 10)


def test_intervals_nest_and_widen(seasonal_forecast) -> None:
    table, _ = seasonal_forecast
    fc = table[table["kind"] == "forecast"].reset_index(drop=True)
    assert (fc["lo95"] <= fc["lo80"] + 1e-9).all()
    assert (fc["lo80"] <= fc["value"] + 1e-9).all()
    assert (fc["value"] <= fc["hi80"] + 1e-9).all()
    assert (fc["hi80"] <= fc["hi95"] + 1e-9).all()
    width = fc["hi95"] - fc["lo95"]
    assert width.iloc[-1] > width.iloc[0]
    actual = table[table["kind"] == "actual"]
    assert actual["lo80"].isna().all() and len(actual) == 72


def test_configured_break_is_fitted_after() -> None:
    rng = np.random.default_rng(2)
    ds = pd.date_range("2015-01-01", periods=84, freq="MS")
    level = np.where(ds >= "2018-04-01", 300.0, 100.0)
    frame = pd.DataFrame({"series": "s", "period_start": ds, "value": level + rng.normal(0, 5, 84)})
    params = ForecastParams(cv_windows=2, break_dates=("2018-04-01",), break_method="refit")
    table, info = forecast_series(frame, 12, params)
    assert info.loc[0, "break_applied"].startswith("2018-04-01 refit")
    fc = table[table["kind"] == "forecast"]["value"]
    assert fc.between(270, 330).all()
    # Without the break the pre-break history drags at least the ensemble's level down.
    fitted, label = apply_break(pd.DataFrame({"ds": ds, "y": level}), ("2018-04-01",), "refit", 12)
    assert fitted["ds"].min() == pd.Timestamp("2018-04-01") and "refit" in label
    shifted, label = apply_break(
        pd.DataFrame({"ds": ds, "y": level}), ("2018-04-01",), "level_shift", 12
    )
    assert len(shifted) == 84 and shifted["y"].iloc[0] == pytest.approx(300.0)
    assert "level shift" in label
    # A break outside the series does nothing.
    same, label = apply_break(pd.DataFrame({"ds": ds, "y": level}), ("2030-01-01",), "refit", 12)
    assert label == "" and len(same) == 84


def test_infers_monthly_quarterly_and_annual_with_any_start_month() -> None:
    assert infer_frequency(pd.date_range("2020-01-01", periods=5, freq="MS")).name == "month"
    q = infer_frequency(pd.Series(pd.to_datetime(["2020-02-01", "2020-05-01", "2020-08-01"])))
    assert (q.name, q.alias) == ("quarter", "QS-FEB")
    a = infer_frequency(pd.Series(pd.to_datetime(["2016-04-01", "2017-04-01", "2018-04-01"])))
    assert (a.name, a.alias, a.periods_per_year) == ("year", "YS-APR", 1)
    with pytest.raises(ValueError):
        infer_frequency(pd.Series(pd.to_datetime(["2020-01-01", "2020-03-01", "2020-05-01"])))


def test_choose_prefers_the_ensemble_unless_clearly_beaten() -> None:
    scores = pd.DataFrame(
        {
            "unique_id": ["a"] * 3 + ["b"] * 3,
            "model": ["ets", "theta", "ensemble"] * 2,
            "mase": [0.95, 1.2, 1.0, 0.5, 1.2, 1.0],
        }
    )
    chosen = choose(scores, ["a", "b", "c"], ("ets", "theta", "ensemble"))
    assert chosen == {"a": "ensemble", "b": "ets", "c": "ensemble"}


def test_forecast_file_quarterly_series(tmp_path) -> None:
    rng = np.random.default_rng(8)
    rows = []
    for name, base in (("all_stalking", 400), ("online", 120)):
        starts = pd.date_range("2016-01-01", periods=36, freq="QS-JAN")
        values = base + 5 * np.arange(36) + rng.normal(0, 10, 36)
        rows.append(pd.DataFrame({"series": name, "period_start": starts.date, "value": values}))
    src = tmp_path / "demand.csv"
    pd.concat(rows).to_csv(src, index=False)
    out = forecast_file(src, horizon=8, out=None)
    assert out == tmp_path / "demand_forecast.csv"
    table = pd.read_csv(out)
    required = ["series", "period_start", "kind", "value", "lo80", "hi80", "lo95", "hi95", "model"]
    assert list(table.columns[: len(required)]) == required
    fc = table[table["kind"] == "forecast"]
    assert fc.groupby("series").size().to_dict() == {"all_stalking": 8, "online": 8}
    assert fc["period_start"].min() == "2025-01-01"
    assert set(fc["model"]) <= {"seasonal_naive", "ets", "theta", "arima", "ensemble"}


def test_forecast_file_rejects_bad_input(tmp_path) -> None:
    src = tmp_path / "bad.csv"
    pd.DataFrame({"series": ["a"], "value": [1]}).to_csv(src, index=False)
    with pytest.raises(ValueError, match="period_start"):
        forecast_file(src, horizon=4, out=None)


def test_fms_table_years_and_disclosure() -> None:
    months = pd.date_range("2024-04-01", "2025-12-01", freq="MS")
    future = pd.date_range("2026-01-01", "2030-03-01", freq="MS")
    actual = pd.DataFrame(
        {"series": "online", "period_start": months, "kind": "actual", "value": 2.0}
    )
    fc = pd.DataFrame(
        {
            "series": "online",
            "period_start": future,
            "kind": "forecast",
            "value": 3.0,
            "lo80": 2.0,
            "hi80": 4.0,
            "lo95": 1.0,
            "hi95": 5.0,
            "model": "ets",
            "cv_mase": 0.8,
            "break_applied": "",
        }
    )
    table = fms_table(pd.concat([actual, fc]), dt.date(2025, 12, 31), 4, {"backtest_x": 0.9})
    assert list(table["financial_year"]) == ["2025/26", "2026/27", "2027/28", "2028/29", "2029/30"]
    current = table.iloc[0]
    # Apr-Dec 2025 recorded (9 x 2) + Jan-Mar 2026 forecast (3 x 3).
    assert current["actual_to_date"] == 18 and current["value"] == 27
    assert current["lo95"] == 18 + 3 and current["hi95"] == 18 + 15
    assert table.iloc[1]["value"] == 36 and (table["backtest_x"] == 0.9).all()
    small = apply_disclosure(table.assign(lo95=[3, 3, 3, 3, 0]), min_count=5)
    assert list(small["lo95"]) == ["[c]"] * 4 + [0]
