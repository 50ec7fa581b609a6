"""Pooled scale-free error intervals and the FMS tracking signal."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.forecasting import ForecastParams
from pipelines.forecasting.core import pooled_error_intervals, pooled_error_quantiles
from pipelines.forecasting.tracking import forecast_tracking


def test_pooled_quantiles_are_the_scale_free_errors_of_each_step() -> None:
    rng = np.random.default_rng(0)
    series, windows, h = 30, 4, 3
    u = rng.normal(0.5, 1.0, (series, windows, h)) * np.arange(1, h + 1)  # grows with k
    scale = rng.uniform(1, 50, (series, windows))
    mean = rng.uniform(100, 200, (series, windows, h))
    actual = mean + u * scale[..., None]
    q = pooled_error_quantiles(mean, actual, scale, (80, 95))
    for k in range(h):
        assert np.isclose(q[80][0][k], np.quantile(u[..., k], 0.1, method="lower"))
        assert np.isclose(q[95][1][k], np.quantile(u[..., k], 0.975, method="higher"))
    # Signed: the bias (errors centred above 0) shifts the interval up; wider further ahead.
    assert (q[80][1] > -q[80][0]).all()
    assert (np.diff(q[95][1]) >= 0).all() and (np.diff(q[95][0]) <= 0).all()
    # Too few errors for a step: no pooled quantiles (the caller falls back).
    assert pooled_error_quantiles(mean[:2], actual[:2], scale[:2], (80,)) is None


def test_pooled_intervals_extend_beyond_the_cv_horizon_nest_and_hold_the_forecast() -> None:
    final = np.zeros((2, 6, 5))
    final[..., 0] = 100.0
    q = {
        80: (np.array([-0.5, -0.5]), np.array([1.0, 1.5])),
        95: (np.array([-1.0, -1.2]), np.array([2.0, 2.5])),
    }
    out = pooled_error_intervals(final, q, np.array([2.0, 10.0]), (80, 95), "linear")
    lo80, hi80, lo95, hi95 = out[..., 1], out[..., 2], out[..., 3], out[..., 4]
    # Steps 1-2 from the CV quantiles; steps 3-6 the last one x k / 2.
    assert np.allclose(hi80[1], 100 + 10 * np.array([1.0, 1.5, 2.25, 3.0, 3.75, 4.5]))
    assert np.allclose(lo80[0], 100 - 2 * np.array([0.5, 0.5, 0.75, 1.0, 1.25, 1.5]))
    assert (lo95 <= lo80).all() and (hi80 <= hi95).all()
    sqrt = pooled_error_intervals(final, q, np.array([2.0, 10.0]), (80, 95), "sqrt")
    expected = np.r_[1.0, 1.5 * np.sqrt(np.arange(2, 7) / 2)]
    assert np.allclose(sqrt[1, :, 2], 100 + 10 * expected)
    # A one-sided error pool still keeps the forecast inside its interval.
    one_sided = {80: (np.array([0.5]), np.array([1.0]))}
    bounded = pooled_error_intervals(final, one_sided, np.ones(2), (80,), "linear")
    assert (bounded[..., 1] <= bounded[..., 0]).all()


def _monthly(name: str, values: np.ndarray) -> pd.DataFrame:
    ds = pd.date_range("2019-01-01", periods=len(values), freq="MS")
    return pd.DataFrame({"series": name, "period_start": ds, "value": values})


def test_tracking_flags_a_quarter_outside_last_quarters_interval() -> None:
    rng = np.random.default_rng(3)
    n = 60  # 2019-01 .. 2023-12; the run's quarter is 2023-Q4
    steady = 100 + rng.normal(0, 3, n)
    jump = steady.copy()
    jump[-3:] += 80  # the latest quarter leaps up
    drop = steady.copy()
    drop[-3:] -= 60
    data = pd.concat([_monthly("steady", steady), _monthly("jump", jump), _monthly("drop", drop)])
    out = forecast_tracking(data, "2023-Q4", ForecastParams(cv_windows=8)).set_index("series")
    assert out.loc["jump", "outside_interval"] and out.loc["jump", "direction"] == "above"
    assert out.loc["drop", "outside_interval"] and out.loc["drop", "direction"] == "below"
    assert not out.loc["steady", "outside_interval"] and out.loc["steady", "direction"] == "within"
    assert np.isclose(out.loc["jump", "actual"], jump[-3:].sum())
    # The interval was forecast from the data before the quarter: identical for all three.
    assert np.isclose(out.loc["jump", "lo80"], out.loc["steady", "lo80"])
    # An incomplete quarter gets no row.
    assert forecast_tracking(data, "2024-Q1", ForecastParams(cv_windows=8)).empty


def test_too_short_or_irregular_series_are_listed_not_forecast_and_do_not_crash() -> None:
    from pipelines.forecasting import forecast_series
    from pipelines.forecasting.accuracy import cv_accuracy_rows

    months = pd.date_range("2023-01-01", periods=24, freq="MS")
    frame = pd.concat(
        [
            pd.DataFrame({"series": "long|month", "period_start": months, "value": 10.0}),
            # one delivery day: one period, whose frequency cannot even be inferred
            pd.DataFrame({"series": "one_day|month", "period_start": [months[-1]], "value": 3}),
            pd.DataFrame({"series": "few|month", "period_start": months[-3:], "value": [1, 2, 3]}),
        ],
        ignore_index=True,
    )
    params = ForecastParams(models=("seasonal_naive", "ets"), min_periods=6)
    table, info = forecast_series(frame, 3, params)
    forecast = table[table["kind"] == "forecast"]
    assert set(forecast["series"]) == {"long|month"}
    # Their recorded values stay in the table; the summary says why they were not forecast.
    assert set(table.loc[table["kind"] == "actual", "series"]) == set(frame["series"])
    reasons = info.set_index("series")["not_forecast"]
    assert reasons["long|month"] == ""
    assert reasons["one_day|month"].startswith("not enough history (1 periods")
    assert reasons["few|month"].startswith("not enough history (3 periods")
    rows = cv_accuracy_rows(info, "|")
    assert {r["series"] for r in rows if r["source"] == "not_forecast"} == {"one_day", "few"}
    assert sum(r["is_chosen"] for r in rows) == 1
    # Nothing long enough at all: an empty forecast, not an error.
    table, info = forecast_series(frame[frame["series"] != "long|month"], 3, params)
    assert (table["kind"] == "actual").all() and len(info) == 2


def test_error_pool_quantiles_by_years_ahead_and_the_union_interval(tmp_path) -> None:
    import json
    import math

    from pipelines.forecasting.error_pool import (
        ANNUAL,
        log_errors,
        pool_bounds,
        pool_quantiles,
        pool_to_json,
        pooled_interval,
        read_error_pool,
    )

    rng = np.random.default_rng(1)
    years = np.repeat([0.5, 1.0, 2.0], 400)
    errors = rng.normal(0.1, 0.2, len(years)) * np.sqrt(years)
    pool = pool_quantiles(years, errors, (80, 95))
    by = {(r.years_ahead, r.level): r for r in pool}
    assert set(by) == {(y, lv) for y in (0.5, 1.0, 2.0) for lv in (80, 95)}
    one = np.sort(errors[years == 1.0])
    # Split-conformal ranks with the finite-sample correction: floor / ceil of (n + 1) x tail.
    assert np.isclose(by[(1.0, 80)].lo, one[math.floor(401 * 0.1) - 1])
    assert np.isclose(by[(1.0, 95)].hi, one[math.ceil(401 * 0.975) - 1])
    assert by[(2.0, 80)].hi >= by[(1.0, 80)].hi >= by[(0.5, 80)].hi  # never narrows
    # Too few errors at a horizon: that horizon has no row; 30 errors hold an 80% rank but
    # not a 95% one (ceil(31 x 0.975) = 31 > 30).
    assert pool_quantiles(np.array([1.0] * 5), np.zeros(5), (80,)) == ()
    thirty = pool_quantiles(np.ones(30), rng.normal(0, 1, 30), (80, 95))
    assert {r.level for r in thirty} == {80}
    # Scale-free: the same log error is the same share of any forecast.
    assert np.isclose(log_errors(np.array([199.0]), np.array([99.0]))[0], np.log(2))
    lo, hi = pool_bounds(np.array([99.0, 9.0]), np.array([1.0, 1.0]), pool, 80)
    assert np.allclose((hi + 1) / np.array([100.0, 10.0]), np.exp(by[(1.0, 80)].hi))
    # Between horizons: interpolated; beyond the furthest: grown linearly from it.
    _, hi3 = pool_bounds(np.array([99.0]), np.array([3.0]), pool, 80, "linear")
    assert np.isclose(np.log((hi3[0] + 1) / 100), by[(2.0, 80)].hi * 1.5)
    # A pool of one kind says nothing about another.
    assert pool_bounds(np.array([99.0]), np.array([1.0]), pool, 80, kind=ANNUAL) is None
    # The union of the series' own interval and the pooled one, or the pooled one alone.
    own = {80: (np.array([90.0]), np.array([101.0])), 95: (np.array([80.0]), np.array([400.0]))}
    union = pooled_interval(np.array([99.0]), own, np.array([1.0]), pool, "linear")
    assert union[80][1][0] > 101.0 and union[95][1][0] == 400.0
    assert union[95][0][0] <= union[80][0][0] and union[95][1][0] >= union[80][1][0]
    alone = pooled_interval(np.array([99.0]), own, np.array([1.0]), pool, union=False)
    assert np.isclose(alone[80][1][0], hi[0]) and alone[95][1][0] < 400.0
    # Read back from the file the back-test writes (a declared input of the run).
    path = tmp_path / "pool.json"
    path.write_text(json.dumps(pool_to_json(pool, "test")))
    assert read_error_pool(path) == pool
    assert read_error_pool(tmp_path / "missing.json") == ()


def test_an_annual_series_takes_the_annual_pool_alone_or_joined_to_its_own() -> None:
    from dataclasses import replace

    from pipelines.forecasting import forecast_series
    from pipelines.forecasting.error_pool import ANNUAL, ROLLING_YEAR, PoolRow

    starts = pd.date_range("2005-04-01", periods=14, freq="YS-APR")
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"series": "a", "period_start": starts, "value": rng.poisson(300, 14)})
    pool = (
        PoolRow(1.0, 80, -0.2, 0.3, 50, ANNUAL),
        PoolRow(2.0, 80, -0.3, 0.6, 50, ANNUAL),
        PoolRow(1.0, 95, -0.4, 0.5, 50, ANNUAL),
        PoolRow(2.0, 95, -0.5, 0.9, 50, ANNUAL),
        # another kind's rows must not be used for an annual series
        PoolRow(1.0, 80, -0.01, 0.01, 50, ROLLING_YEAR),
    )
    params = ForecastParams(models=("theta",), cv_windows=2, error_pool=pool)
    alone, info = forecast_series(frame, 2, replace(params, error_pool_composition="pool"))
    alone = alone[alone["kind"] == "forecast"]
    ratio = np.log((alone["hi80"].to_numpy() + 1) / (alone["value"].to_numpy() + 1))
    assert np.allclose(ratio, [0.3, 0.6])
    assert info["interval_method"].iloc[0] == "error_pool"
    joined, info = forecast_series(frame, 2, replace(params, error_pool_composition="union"))
    joined = joined[joined["kind"] == "forecast"]
    assert (joined["hi80"].to_numpy() >= alone["hi80"].to_numpy() - 1e-9).all()
    assert info["interval_method"].iloc[0].endswith("+error_pool")


def test_pool_by_month_gives_the_bounds_of_a_total_that_many_months_ahead() -> None:
    from pipelines.forecasting.error_pool import PoolRow, pool_by_month

    pool = (PoolRow(0.25, 80, -0.1, 0.2, 60), PoolRow(1.0, 80, -0.2, 0.5, 60))
    rows = {r["months_ahead"]: r for r in pool_by_month(pool, 18, (80, 95))}
    assert sorted(rows) == list(range(1, 19))  # no 95% rows in the pool: none written
    assert np.isclose(rows[3]["upper_log_ratio"], 0.2)
    assert np.isclose(rows[12]["upper_log_ratio"], 0.5)
    assert np.isclose(rows[18]["upper_log_ratio"], 0.75)  # beyond: grown linearly
    assert np.isclose(rows[6]["lower_log_ratio"], -0.1 - 0.1 * (0.25 / 0.75))
    assert pool_by_month((), 12, (80,)) == []


def test_forecast_series_widens_with_the_pool_and_says_so() -> None:
    from dataclasses import replace

    from pipelines.forecasting import forecast_series
    from pipelines.forecasting.error_pool import PoolRow

    months = pd.date_range("2020-01-01", periods=36, freq="MS")
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {"series": "s", "period_start": months, "value": rng.poisson(40, len(months))}
    )
    params = ForecastParams(models=("seasonal_naive", "ets"), cv_windows=2)
    pool = (PoolRow(1.0, 80, -0.5, 0.7, 100), PoolRow(1.0, 95, -0.9, 1.2, 100))
    own, _ = forecast_series(frame, 24, params)
    wide, info = forecast_series(frame, 24, replace(params, error_pool=pool))
    own, wide = own[own["kind"] == "forecast"], wide[wide["kind"] == "forecast"]
    assert np.allclose(own["value"], wide["value"])  # the pool widens, never moves the forecast
    assert (wide["hi80"].to_numpy() >= own["hi80"].to_numpy()).all()
    assert (wide["lo80"].to_numpy() <= own["lo80"].to_numpy()).all()
    # Every month of the 2nd year ahead: the pooled bound (the 1-year quantile grown linearly
    # to 2 years) is the wider one; months of the 1st year take the 1-year quantile.
    ratio = np.log((wide["hi80"].to_numpy() + 1) / (wide["value"].to_numpy() + 1))
    assert np.allclose(ratio[12:], 1.4)
    assert (ratio[:12] >= 0.7 - 1e-9).all()
    assert (wide["lo95"] <= wide["lo80"]).all() and (wide["hi95"] >= wide["hi80"]).all()
    assert info["interval_method"].iloc[0].endswith("+error_pool")


def test_the_pool_of_one_regime_is_read_and_errors_through_the_recording_change_left_out(
    tmp_path,
) -> None:
    import json

    from pipelines.forecasting.error_pool import (
        ALL_ERRORS,
        STABLE_RECORDING,
        PoolRow,
        pool_by_month,
        pool_to_json,
        read_error_pool,
        stable_recording,
    )

    # A target ending on the change date is still stable; one ending a day later is not.
    ends = pd.to_datetime(["2013-04-01", "2014-04-01", "2014-04-02", "2016-04-01"])
    assert stable_recording(ends, "2014-04-01").tolist() == [True, True, False, False]
    stable = (PoolRow(1.0, 80, -0.1, 0.2, 40, regime=STABLE_RECORDING),)
    every = (PoolRow(1.0, 80, -0.1, 0.9, 60, regime=ALL_ERRORS),)
    path = tmp_path / "pool.json"
    path.write_text(json.dumps(pool_to_json(stable + every, "test")))
    assert read_error_pool(path, STABLE_RECORDING) == stable
    assert read_error_pool(path, ALL_ERRORS) == every
    # A file written before regimes existed was built from every error.
    legacy = {"rows": [{k: v for k, v in every[0].__dict__.items() if k != "regime"}]}
    path.write_text(json.dumps(legacy))
    assert read_error_pool(path, ALL_ERRORS) == every
    assert read_error_pool(path, STABLE_RECORDING) == ()
    assert {r["regime"] for r in pool_by_month(stable, 12, (80,))} == {STABLE_RECORDING}


def test_ensemble_members_are_floored_at_zero_before_averaging() -> None:
    from pipelines.forecasting.core import not_below_zero

    members = [np.array([-40.0, 10.0, np.nan]), np.array([20.0, 30.0, 5.0])]
    floored = np.mean([not_below_zero(m) for m in members], axis=0)
    # A member below zero counts as zero, not as a negative count pulling the mean down.
    assert floored[0] == 10.0 and floored[1] == 20.0 and np.isnan(floored[2])


def test_a_symmetric_pool_puts_the_quantile_of_absolute_errors_on_both_sides(tmp_path) -> None:
    import json
    import math

    from pipelines.forecasting.error_pool import (
        SIGNED,
        SYMMETRIC,
        conformal_bounds,
        pool_quantiles,
        pool_to_json,
        read_error_pool,
    )

    rng = np.random.default_rng(7)
    # Errors leaning one way (the forces in the pool mostly outgrew the forecast).
    errors = rng.normal(0.15, 0.2, 199)
    lo, hi = conformal_bounds(errors, 80, SYMMETRIC)
    size = np.sort(np.abs(errors))
    assert hi == -lo == size[math.ceil(200 * 0.8) - 1]
    # At least the level of the errors fall inside, whatever their sign.
    assert np.mean(np.abs(errors) <= hi) >= 0.8
    # The signed bounds follow the lean; the symmetric ones do not.
    signed_lo, signed_hi = conformal_bounds(errors, 80, SIGNED)
    assert signed_hi > hi and signed_lo > lo
    assert conformal_bounds(errors[:3], 80, SYMMETRIC) is None  # rank beyond the errors
    years = np.repeat([1.0, 2.0], 100)
    pool = pool_quantiles(years, rng.normal(0.1, 0.2, 200) * years, (80, 95), sides=SYMMETRIC)
    assert all(np.isclose(r.lo, -r.hi) and r.sides == SYMMETRIC for r in pool)
    by = {(r.years_ahead, r.level): r.hi for r in pool}
    assert by[(2.0, 80)] >= by[(1.0, 80)] and by[(1.0, 95)] >= by[(1.0, 80)]
    # The file holds both; the run reads the configured sides only.
    signed = pool_quantiles(years, rng.normal(0.1, 0.2, 200), (80,), sides=SIGNED)
    path = tmp_path / "pool.json"
    path.write_text(json.dumps(pool_to_json(pool + signed, "test")))
    assert read_error_pool(path, sides=SYMMETRIC) == pool
    assert read_error_pool(path, sides=SIGNED) == signed


def test_the_pool_sides_closest_to_nominal_on_the_held_in_forces_are_chosen() -> None:
    from pipelines.evaluation.forecast_backtest import (
        LEAVE_FORCES_OUT,
        POOL_ONLY,
        STABLE_TARGETS,
        UNION,
        choose_sides,
    )

    def row(dataset, variant, sides, split, cov80, cov95):
        return {
            "dataset": dataset,
            "variant": variant,
            "protocol": LEAVE_FORCES_OUT,
            "regime": "stable_recording",
            "scored": STABLE_TARGETS,
            "sides": sides,
            "split": split,
            **{f"cov80_{h}": cov80 for h in ("1y", "2y")},
            **{f"cov95_{h}": cov95 for h in ("1y", "2y")},
        }

    published = {"ho_annual": POOL_ONLY, "ho_rolling_quarterly": UNION}
    rows = [
        row("ho_annual", POOL_ONLY, "signed", "held_in", 0.70, 0.95),
        row("ho_annual", POOL_ONLY, "symmetric", "held_in", 0.80, 0.94),
        row("ho_rolling_quarterly", UNION, "signed", "held_in", 0.80, 0.95),
        row("ho_rolling_quarterly", UNION, "symmetric", "held_in", 0.82, 0.95),
        # held-out rows never decide, however close to nominal they are
        row("ho_annual", POOL_ONLY, "signed", "held_out", 0.80, 0.95),
        row("ho_annual", POOL_ONLY, "symmetric", "held_out", 0.50, 0.60),
    ]
    chosen, gaps = choose_sides(rows, published, "stable_recording", STABLE_TARGETS)
    assert chosen == "symmetric"
    assert np.isclose(gaps["signed"], 0.2) and np.isclose(gaps["symmetric"], 0.06)
    # Only the published variants count: the pool alone of the annual series decides there.
    rows.append(row("ho_annual", UNION, "symmetric", "held_in", 0.0, 0.0))
    assert choose_sides(rows, published, "stable_recording", STABLE_TARGETS)[0] == "symmetric"


def test_a_series_held_by_month_and_by_quarter_is_tracked_once_from_its_months() -> None:
    rng = np.random.default_rng(11)
    values = 100 + rng.normal(0, 3, 60)
    months = _monthly("s", values).assign(period="month")
    quarters = (
        months.assign(period_start=months["period_start"].dt.to_period("Q").dt.start_time)
        .groupby(["series", "period_start"], as_index=False)["value"]
        .sum()
        .assign(period="quarter")
    )
    params = ForecastParams(cv_windows=8)
    both = forecast_tracking(pd.concat([months, quarters]), "2023-Q4", params)
    alone = forecast_tracking(months.drop(columns="period"), "2023-Q4", params)
    # The quarter's recorded count once (not the months plus the quarter's own total), and
    # the interval forecast from the months alone.
    assert np.isclose(both["actual"].iloc[0], values[-3:].sum())
    pd.testing.assert_frame_equal(both, alone)
