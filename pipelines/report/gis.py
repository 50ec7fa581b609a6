"""gis/hotspots.geojson: the quarter's publishable cells as polygons for the force's GIS."""

from __future__ import annotations

from pathlib import Path

import duckdb


def write_gis_layer(
    con: duckdb.DuckDBPyConnection, quarter: str, folder: Path, min_victims: int
) -> list[Path]:
    """Only cells with at least `min_victims` different victims (location disclosure)."""
    cells = con.execute(
        "select * from marts.hotspots where quarter = ? order by cell_id", [quarter]
    ).df()
    # Imported here: the hotspots package loads PySAL and SciPy (~2 s), which the run's
    # start-up (the publish assets import this module) should not wait for.
    from pipelines.hotspots.maps import write_geojson

    return [write_geojson(cells, Path(folder) / "gis" / "hotspots.geojson", min_victims)]
