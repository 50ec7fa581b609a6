"""The monthly performance table between profiles: performance_monthly.csv and .html.

One page for the last N months to the end of the profiled quarter (reporting.
rpt_performance_monthly): stalking crimes recorded, the Victims' Code and referral measures,
SPO considered and repeat incidents, for all crimes and split domestic abuse / not, as the
action plan's monthly review through the Force Performance Framework asks. Published, so
disclosure-controlled: crime counts are suppressed as a table (the two parts and their total
per month), and a rate is shown only when its numerator, its complement and its denominator
are all at least the threshold; where one part's rate is hidden the all-crimes rate is hidden
too, so the hidden part cannot be worked out from the other two.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import jinja2
import pandas as pd

from pipelines.disclosure import SUPPRESSED, protect_rate, protect_table
from pipelines.disclosure.formulas import neutralise_formulas

SIDES = {"all": "All crimes", "da": "Domestic abuse", "non_da": "Not domestic abuse"}
CSV_COLUMNS = ["month", "measure", "measure_label", "kind", *SIDES]

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
).get_template("performance_monthly.html.j2")


@dataclass(frozen=True)
class PerformanceFiles:
    csv: Path
    html: Path
    months: int

    @property
    def paths(self) -> list[Path]:
        return [self.csv, self.html]


def public_performance(rows: pd.DataFrame, k: int) -> pd.DataFrame:
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
            for side in SIDES:
                column = "numerator" if side == "all" else f"numerator_{side}"
                value = int(row[column])
                record[side] = SUPPRESSED if hidden[(row["measure"], row["month"], side)] else value
        else:
            rates = {}
            for side in SIDES:
                suffix = "" if side == "all" else f"_{side}"
                rates[side] = protect_rate(
                    int(row[f"numerator{suffix}"]), int(row[f"denominator{suffix}"]), k
                )
            if rates["da"].suppressed != rates["non_da"].suppressed:
                rates["all"] = type(rates["all"])(None, True)
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
    return pd.DataFrame({c: pd.Series([r[c] for r in out], dtype=object) for c in CSV_COLUMNS})


def _cell(value: object, kind: str) -> str:
    if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, str):
        return value
    return f"{value:.0%}" if kind == "rate" else f"{int(value):,}"


def write_performance(
    con: duckdb.DuckDBPyConnection, quarter: str, folder: Path, min_count: int, force_name: str
) -> PerformanceFiles:
    """Write performance_monthly.csv and .html under `folder` (the quarter's output folder)."""
    rows = con.execute(
        "select * from reporting.rpt_performance_monthly order by measure_order, month"
    ).df()
    table = public_performance(rows, min_count)
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "performance_monthly.csv"
    # As text: a column mixing counts and rates would otherwise print counts as 6.0.
    neutralise_formulas(table.astype(str)).to_csv(csv, index=False)
    months = sorted(table["month"].unique())
    tables = {}
    for side in SIDES:
        wide = table.pivot(index="measure", columns="month", values=side)
        order = table.drop_duplicates("measure")[["measure", "measure_label", "kind"]]
        tables[side] = [
            [r.measure_label, *[_cell(wide.at[r.measure, m], r.kind) for m in months]]
            for r in order.itertuples()
        ]
    html = folder / "performance_monthly.html"
    html.write_text(
        PAGE.render(
            quarter=quarter,
            force=force_name,
            first=months[0] if months else "",
            last=months[-1] if months else "",
            months=months,
            sides=SIDES,
            tables=tables,
            suppressed=SUPPRESSED,
            k=min_count,
        ),
        encoding="utf-8",
    )
    return PerformanceFiles(csv=csv, html=html, months=len(months))
