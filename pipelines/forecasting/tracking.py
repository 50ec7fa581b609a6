"""Early warning for the FMS: did the latest quarter fall outside last quarter's 80% interval?

For the run's quarter Q: forecast every series from its data up to the end of Q-1 (the
pipeline's own model choice and intervals), add up the forecast and the 80% bounds over the
periods of Q (monthly bounds summed: the errors treated as perfectly correlated, the widest,
most cautious quarter interval) and compare the quarter's recorded total. A tracking signal
in the sense of the crime-forecasting toolkit (../shared/DOMAIN.md s6): `outside_interval`
with `direction` above / below (within otherwise). Series without a complete quarter Q, or
without data before it, or with a delivery gap in Q (a missing value), get no row.
"""

from __future__ import annotations

import pandas as pd

from pipelines.forecasting.core import ForecastParams, forecast_series, infer_frequency
from pipelines.quarters import quarter_end, quarter_start, shift_quarter

TRACKING_COLUMNS = [
    "series",
    "quarter",
    "actual",
    "expected",
    "lo80",
    "hi80",
    "outside_interval",
    "direction",
    "model",
]


def forecast_tracking(series: pd.DataFrame, quarter: str, params: ForecastParams) -> pd.DataFrame:
    """series: series, period_start, value (monthly or quarterly periods) and, optionally,
    period: a series held both by month and by quarter (marts.demand_series) is tracked once,
    from its finest period (`finest_period`)."""
    start = pd.Timestamp(quarter_start(quarter))
    end = pd.Timestamp(quarter_end(quarter))
    before_end = pd.Timestamp(quarter_end(shift_quarter(quarter, -1)))
    data = finest_period(series)
    data = data.assign(period_start=pd.to_datetime(data["period_start"]))
    todo: dict[int, list[pd.DataFrame]] = {}
    actuals: dict[str, float] = {}
    for name, part in data.groupby("series"):
        inside = part[(part["period_start"] >= start) & (part["period_start"] <= end)]
        train = part[part["period_start"] <= before_end]
        if len(train) < 2 or inside.empty:
            continue
        try:
            freq = infer_frequency(part["period_start"])
        except ValueError:
            continue  # irregular periods: not forecast, so nothing to track
        needed = {12: 3, 4: 1}.get(freq.periods_per_year, 0)  # periods in a quarter
        if needed == 0 or len(inside) < needed:
            continue  # annual series, or the quarter is not complete
        if inside["value"].isna().any():
            continue  # a delivery gap: nothing recorded to hold against the forecast
        actuals[name] = float(inside["value"].sum())
        todo.setdefault(needed, []).append(train[["series", "period_start", "value"]])
    rows = []
    # One call per frequency: the series share the pooled interval errors, as in the run.
    for needed, frames in todo.items():
        table, _ = forecast_series(pd.concat(frames, ignore_index=True), needed, params)
        fc = table[table["kind"] == "forecast"]
        for name, part in fc.groupby("series"):
            rows.append(_row(name, quarter, actuals[name], part))
    return pd.DataFrame(rows, columns=TRACKING_COLUMNS)


def finest_period(series: pd.DataFrame) -> pd.DataFrame:
    """Per series, only the rows of its finest period (month before quarter before year) when
    a `period` column says which rows are which: a series held by month and by quarter would
    otherwise add each quarter's total to the quarter's first month, and count the quarter
    twice. Without the column, the rows as given (one period per series)."""
    if "period" not in series:
        return series
    rank = series["period"].map({"month": 0, "quarter": 1, "year": 2}).fillna(3)
    finest = rank.groupby(series["series"]).transform("min")
    return series[rank == finest].drop(columns="period")


def _row(name: str, quarter: str, actual: float, fc: pd.DataFrame) -> dict:
    lo, hi = float(fc["lo80"].sum()), float(fc["hi80"].sum())
    direction = "above" if actual > hi else "below" if actual < lo else "within"
    return {
        "series": name,
        "quarter": quarter,
        "actual": actual,
        "expected": float(fc["value"].sum()),
        "lo80": lo,
        "hi80": hi,
        "outside_interval": direction != "within",
        "direction": direction,
        "model": str(fc["model"].iloc[0]),
    }
