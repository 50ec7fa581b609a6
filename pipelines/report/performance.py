"""The monthly performance table between profiles: performance_monthly.csv and .html.

One page for the last N months to the end of the profiled quarter (reporting.
rpt_performance_monthly): stalking crimes recorded, the Victims' Code and referral measures,
SPO considered and repeat incidents, for all crimes and split domestic abuse / not, as the
action plan's monthly review through the Force Performance Framework asks. Published, so
disclosure-controlled by `pipelines.disclosure.performance` (counts suppressed as a table of
the two parts and their total per month; rates hidden together where one part's is hidden).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import jinja2
import pandas as pd

from pipelines.disclosure import SUPPRESSED
from pipelines.disclosure.formulas import neutralise_formulas
from pipelines.disclosure.performance import PERFORMANCE_SIDES, protect_performance_months
from pipelines.report.printed import printed_columns

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
).get_template("performance_monthly.html.j2")


def _cell(value: object, kind: str) -> str:
    if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, str):
        return value
    return f"{value:.0%}" if kind == "rate" else f"{int(value):,}"


def write_performance(
    con: duckdb.DuckDBPyConnection, quarter: str, folder: Path, min_count: int, force_name: str
) -> list[Path]:
    """Write performance_monthly.csv and .html under `folder` (the quarter's output folder)."""
    rows = con.execute(
        "select * from reporting.rpt_performance_monthly order by measure_order, month"
    ).df()
    table = protect_performance_months(rows, min_count)
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "performance_monthly.csv"
    # As text: a column mixing counts and rates would otherwise print counts as 6.0.
    neutralise_formulas(table.astype(str)).to_csv(csv, index=False)
    months = sorted(table["month"].unique())
    # each side headed as the model's YAML labels its numerator column
    labels = [column.label for column in printed_columns("rpt_performance_monthly", "sides")]
    sides = dict(zip(PERFORMANCE_SIDES, labels, strict=True))
    tables = {}
    for side in sides:
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
            sides=sides,
            tables=tables,
            suppressed=SUPPRESSED,
            k=min_count,
        ),
        encoding="utf-8",
    )
    return [csv, html]
