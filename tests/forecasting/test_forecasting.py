"""Forecasting: recovers a planted trend + seasonality, intervals nest and widen, a configured
break is fitted after, frequency inference, the CV plan (fit once and roll forward vs refit),
interval calibration from CV errors, the `spp forecast` entry point and the FMS table."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.forecasting import ForecastParams, forecast_file, forecast_series, infer_frequency
from pipelines.forecasting.core import (
    Frequency,
    apply_break,
    choose,
    cv_plan,
    interval_scale,
)

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


def test_cv_plan_fits_long_series_once_and_refits_short_ones() -> None:
    month = Frequency("month", "MS", 12)
    long = cv_plan(72, 12, month, 48, ForecastParams(cv_windows=3))
    # One year ahead, origins a quarter apart; fitted once on >= half the data.
    assert (long.h, long.step, long.windows, long.refit) == (12, 3, 3, False)
    assert long.held_out() == [18, 15, 12] and 72 - long.test_size >= 36
    short = cv_plan(40, 12, month, 48, ForecastParams(cv_windows=3))
    assert short.refit and short.windows >= 1
    year = Frequency("year", "YS-APR", 1)
    annual = cv_plan(9, 1, year, 2, ForecastParams(cv_windows=3))
    assert (annual.h, annual.step, annual.windows, annual.refit) == (2, 1, 2, True)
    # Too short for any origin: no CV, the model is fitted on everything.
    assert cv_plan(7, 1, year, 2, ForecastParams()).windows == 0


def _bump_then_flat() -> pd.DataFrame:
    """60 months: a level, a rise to a peak in the fourth year, then flat below the peak (the
    demo force's shape: the fit made before the first CV origin ends at the peak)."""
    rng = np.random.default_rng(7)
    level = np.r_[np.full(24, 60.0), np.linspace(60, 80, 12), np.full(6, 78.0), np.full(18, 66.0)]
    return pd.DataFrame(
        {
            "series": "bump",
            "period_start": pd.date_range("2021-10-01", periods=60, freq="MS"),
            "value": np.round(level + rng.normal(0, 4, 60)),
        }
    )


@pytest.mark.parametrize("drift", [True, False])
def test_long_series_forecast_is_fitted_on_all_the_data_when_configured(drift: bool) -> None:
    frame = _bump_then_flat()
    y = frame["value"].to_numpy(float)
    params = ForecastParams(extra_models=("arima",), arima_drift=drift)
    plan = cv_plan(len(y), 12, Frequency("month", "MS", 12), 24, params)
    assert not plan.refit  # the long-series path: fitted once before the first CV origin
    forecasts = {}
    for refit_final in (False, True):
        candidates: list[pd.DataFrame] = []
        forecast_series(frame, 24, replace(params, refit_final=refit_final), candidates)
        forecasts[refit_final] = candidates[0]["arima"].to_numpy()
    # Refitted: the same model search on all 60 months; otherwise the fit on the months before
    # the first origin, rolled forward with its parameters fixed.
    assert np.allclose(forecasts[True], _arima_fit(y, drift).predict(24)["mean"])
    early = _arima_fit(y[: len(y) - plan.test_size], drift)
    assert np.allclose(forecasts[False], early.forward(y=y, h=24)["mean"])
    assert not np.allclose(forecasts[True], forecasts[False])


def _arima_fit(y: np.ndarray, drift: bool):
    """The pipeline's ARIMA (the same bounded search) fitted by statsforecast on `y` alone."""
    from pipelines.forecasting.core import _base_models

    (model,) = _base_models(12, ("arima",), arima_drift=drift)
    return model.fit(y)


def _cv_with_errors(n_series: int, windows: int) -> tuple[np.ndarray, np.ndarray]:
    """Every interval is mean 0 +- 1 (80%) and +- 2 (95%); errors of 0.5 half-width at step 1
    growing to 3 at step 4 (random sign)."""
    rng = np.random.default_rng(0)
    shape = (n_series, windows, 4)
    cv = np.zeros((*shape, 5))
    cv[..., 1], cv[..., 2], cv[..., 3], cv[..., 4] = -1.0, 1.0, -2.0, 2.0
    growth = np.array([0.5, 1.0, 2.0, 3.0])
    actual = growth * rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.9, 1.0, size=shape)
    return cv, actual


def test_interval_scale_is_the_conformal_quantile_of_errors_in_half_widths() -> None:
    cv, actual = _cv_with_errors(4, 5)  # 20 scores per step: one factor per step
    factors = interval_scale(cv, actual, (80, 95))
    assert factors[80].shape == (4,)
    for k in range(4):
        scores = np.sort(np.abs(actual[..., k]).ravel())
        # Calibration only widens: a factor below 1 (step 1 here) is raised to 1.
        expected80 = max(1.0, scores[int(np.ceil(21 * 0.8)) - 1])
        expected95 = max(1.0, scores[int(np.ceil(21 * 0.95)) - 1] / 2)
        assert factors[80][k] == pytest.approx(expected80)
        assert factors[95][k] == pytest.approx(expected95)
    assert factors[80][0] == 1.0 and factors[80][-1] > 2.5
    assert (np.diff(factors[80]) >= 0).all()


def test_interval_scale_pools_the_steps_when_there_are_few_scores() -> None:
    cv, actual = _cv_with_errors(2, 3)  # 6 scores per step: one factor for every step
    factors = interval_scale(cv, actual, (80, 95))
    pooled80 = np.sort(np.abs(actual).ravel())[int(np.ceil(25 * 0.8)) - 1]
    pooled95 = np.sort((np.abs(actual) / 2).ravel())[int(np.ceil(25 * 0.95)) - 1]
    assert np.allclose(factors[80], pooled80) and np.allclose(factors[95], pooled95)


def test_published_intervals_are_the_models_own_rescaled_by_the_cv_factor() -> None:
    rng = np.random.default_rng(11)
    n = 72
    frames = []
    for i in range(4):
        jumps = np.cumsum(rng.choice([0.0, 80.0, -60.0], size=n, p=[0.86, 0.08, 0.06]))
        ds = pd.date_range("2018-01-01", periods=n, freq="MS")
        value = 200 + jumps + rng.normal(0, 5, n)
        frames.append(pd.DataFrame({"series": f"s{i}", "period_start": ds, "value": value}))
    data = pd.concat(frames, ignore_index=True)
    candidates: list[pd.DataFrame] = []
    params = ForecastParams(cv_windows=4, interval_method="conformal_scale")
    table, info = forecast_series(data, 24, params, candidates=candidates)
    wide = candidates[0]
    assert (info["cv_windows"] == 4).all() and np.isfinite(info["interval_scale80"]).all()
    for model in (*params.ensemble_members, "ensemble"):
        mean, lo, native_lo = wide[model], wide[f"{model}-lo-80"], wide[f"{model}-native-lo-80"]
        factor = (mean - lo) / (mean - native_lo)
        # One factor per step ahead, shared by every series; constant after the CV year.
        step = wide.groupby("unique_id").cumcount()
        per_step = factor.groupby(step).agg(["min", "max"])
        assert np.allclose(per_step["min"], per_step["max"])
        assert np.allclose(per_step["min"].iloc[11:], per_step["min"].iloc[11])
        assert (per_step["min"].diff().dropna() >= -1e-9).all()
    fc = table[table["kind"] == "forecast"]
    assert (fc["lo95"] <= fc["lo80"] + 1e-9).all() and (fc["hi80"] <= fc["hi95"] + 1e-9).all()
    # Without calibration the published interval is the model's own.
    plain, plain_info = forecast_series(data, 24, ForecastParams(cv_windows=4, calibrate=False))
    assert (plain_info["interval_scale80"] == 1).all()


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
    chosen = choose(scores, ["a", "b", "c"], ("ets", "theta", "ensemble"), pool_weight=0)
    assert chosen == {"a": "ensemble", "b": "ets", "c": "ensemble"}


def test_choose_shrinks_each_series_towards_the_group() -> None:
    # Series a alone would keep the ensemble (ETS only 5% better); across the group ETS is
    # clearly better, so half-pooled scores pick ETS for a too. Theta's one lucky series
    # (c) is not enough to pick it there.
    scores = pd.DataFrame(
        {
            "unique_id": ["a"] * 3 + ["b"] * 3 + ["c"] * 3,
            "model": ["ets", "theta", "ensemble"] * 3,
            "mase": [0.95, 1.2, 1.0, 0.5, 1.2, 1.0, 0.9, 0.8, 1.0],
        }
    )
    alone = choose(scores, ["a", "b", "c"], ("ets", "theta", "ensemble"), pool_weight=0)
    pooled = choose(scores, ["a", "b", "c"], ("ets", "theta", "ensemble"))
    assert alone == {"a": "ensemble", "b": "ets", "c": "theta"}
    assert pooled == {"a": "ets", "b": "ets", "c": "ets"}


def test_forecast_file_quarterly_series(tmp_path) -> None:
    rng = np.random.default_rng(8)
    rows = []
    for name, base in (("all_stalking", 400), ("online", 120)):
        starts = pd.date_range("2016-01-01", periods=36, freq="QS-JAN")
        values = base + 5 * np.arange(36) + rng.normal(0, 10, 36)
        rows.append(pd.DataFrame({"series": name, "period_start": starts.date, "value": values}))
    src = tmp_path / "demand.csv"
    pd.concat(rows).to_csv(src, index=False)
    written = forecast_file(src, horizon=8, out=None)
    out = written.path
    assert out == tmp_path / "demand_forecast.csv" and written.not_forecast == {}
    table = pd.read_csv(out)
    required = ["series", "period_start", "kind", "value", "lo80", "hi80", "lo95", "hi95", "model"]
    assert list(table.columns[: len(required)]) == required
    fc = table[table["kind"] == "forecast"]
    assert fc.groupby("series").size().to_dict() == {"all_stalking": 8, "online": 8}
    assert fc["period_start"].min() == "2025-01-01"
    assert set(fc["model"]) <= {"seasonal_naive", "ets", "theta", "arima", "ensemble"}
    # The same choice and intervals as the pipeline with the configured settings (incl. the
    # error pool read from its file).
    params = ForecastParams.from_settings()
    same, _ = forecast_series(pd.read_csv(src), 8, params)
    same = same[same["kind"] == "forecast"]
    assert list(fc["model"]) == list(same["model"])
    assert np.allclose(fc["hi80"], same["hi80"]) and np.allclose(fc["lo95"], same["lo95"])
    assert set(fc["interval_method"]) == set(same["interval_method"])
    assert all(m.endswith("+error_pool") for m in fc["interval_method"]) == bool(params.error_pool)


def _series_file(tmp_path, starts: list[str], values: list[str]) -> Path:
    src = tmp_path / "series.csv"
    pd.DataFrame({"series": "a", "period_start": starts, "value": values}).to_csv(src, index=False)
    return src


MONTHS_2020 = [f"2020-{m:02d}-01" for m in range(1, 13)]


@pytest.mark.parametrize(
    ("starts", "values", "said"),
    [
        ([], [], "no rows: a header only"),
        (
            MONTHS_2020,
            ["4"] * 11 + ["-3"],
            "column 'value' is negative (a count cannot be) on data row 12: '-3'",
        ),
        (
            MONTHS_2020,
            ["4"] * 5 + ["n/a"] + ["4"] * 6,
            "column 'value' is not a number on data row 6: 'n/a'",
        ),
        (MONTHS_2020, ["4"] * 11 + ["inf"], "column 'value' is infinite on data row 12"),
        (
            MONTHS_2020[:1] * 2 + MONTHS_2020[2:],
            ["4"] * 12,
            "the same series and period_start on more than one row (data rows 1, 2)",
        ),
        (
            ["January", *MONTHS_2020[1:]],
            ["4"] * 12,
            "column 'period_start' is not a date (YYYY-MM-DD) on data row 1: 'January'",
        ),
    ],
)
def test_forecast_file_stops_on_a_broken_series_naming_column_and_rows(
    tmp_path, starts, values, said
) -> None:
    """A series file is never summed, cut or changed in silence (a repeated period used to be
    summed, a negative count clipped to 0, a word read as a missing month)."""
    src = _series_file(tmp_path, starts, values)
    with pytest.raises(ValueError) as raised:
        forecast_file(src, horizon=4, out=None)
    assert str(raised.value).startswith(f"{src}: {said}")


@pytest.mark.parametrize(
    ("write", "said"),
    [
        # the codec's own message named neither the file nor the remedy
        (
            lambda src: src.write_bytes(
                "series,period_start,value\nRégion,2020-01-01,4\n".encode("latin-1")
            ),
            "not UTF-8 (byte 28 of the file): re-export as UTF-8",
        ),
        (
            lambda src: src.write_text("Series,Period_Start,value\na,2020-01-01,4\n"),
            "missing columns ['series', 'period_start'] (found ['Series', 'Period_Start']: "
            "column names are lower case)",
        ),
    ],
)
def test_forecast_file_names_an_unreadable_file_and_its_cause(tmp_path, write, said) -> None:
    src = tmp_path / "series.csv"
    write(src)
    with pytest.raises(ValueError) as raised:
        forecast_file(src, horizon=4, out=None)
    assert str(raised.value) == f"{src}: {said}"


def test_periods_dated_by_their_last_day_are_forecast_as_by_their_first(tmp_path) -> None:
    """Home Office tables date a period by its end ("12 months ending 31-03-2003"): a series
    file dated so is forecast, with the values of the same series dated by first days."""
    rng = np.random.default_rng(3)
    values = [str(v) for v in (200 + 10 * np.arange(24) + rng.integers(0, 30, 24))]
    quarters = pd.period_range("2015Q1", periods=24, freq="Q")
    by_start = _series_file(tmp_path, [str(q.start_time.date()) for q in quarters], values)
    by_end = tmp_path / "by_end.csv"
    pd.DataFrame(
        {"series": "a", "period_start": [str(q.end_time.date()) for q in quarters], "value": values}
    ).to_csv(by_end, index=False)
    start = pd.read_csv(forecast_file(by_start, horizon=4, out=str(tmp_path / "s.csv")).path)
    end = pd.read_csv(forecast_file(by_end, horizon=4, out=str(tmp_path / "e.csv")).path)
    assert (end["kind"] == "forecast").sum() == 4
    columns = ["kind", "value", "lo80", "hi80", "lo95", "hi95", "model"]
    pd.testing.assert_frame_equal(start[columns], end[columns])


def test_forecast_file_says_which_series_it_did_not_forecast(tmp_path) -> None:
    """A series too short to forecast keeps its actuals and is named with the reason; an empty
    value is a period with no figure, kept missing."""
    src = _series_file(tmp_path, MONTHS_2020[:2], ["5", ""])
    written = forecast_file(src, horizon=4, out=None)
    assert written.not_forecast == {"a": "not enough history (1 periods; at least 6 needed)"}
    table = pd.read_csv(written.path)
    assert list(table["kind"]) == ["actual"] and table["value"].tolist() == [5]


def test_forecast_file_rejects_bad_input(tmp_path) -> None:
    src = tmp_path / "bad.csv"
    pd.DataFrame({"series": ["a"], "value": [1]}).to_csv(src, index=False)
    with pytest.raises(ValueError, match="period_start"):
        forecast_file(src, horizon=4, out=None)
