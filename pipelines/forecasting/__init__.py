"""Demand forecasting: statsforecast candidates chosen per series by rolling-origin CV (MASE)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines.forecasting.core import (
    ForecastParams,
    apply_break,
    forecast_series,
    infer_frequency,
)
from pipelines.settings import ForecastSettings


def forecast_file(
    series: Path, horizon: int, out: str | None, settings: ForecastSettings | None = None
) -> Path:
    """`spp forecast`: forecast every series in a CSV (series, period_start, value) `horizon`
    periods ahead; writes the demand_forecast columns (plus period, break, CV MASE)."""
    series = Path(series)
    if not series.exists():
        raise FileNotFoundError(f"{series}: file not found")
    if horizon < 1:
        raise ValueError("horizon must be at least 1 period")
    frame = pd.read_csv(series)
    missing = {"series", "period_start", "value"} - set(frame.columns)
    if missing:
        raise ValueError(f"{series}: missing columns {sorted(missing)}")
    frame["series"] = frame["series"].astype(str)
    table, _ = forecast_series(frame, horizon, ForecastParams.from_settings(settings))
    target = Path(out) if out else series.with_name(f"{series.stem}_forecast.csv")
    target.parent.mkdir(parents=True, exist_ok=True)
    from pipelines.disclosure.formulas import neutralise_formulas

    neutralise_formulas(table).to_csv(target, index=False)
    return target


__all__ = ["ForecastParams", "apply_break", "forecast_file", "forecast_series", "infer_frequency"]
