"""The demand tables (profile forecast section, FMS files) and the monthly performance table:
a split's small part is hidden together with its partner, so no part can be subtracted from
the published total."""

from __future__ import annotations

import warnings

import pandas as pd

from pipelines.disclosure import SUPPRESSED
from pipelines.disclosure.demand import (
    DEMAND_FIGURE_COLUMNS,
    protect_demand_figure,
    protect_demand_quarters,
    protect_demand_years,
)
from pipelines.disclosure.performance import PERFORMANCE_COLUMNS, protect_performance_months

K = 5


def _year(series: str, family: str, year: str, status: str, value: float) -> dict:
    return {
        "series": series,
        "series_family": family,
        "financial_year": year,
        "status": status,
        "recorded": value if status == "recorded" else 0.0,  # the model: recorded so far
        "value": value,
        "lo80": value - 1,
        "hi80": value + 1,
        "lo95": value - 2,
        "hi95": value + 2,
        # the naive forecast (last 12 months repeated) on forecast years only
        "naive_value": None if status == "recorded" else value,
    }


def test_a_demand_figure_is_rounded_then_primary_suppressed() -> None:
    assert protect_demand_figure(4.6, K) == 5
    assert protect_demand_figure(4.4, K) == SUPPRESSED
    assert protect_demand_figure(0.2, K) == 0


def test_a_small_part_of_a_split_year_hides_its_partner_and_leaves_the_total() -> None:
    years = pd.DataFrame(
        [
            _year("all_stalking", "all", "2025/26", "recorded", 43.0),
            _year("da", "domestic_abuse", "2025/26", "recorded", 3.0),
            _year("non_da", "domestic_abuse", "2025/26", "recorded", 40.0),
            _year("da", "domestic_abuse", "2024/25", "recorded", 20.0),
            _year("non_da", "domestic_abuse", "2024/25", "recorded", 30.0),
            _year("non_da", "domestic_abuse", "2026/27", "forecast", 41.0),
        ]
    )
    public = protect_demand_years(years, K).set_index(["series", "financial_year"])
    assert public.at[("da", "2025/26"), "value"] == SUPPRESSED
    assert public.at[("non_da", "2025/26"), "value"] == SUPPRESSED
    assert public.at[("non_da", "2025/26"), "recorded"] == SUPPRESSED
    assert public.at[("all_stalking", "2025/26"), "value"] == 43
    assert public.at[("da", "2024/25"), "value"] == 20
    # a forecast is not a part of a recorded split: only its own size can hide it
    assert public.at[("non_da", "2026/27"), "value"] == 41
    assert public.at[("non_da", "2026/27"), "lo95"] == 39


def test_a_small_naive_part_hides_its_partner_in_that_year_and_leaves_the_total() -> None:
    """The naive forecast is a sum of recorded counts: a part of 1..k-1 is hidden, and so is
    its partner that year (the total minus it would show it); other years and the total stay."""
    years = pd.DataFrame(
        [
            _year("all_stalking", "all", "2027/28", "forecast", 44.0),
            {**_year("da", "domestic_abuse", "2027/28", "forecast", 9.0), "naive_value": 3.0},
            {**_year("non_da", "domestic_abuse", "2027/28", "forecast", 35.0), "naive_value": 41.0},
            _year("da", "domestic_abuse", "2028/29", "forecast", 9.0),
            _year("non_da", "domestic_abuse", "2028/29", "forecast", 35.0),
            _year("da", "domestic_abuse", "2025/26", "recorded", 20.0),
        ]
    )
    public = protect_demand_years(years, K).set_index(["series", "financial_year"])
    assert public.at[("da", "2027/28"), "naive_value"] == SUPPRESSED
    assert public.at[("non_da", "2027/28"), "naive_value"] == SUPPRESSED
    assert public.at[("all_stalking", "2027/28"), "naive_value"] == 44
    assert public.at[("da", "2028/29"), "naive_value"] == 9
    assert public.at[("non_da", "2028/29"), "naive_value"] == 35
    assert public.at[("non_da", "2027/28"), "value"] == 35  # the forecast itself is not hidden
    assert pd.isna(public.at[("da", "2025/26"), "naive_value"])  # a recorded year has none


def test_a_partner_hidden_only_by_secondary_suppression_keeps_every_column_hidden() -> None:
    """The partner's columns hold no small figure of their own (all whole numbers), so '[c]'
    reaches them only through secondary suppression: it must land in every column."""
    years = pd.DataFrame(
        [
            {**_year("da", "domestic_abuse", "2025/26", "recorded", 3.0), "lo80": 10.0},
            _year("non_da", "domestic_abuse", "2025/26", "recorded", 50.0),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas refuses '[c]' in a whole-number column
        public = protect_demand_years(years, K).set_index("series")
    assert (public.loc["non_da", DEMAND_FIGURE_COLUMNS] == SUPPRESSED).all()
    assert public.at["da", "lo80"] == SUPPRESSED


def test_demand_quarters_follow_the_same_rules_without_a_recorded_column() -> None:
    quarters = pd.DataFrame(
        [
            {"series": s, "series_family": "online", "quarter": "2025Q1", "kind": "recorded",
             "value": v, "lo80": v, "hi80": v, "lo95": v, "hi95": v}
            for s, v in (("online", 2.0), ("not_online", 12.0))
        ]
    )  # fmt: skip
    public = protect_demand_quarters(quarters, K)
    assert list(public["value"]) == [SUPPRESSED, SUPPRESSED]
    assert "recorded" not in public.columns


def _month(measure: str, kind: str, month: str, da: tuple, non_da: tuple) -> dict:
    return {
        "month": month,
        "measure": measure,
        "measure_label": measure,
        "measure_order": 0 if kind == "count" else 1,
        "kind": kind,
        "numerator": da[0] + non_da[0],
        "denominator": da[1] + non_da[1],
        "numerator_da": da[0],
        "denominator_da": da[1],
        "numerator_non_da": non_da[0],
        "denominator_non_da": non_da[1],
    }


def test_performance_counts_suppress_as_a_table_and_rates_hide_together() -> None:
    rows = pd.DataFrame(
        [
            _month("crimes", "count", "2025-01", (2, 0), (30, 0)),
            _month("crimes", "count", "2025-02", (10, 0), (30, 0)),
            _month("vcop", "rate", "2025-01", (2, 4), (20, 30)),
            _month("vcop", "rate", "2025-02", (10, 20), (20, 30)),
        ]
    )
    table = protect_performance_months(rows, K)
    assert list(table.columns) == PERFORMANCE_COLUMNS
    public = table.set_index(["measure", "month"])
    jan, feb = public.loc[("crimes", "2025-01")], public.loc[("crimes", "2025-02")]
    assert (jan["da"], jan["non_da"], jan["all"]) == (SUPPRESSED, SUPPRESSED, 32)
    assert (feb["da"], feb["non_da"], feb["all"]) == (10, 30, 40)
    jan_rate = public.loc[("vcop", "2025-01")]
    # the DA rate rests on 4 crimes: hidden, and the all-crimes rate with it
    assert (jan_rate["da"], jan_rate["all"]) == (SUPPRESSED, SUPPRESSED)
    assert jan_rate["non_da"] == round(20 / 30, 3)
    assert public.loc[("vcop", "2025-02"), "all"] == round(30 / 50, 3)
