"""The forecast step publishes the ensemble members' own forecasts beside the ensemble (kind
'member'), so that the FMS can say which model carries a departure from recent demand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.forecasting.step import forecast_tables
from pipelines.settings import ForecastSettings


def _monthly(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    t = np.arange(n)
    frames = [
        pd.DataFrame(
            {
                "series": name,
                "period": "month",
                "period_start": pd.date_range("2022-04-01", periods=n, freq="MS").date,
                "value": rng.poisson(base + slope * t),
            }
        )
        for name, base, slope in [("all_stalking", 60, 0.5), ("domestic_abuse", 30, -0.3)]
    ]
    return pd.concat(frames, ignore_index=True)


def test_member_rows_are_the_members_whose_mean_is_the_forecast() -> None:
    settings = ForecastSettings(error_pool_file="")
    table = forecast_tables(_monthly(), "2025-Q3", settings)["forecast"]
    assert set(table["kind"]) == {"actual", "forecast", "member"}
    forecast = table[table["kind"] == "forecast"]
    assert set(forecast["model"]) == {"ensemble"}
    members = table[table["kind"] == "member"]
    assert set(members["model"]) == set(settings.ensemble_members)
    # Every forecast period has one row per member, with no interval of its own.
    assert members.groupby(["series", "period_start"]).size().eq(2).all()
    assert len(members) == 2 * len(forecast)
    assert members[["lo80", "hi80", "lo95", "hi95"]].isna().all().all()
    # The ensemble is the mean of its members (each floored at zero; so is the forecast).
    mean = members.groupby(["series", "period_start"])["value"].mean()
    published = forecast.set_index(["series", "period_start"])["value"]
    assert np.allclose(mean.reindex(published.index), published)
