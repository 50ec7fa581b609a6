"""Demand forecasting: statsforecast candidates chosen per series by rolling-origin CV (MASE)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipelines.forecasting.core import (
    ForecastParams,
    apply_break,
    forecast_series,
    infer_frequency,
)
from pipelines.forecasting.series_file import read_series_file
from pipelines.settings import ForecastSettings


@dataclass(frozen=True)
class WrittenForecast:
    path: Path
    # series -> why it has no forecast (too short, irregular spacing), for the command to say
    not_forecast: dict[str, str]


def forecast_file(
    series: Path, horizon: int, out: str | None, settings: ForecastSettings | None = None
) -> WrittenForecast:
    """`spp forecast`: forecast every series in a CSV (series, period_start, value; its layout
    checked by `read_series_file`) `horizon` periods ahead; writes the demand_forecast columns
    (plus period, break, CV MASE)."""
    series = Path(series)
    if not series.exists():
        raise FileNotFoundError(f"{series}: file not found")
    if horizon < 1:
        raise ValueError("horizon must be at least 1 period")
    frame = read_series_file(series)
    table, info = forecast_series(frame, horizon, ForecastParams.from_settings(settings))
    target = Path(out) if out else series.with_name(f"{series.stem}_forecast.csv")
    target.parent.mkdir(parents=True, exist_ok=True)
    from pipelines.disclosure.formulas import neutralise_formulas

    neutralise_formulas(table).to_csv(target, index=False)
    skipped = info[info["not_forecast"].fillna("") != ""]
    return WrittenForecast(
        target, dict(zip(skipped["series"], skipped["not_forecast"], strict=True))
    )


__all__ = [
    "ForecastParams",
    "WrittenForecast",
    "apply_break",
    "forecast_file",
    "forecast_series",
    "infer_frequency",
]
