"""gis/hotspots.geojson: the quarter's publishable cells as polygons for the force's GIS."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.hotspots.maps import write_geojson


def write_gis_layer(
    con: duckdb.DuckDBPyConnection, quarter: str, folder: Path, min_victims: int
) -> list[Path]:
    """Only cells with at least `min_victims` different victims (location disclosure)."""
    cells = con.execute(
        "select * from marts.hotspots where quarter = ? order by cell_id", [quarter]
    ).df()
    return [write_geojson(cells, Path(folder) / "gis" / "hotspots.geojson", min_victims)]
