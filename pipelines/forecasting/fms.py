"""Force Management Statement demand table: the current financial year and each of the next
four, with 80/95% intervals, the model and the measured back-test accuracy.

Years are financial years (April-March), as the FMS and Home Office statistics use. A year's
value = recorded months to date + forecasts for the rest. Interval bounds of a year are the
sums of the monthly bounds (the monthly errors treated as perfectly correlated): an upper
bound on the width, the honest choice when errors are strongly correlated across horizons, as
they are for level-driven crime series.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.disclosure import SUPPRESSED, protect_count
from pipelines.disclosure.formulas import neutralise_formulas

COUNT_COLUMNS = ["actual_to_date", "value", "lo80", "hi80", "lo95", "hi95"]


def financial_year_start(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def fy_label(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"


def months_to_cover(last_actual: dt.date, as_of: dt.date, years_ahead: int) -> int:
    """Monthly horizon reaching the end of the financial year `years_ahead` after as_of's."""
    end = dt.date(financial_year_start(as_of) + years_ahead + 1, 3, 1)
    return max(1, (end.year - last_actual.year) * 12 + end.month - last_actual.month)


def fms_table(
    forecast: pd.DataFrame,
    as_of: dt.date,
    years_ahead: int,
    accuracy: dict[str, float] | None = None,
) -> pd.DataFrame:
    """forecast: demand_forecast rows of monthly series (series, period_start, kind, value,
    lo80..hi95, model, break_applied, cv_mase). One row per series x financial year."""
    frame = forecast.assign(period_start=pd.to_datetime(forecast["period_start"]).dt.date)
    first = financial_year_start(as_of)
    rows = []
    for series, part in frame.groupby("series"):
        fc_rows = part[part["kind"] == "forecast"]
        model = fc_rows["model"].dropna().iloc[0] if len(fc_rows) else None
        for fy in range(first, first + years_ahead + 1):
            start, end = dt.date(fy, 4, 1), dt.date(fy + 1, 3, 31)
            inyear = part[(part["period_start"] >= start) & (part["period_start"] <= end)]
            actual = inyear[inyear["kind"] == "actual"]
            fc = inyear[inyear["kind"] == "forecast"]
            base = float(actual["value"].sum())
            months = len(actual) + len(fc)
            row = {
                "series": series,
                "financial_year": fy_label(fy),
                "status": "current year (recorded to date + forecast)"
                if fy == first
                else "forecast",
                "months_recorded": int(len(actual)),
                "months_covered": int(months),
                "actual_to_date": base,
                "value": base + float(fc["value"].sum()),
            }
            for col in ("lo80", "hi80", "lo95", "hi95"):
                row[col] = base + float(fc[col].sum()) if len(fc) else base
            row["model"] = model
            row["break_applied"] = (
                part["break_applied"].dropna().iloc[0]
                if "break_applied" in part and part["break_applied"].notna().any()
                else ""
            )
            row["cv_mase"] = round(float(fc_rows["cv_mase"].iloc[0]), 3) if len(fc_rows) else np.nan
            for key, value in (accuracy or {}).items():
                row[key] = value
            rows.append(row)
    return pd.DataFrame(rows)


def apply_disclosure(table: pd.DataFrame, min_count: int) -> pd.DataFrame:
    """Round counts; counts (recorded or forecast) of 1..min_count-1 show as '[c]'."""
    out = table.copy()
    for col in COUNT_COLUMNS:
        out[col] = [
            SUPPRESSED if protect_count(int(round(v)), min_count).suppressed else int(round(v))
            for v in out[col].to_numpy(float)
        ]
    return out


def write_fms(
    table: pd.DataFrame,
    folder: Path,
    notes: list[str],
    sheets: dict[str, pd.DataFrame] | None = None,
) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "demand.csv"
    xlsx = folder / "demand.xlsx"
    table = neutralise_formulas(table)
    table.to_csv(csv, index=False)
    with pd.ExcelWriter(xlsx, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name="demand", index=False)
        pd.DataFrame({"notes": notes}).to_excel(writer, sheet_name="method", index=False)
        for name, sheet in (sheets or {}).items():
            sheet.to_excel(writer, sheet_name=name, index=False)
    return csv, xlsx
