"""Which models a run fits, and the back-test's choices of ensemble membership and interval
calibration errors."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from pipelines.evaluation.forecast_backtest import (
    LEAVE_FORCES_OUT,
    TIME_ORDERED,
    calibration_errors,
    choose_combination,
    combination_rows,
)
from pipelines.forecasting.core import ForecastParams, fitted_models, forecast_series
from pipelines.settings import ForecastSettings


def _series(n_series: int = 2, n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    t = np.arange(n)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "series": f"s{i}",
                    "period_start": pd.date_range("2015-01-01", periods=n, freq="QS"),
                    "value": rng.poisson(50 + 2 * t + 10 * np.sin(2 * np.pi * t / 4)),
                }
            )
            for i in range(n_series)
        ],
        ignore_index=True,
    )


def test_a_run_fits_the_baselines_candidates_and_members_only() -> None:
    params = ForecastParams(models=("ensemble",), ensemble_members=("theta", "arima"))
    assert fitted_models(params) == ("naive", "seasonal_naive", "theta", "arima")
    candidates: list[pd.DataFrame] = []
    table, info = forecast_series(_series(), 8, params, candidates=candidates)
    wide = candidates[0]
    assert "ets" not in wide and {"naive", "theta", "arima", "ensemble"} <= set(wide)
    # The ensemble is the mean of its members.
    assert np.allclose(wide["ensemble"], (wide["theta"] + wide["arima"]) / 2)
    assert set(info["model"]) == {"ensemble"}
    assert np.isfinite(info["cv_mase_naive"]).all() and info["cv_mase_ets"].isna().all()
    # Models fitted for comparison are never chosen.
    extra = replace(params, extra_models=("ets",))
    _, extra_info = forecast_series(_series(), 8, extra)
    assert set(extra_info["model"]) == {"ensemble"} and np.isfinite(extra_info["cv_mase_ets"]).all()


def test_settings_refuse_an_unknown_model() -> None:
    with pytest.raises(ValidationError):
        ForecastSettings(ensemble_members=["prophet"])
    with pytest.raises(ValidationError):
        ForecastSettings(models=[])


def test_the_combination_chosen_is_the_best_held_in() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for force in ("a", "b", "c", "d"):
        for step in range(1, 9):
            actual = 100 + rng.normal(0, 5)
            rows.append(
                {
                    "series": force,
                    "origin": pd.Timestamp("2015-01-01"),
                    "step": step,
                    "actual": actual,
                    "scale": 5.0,
                    "naive": actual + 20,
                    "seasonal_naive": actual + 30,
                    # theta and arima err in opposite directions: their mean is exact.
                    "theta": actual - 10,
                    "arima": actual + 10,
                    "ets": actual + 15,
                }
            )
    frame = pd.DataFrame(rows)
    combos = combination_rows(frame, "x", 4, {"held_in": {"a", "b"}, "held_out": {"c", "d"}})
    assert choose_combination(combos) == "theta+arima"
    best = next(r for r in combos if r["members"] == "theta+arima" and r["split"] == "held_out")
    assert best["ratio_1y"] == pytest.approx(0.0) and best["ratio_2y"] == pytest.approx(0.0)


def test_calibration_errors_never_see_the_scored_force_future_or_the_held_out_forces() -> None:
    dates = pd.date_range("2010-01-01", periods=6, freq="YS")
    results = pd.DataFrame(
        [{"series": s, "period_start": d} for s in ("in1", "in2", "out1") for d in dates]
    )
    origin = dates[2]
    held_in = {"in1", "in2"}
    ordered = calibration_errors(results, origin, "out1", TIME_ORDERED, held_in)
    assert (ordered["period_start"] <= origin).all() and set(ordered["series"]) == set(
        results["series"]
    )
    cross = calibration_errors(results, origin, "out1", LEAVE_FORCES_OUT, held_in)
    own = cross[cross["series"] == "out1"]
    assert (own["period_start"] <= origin).all() and len(own) == 3
    assert len(cross[cross["series"].isin(held_in)]) == 12
    # A held-in force scored: the other held-in forces and its own past only.
    scored_in = calibration_errors(results, origin, "in1", LEAVE_FORCES_OUT, held_in)
    assert set(scored_in["series"]) == {"in1", "in2"}
    assert (scored_in.loc[scored_in["series"] == "in1", "period_start"] <= origin).all()
    assert "out1" not in set(scored_in["series"])


def test_stable_recording_calibration_leaves_out_errors_through_the_recording_change() -> None:
    from pipelines.evaluation.forecast_backtest import _with_errors
    from pipelines.forecasting.error_pool import STABLE_RECORDING

    starts = pd.date_range("2011-04-01", periods=5, freq="YS-APR")
    results = pd.DataFrame(
        {
            "series": "in1",
            "period_start": starts,
            "step": range(1, 6),
            "actual": 100.0,
            "chosen": 90.0,
        }
    )
    flagged = _with_errors(results, 1, "2014-04-01")
    # Annual totals: the year starting April 2013 ends on the change; the next one spans it.
    assert flagged["stable_recording"].tolist() == [True, True, True, False, False]
    kept = calibration_errors(
        flagged, starts[-1], "out1", LEAVE_FORCES_OUT, {"in1"}, STABLE_RECORDING
    )
    assert kept["period_start"].max() == pd.Timestamp("2013-04-01")
    quarterly = results.assign(period_start=pd.date_range("2013-10-01", periods=5, freq="QS"))
    # Rolling-year totals by quarter: the year ending March 2014 is the last stable one.
    assert _with_errors(quarterly, 4, "2014-04-01")["stable_recording"].tolist() == [
        True,
        True,
        False,
        False,
        False,
    ]


def test_the_backtest_markdown_keeps_the_hand_written_notes(tmp_path) -> None:
    from pipelines.evaluation.bench_analysis import NOTES_MARKER
    from pipelines.evaluation.forecast_backtest import write_markdown

    md = tmp_path / "forecast_backtest.md"
    write_markdown(md, "# Tables\n\n| a |\n")
    assert md.read_text().startswith("# Tables") and NOTES_MARKER in md.read_text()
    md.write_text(md.read_text() + "## My analysis\n\nFigures and why.\n")
    write_markdown(md, "# Tables, regenerated\n")
    text = md.read_text()
    assert "# Tables, regenerated" in text and "| a |" not in text
    assert text.split(NOTES_MARKER, 1)[1].strip() == "## My analysis\n\nFigures and why."
    assert text.count(NOTES_MARKER) == 1
