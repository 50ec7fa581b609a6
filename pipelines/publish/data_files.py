"""The published data files beside the profile (the FMS files: pipelines.publish.fms), each
read from its reporting model (or a declared Python-written mart) through its disclosure rule,
then checked by the profile's publish guard: data_quality.json (the delivery's reconciliation,
counts of records published exactly, file names never paths); gis/hotspots.geojson (the
quarter's cells with at least disclosure.min_count victims, for the force's GIS); and
performance_monthly.csv and .html (the last N months' Force Performance Framework measures,
all crimes and split domestic abuse / not: `pipelines.disclosure.performance`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb

from pipelines.disclosure import SUPPRESSED
from pipelines.disclosure.formulas import neutralise_formulas
from pipelines.disclosure.performance import PERFORMANCE_SIDES, protect_performance_months
from pipelines.paths import DATA_QUALITY_FILE
from pipelines.report.printed import PrintedColumn, cell_text, environment, printed_columns


def write_data_quality(con: duckdb.DuckDBPyConnection, folder: Path) -> Path:
    """Write folder/data_quality.json (written then renamed: a reader never sees half a file)."""
    path = Path(folder) / DATA_QUALITY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    (document,) = con.execute("select document from reporting.rpt_data_quality_document").fetchone()
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(json.loads(document), indent=2, sort_keys=True) + "\n")
    tmp.chmod(0o644)  # a published output (counts only), readable like the profile beside it
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
    kinds = {kind: PrintedColumn(kind, kind, kind, digits=0) for kind in ("count", "rate")}
    # a row per measure in the model's order, its months (every one: the model's grid) in turn
    measures = table.groupby(["measure_label", "kind"], sort=False)
    tables = {
        side: [
            [label, *(cell_text(v, kinds[kind]) for v in part[side])]
            for (label, kind), part in measures
        ]
        for side in sides
    }
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
