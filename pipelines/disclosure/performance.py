"""Disclosure control for the monthly performance table (reporting.rpt_performance_monthly):
crime counts are suppressed as a table (the domestic-abuse and other parts and their total per
month), and a rate is shown only when its numerator, its complement and its denominator are
all at least the threshold; where one part's rate is hidden the all-crimes rate is hidden too,
so the hidden part cannot be worked out from the other two.
"""

from __future__ import annotations

import pandas as pd

from pipelines.disclosure.suppression import SUPPRESSED, Rate, protect_rate, protect_table

# The sides of each measure: all crimes, then the two parts that add up to it.
PERFORMANCE_SIDES = ("all", "da", "non_da")
PERFORMANCE_COLUMNS = ["month", "measure", "measure_label", "kind", *PERFORMANCE_SIDES]


def protect_performance_months(rows: pd.DataFrame, k: int) -> pd.DataFrame:
    """One row per month and measure with the published value of each side: a count (int),
    a rate (0..1 rounded to 3 places), '[c]' when suppressed, empty when nothing is due."""
    out = []
    counts = rows[rows["kind"] == "count"]
    hidden: dict[tuple[str, str, str], bool] = {}
    for measure, part in counts.groupby("measure"):
        wide = part.set_index("month")[["numerator_da", "numerator_non_da"]].T
        wide.index = ["da", "non_da"]
        table = protect_table(wide, k, row_totals=False, column_totals=True)
        for month in wide.columns:
            hidden[(measure, month, "da")] = bool(table.suppressed.at["da", month])
            hidden[(measure, month, "non_da")] = bool(table.suppressed.at["non_da", month])
            hidden[(measure, month, "all")] = bool(table.suppressed.at["Total", month])
    for row in rows.sort_values(["measure_order", "month"]).to_dict("records"):
        record = {c: row[c] for c in ("month", "measure", "measure_label", "kind")}
        if row["kind"] == "count":
            for side in PERFORMANCE_SIDES:
                column = "numerator" if side == "all" else f"numerator_{side}"
                value = int(row[column])
                record[side] = SUPPRESSED if hidden[(row["measure"], row["month"], side)] else value
        else:
            rates = {}
            for side in PERFORMANCE_SIDES:
                suffix = "" if side == "all" else f"_{side}"
                rates[side] = protect_rate(
                    int(row[f"numerator{suffix}"]), int(row[f"denominator{suffix}"]), k
                )
            if rates["da"].suppressed != rates["non_da"].suppressed:
                rates["all"] = Rate(None, True)
            for side, rate in rates.items():
                record[side] = (
                    SUPPRESSED
                    if rate.suppressed
                    else ""
                    if rate.value is None
                    else round(rate.value, 3)
                )
        out.append(record)
    # object columns: counts stay integers beside '[c]' and empty cells
    return pd.DataFrame(
        {c: pd.Series([r[c] for r in out], dtype=object) for c in PERFORMANCE_COLUMNS}
    )
