"""Disclosure control for the demand figures: the recorded and forecast crimes per series by
financial year and by quarter (reporting.rpt_fms_*), as the profile's forecast section and the
FMS files (demand.csv, demand.xlsx) print them. Both outputs call these functions, so a figure
in the workbook is the profile's figure for the same series and period; and the forecast's
sentences, whose figures are those of the financial-year table as published.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.disclosure.sentences import first_complete, model_rows
from pipelines.disclosure.suppression import SUPPRESSED, Count, protect_count, protect_table

# The figures of one financial-year row: the recorded count, then the forecast and its ranges.
DEMAND_FIGURE_COLUMNS = ["recorded", "value", "lo80", "hi80", "lo95", "hi95"]
# Splits whose parts add up to all crimes: their recorded periods are suppressed together.
SPLIT_FAMILIES = ("domestic_abuse", "online")


def _whole_crimes(value: float) -> int:
    return int(round(float(value)))


def protect_demand_figure(value: float | None, k: int) -> int | str | None:
    """One demand figure rounded to whole crimes, '[c]' when 1..k-1 (primary suppression);
    None when there is none (a quarter of a delivery gap: nothing was delivered to count)."""
    if value is None or pd.isna(value):
        return None
    rounded = _whole_crimes(value)
    return SUPPRESSED if protect_count(rounded, k).suppressed else rounded


def protect_demand_years(years: pd.DataFrame, k: int) -> pd.DataFrame:
    """The financial-year table as every output prints it: figures rounded to whole crimes;
    recorded counts of 1..k-1 shown as '[c]', with the parts of a split suppressed together
    (secondary suppression per year, so no part can be worked out from the total); forecast
    figures below k shown as '[c]' too (the FMS export's rule), since a forecast of 2 a year
    reads as a count. The naive forecast (`naive_value`, the last 12 recorded months repeated)
    is a sum of recorded counts: under the same rules, a split's parts hidden together."""
    recorded = years["status"] == "recorded"
    out = _protect_demand(years, k, "financial_year", recorded, DEMAND_FIGURE_COLUMNS)
    return _protect_naive(years, out, k)


def _protect_naive(years: pd.DataFrame, out: pd.DataFrame, k: int) -> pd.DataFrame:
    """`naive_value` rounded to whole crimes, '[c]' when 1..k-1; where one part of a split is
    hidden in a year, every part of it is (the total minus the others would show it)."""
    naive = [None if pd.isna(v) else protect_demand_figure(v, k) for v in years["naive_value"]]
    out["naive_value"] = pd.Series(naive, index=years.index, dtype=object)
    hidden = out["naive_value"].eq(SUPPRESSED) & years["series_family"].isin(SPLIT_FAMILIES)
    keys = ["series_family", "financial_year"]
    for family, year in years.loc[hidden, keys].drop_duplicates().itertuples(index=False):
        parts = (years["series_family"] == family) & (years["financial_year"] == year)
        out.loc[parts & out["naive_value"].notna(), "naive_value"] = SUPPRESSED
    return out


def protect_demand_quarters(quarters: pd.DataFrame, k: int) -> pd.DataFrame:
    """The quarterly table under the same rules as `protect_demand_years` (it has no
    separate recorded column: a recorded quarter's count is its value)."""
    recorded = quarters["kind"] == "recorded"
    return _protect_demand(quarters, k, "quarter", recorded, DEMAND_FIGURE_COLUMNS[1:])


def protect_demand_tracking(tracking: pd.DataFrame, k: int) -> pd.DataFrame:
    """The early warning's rows (the quarter's recorded crimes against the expected ones and
    their 80% range) with each figure under the demand figure rule."""
    out = tracking.copy()
    for column in ("actual", "expected", "lo80", "hi80"):
        out[column] = [protect_demand_figure(v, k) for v in out[column]]
    return out


def _protect_demand(
    frame: pd.DataFrame, k: int, period: str, recorded: pd.Series, columns: list[str]
) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        out[column] = pd.Series(
            [protect_demand_figure(v, k) for v in out[column].to_numpy(float)],
            index=out.index,
            dtype=object,
        )
    for family in SPLIT_FAMILIES:
        # a delivery gap has no count to protect (nor to work out from the total)
        parts = frame[recorded & (frame["series_family"] == family) & frame["value"].notna()]
        if parts["series"].nunique() < 2:
            continue
        wide = (
            parts.pivot_table(index="series", columns=period, values="value", aggfunc="sum")
            .round()
            .astype("int64")
        )
        public = protect_table(wide, k, row_totals=False, column_totals=True).public()
        for series in wide.index:
            for when in wide.columns:
                if pd.isna(public.at[series, when]):
                    mask = recorded & (out["series"] == series) & (out[period] == when)
                    # Whole-number columns take '[c]' only as objects (pandas will not upcast).
                    out[columns] = out[columns].astype(object)
                    out.loc[mask, columns] = SUPPRESSED
    return out


FORECAST_SENTENCES = "rpt_fms_forecast_sentences"


def forecast_sentence(
    con: duckdb.DuckDBPyConnection, years: pd.DataFrame, series: str, kind: str, k: int
) -> str | None:
    """Sentence `kind` (chart_title, headline) of reporting.rpt_fms_forecast_sentences for
    `series`: its figures as the financial-year table prints them (`years`, already through
    disclosure control), so a change beside a hidden figure never prints."""
    rows = years[years["series"] == series]
    printed = {
        "baseline_value": rows.loc[rows["is_baseline"], "value"],
        "forecast_value": rows.loc[rows["years_ahead"] == 1, "value"],
        "naive_value": rows.loc[rows["years_ahead"] == 1, "naive_value"],
    }
    protected = {
        name: Count(0, suppressed=True) if isinstance(v, str) else Count(int(v))
        for name, values in printed.items()
        if len(values) and (isinstance(v := values.iloc[0], str) or pd.notna(v))
    }
    where = "series = ? and sentence_kind = ? order by variant_order"
    variants = model_rows(con, FORECAST_SENTENCES, where, [series, kind])
    return first_complete(FORECAST_SENTENCES, variants, k, protected=protected)
