"""The published data files beside the profile (the FMS files aside: pipelines.report.fms):
data_quality.json, gis/hotspots.geojson and the monthly performance table. Each reads its
reporting model (or a declared Python-written mart) and applies its disclosure rule; the
profile's publish guard then checks every one of them.

- data_quality.json: the reconciliation of the run's delivery as spec/outputs.md lays it out
  (reporting.rpt_data_quality_document). Counts of records, not of people, so published
  exactly; file names, never paths.
- gis/hotspots.geojson: the quarter's publishable cells (marts.hotspots) as polygons for the
  force's GIS, only cells with at least disclosure.min_count different victims.
- performance_monthly.csv and .html: the last N months to the end of the profiled quarter
  (reporting.rpt_performance_monthly): stalking crimes recorded, the Victims' Code and referral
  measures, SPO considered and repeat incidents, for all crimes and split domestic abuse / not,
  as the action plan's monthly review through the Force Performance Framework asks; counts
  suppressed as a table of the two parts and their total per month, rates hidden together
  where one part's is hidden (`pipelines.disclosure.performance`).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from pipelines.disclosure import SUPPRESSED
from pipelines.disclosure.formulas import neutralise_formulas
from pipelines.disclosure.performance import PERFORMANCE_SIDES, protect_performance_months
from pipelines.report.printed import PrintedColumn, cell_text, environment, printed_columns

DATA_QUALITY_FILE = "data_quality.json"


def data_quality_report(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    row = con.execute("select document from reporting.rpt_data_quality_document").fetchone()
    return json.loads(row[0])


def write_data_quality(con: duckdb.DuckDBPyConnection, folder: Path) -> Path:
    """Write folder/data_quality.json (written then renamed: a reader never sees half a file)."""
    path = Path(folder) / DATA_QUALITY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".data_quality.", suffix=".json")
    with os.fdopen(handle, "w") as out:
        json.dump(data_quality_report(con), out, indent=2, sort_keys=True)
        out.write("\n")
    # mkstemp makes the file owner-only; this is a published output (counts only), readable
    # like the profile beside it. Restricted outputs live under restricted/.
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def write_gis_layer(
    con: duckdb.DuckDBPyConnection, quarter: str, folder: Path, min_victims: int
) -> list[Path]:
    cells = con.execute(
        "select * from marts.hotspots where quarter = ? order by cell_id", [quarter]
    ).df()
    # Imported here: the hotspots package loads PySAL and SciPy (~2 s), which the run's
    # start-up (the publish assets import this module) should not wait for.
    from pipelines.hotspots.maps import write_geojson

    return [write_geojson(cells, Path(folder) / "gis" / "hotspots.geojson", min_victims)]


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
    figure = {kind: PrintedColumn(kind, kind, kind, digits=0) for kind in ("count", "rate")}
    tables = {}
    for side in sides:
        wide = table.pivot(index="measure", columns="month", values=side)
        order = table.drop_duplicates("measure")[["measure", "measure_label", "kind"]]
        tables[side] = [
            [r.measure_label, *[cell_text(wide.at[r.measure, m], figure[r.kind]) for m in months]]
            for r in order.itertuples()
        ]
    html = folder / "performance_monthly.html"
    html.write_text(
        environment()
        .get_template("performance_monthly.html.j2")
        .render(
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
