"""The pooled drift: a growth shared by the series forecast together, estimated only from
what each origin knows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.forecasting.core import ForecastParams, forecast_series, pooled_drift, pooled_growth


def test_pooled_growth_is_the_median_over_series_and_ignores_one_outlier() -> None:
    years = np.arange(8)
    histories = [100 * 1.1**years, 300 * 1.1**years, 50 * 1.1**years, 10 * 3.0**years]
    g = pooled_growth([h.round() for h in histories], periods_per_year=1, years=3)
    assert abs(np.exp(g) - 1.1) < 0.01
    # Too short for the window: left out; nothing left: no growth.
    assert pooled_growth([np.array([5.0, 6.0])], periods_per_year=1, years=3) == 0.0


def test_pooled_growth_of_a_monthly_series_compares_annual_totals() -> None:
    months = np.arange(48)
    seasonal = 20 * (1 + 0.5 * np.sin(2 * np.pi * months / 12))
    growing = seasonal * 1.2 ** (months // 12)
    g = pooled_growth([growing], periods_per_year=12, years=2)
    # 20% a year, spread over the months.
    assert abs(np.exp(12 * g) - 1.2) < 0.01


def _annual(values: dict[str, list[float]]) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "series": name,
                    "period_start": pd.date_range("2008-04-01", periods=len(v), freq="YS-APR"),
                    "value": v,
                }
            )
            for name, v in values.items()
        ],
        ignore_index=True,
    )


def test_short_series_that_all_grow_are_forecast_to_keep_growing() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(9)
    values = {f"force{i}": list(rng.poisson(80 * (i + 1) * 1.15**t)) for i in range(6)}
    params = ForecastParams(models=("pooled_drift",))
    table, info = forecast_series(_annual(values), 2, params)
    assert set(info["model"]) == {"pooled_drift"}
    forecast = table[table["kind"] == "forecast"].set_index("series")
    for name, v in values.items():
        ahead = forecast.loc[name, "value"].to_numpy()
        # Last value grown by the shared ~15% a year, not repeated as naive would.
        assert v[-1] * 1.05 < ahead[0] < v[-1] * 1.3 and ahead[1] > ahead[0]
        assert (forecast.loc[name, "lo80"] <= ahead).all()
        assert (ahead <= forecast.loc[name, "hi80"]).all()


def test_the_pooled_growth_at_an_origin_uses_no_later_data() -> None:
    """Changing the data after a CV origin changes the final forecast but not the CV forecast
    made at that origin."""
    t = np.arange(10)
    before = [100.0 * (i + 1) * 1.1**t for i in range(4)]
    after = [np.r_[h[:-2], h[-2:] * 3] for h in before]
    base_cv = np.ones((4, 1, 2, 5))  # series, windows, h, mean/lo/hi columns
    base_final = np.ones((4, 2, 5))
    ends = [[8]] * 4  # the origin: 8 periods known
    runs = [pooled_drift(base_cv, base_final, h, ends, 1, 3) for h in (before, after)]
    assert np.allclose(runs[0][0], runs[1][0])
    assert np.allclose(runs[0][0][0, 0, :, 0], 1.1 ** np.array([1, 2]), rtol=1e-3)
    assert (runs[1][1] > 1.2 * runs[0][1]).all()


def test_series_that_are_not_counts_do_not_break_the_pooled_growth() -> None:
    negative = np.array([-5.0, -8.0, -3.0, -9.0])
    growing = np.array([10.0, 11.0, 12.1, 13.3])
    assert pooled_growth([negative], periods_per_year=1, years=2) == 0.0
    assert abs(pooled_growth([negative, growing], 1, 2) - np.log(14.3 / 12.0) / 2) < 1e-9
