"""The force area for the location rule, and a vectorised point-in-area test.

DuckDB's spatial extension is not available offline, so the test runs in shapely 2
(`intersects_xy` on a prepared geometry: C loops over numpy arrays, no Python row loop).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

from pipelines.paths import PROJECT_ROOT

AREA_FILE_NAME = "force_area.geojson"


@dataclass(frozen=True)
class ForceArea:
    source: str  # "extracts" | "settings" | "none"
    path: Path | None
    geometry: shapely.Geometry | None

    @property
    def description(self) -> str:
        if self.geometry is None:
            return (
                "no force area (no force_area.geojson beside the extracts and none configured): "
                "no location was quarantined for being outside"
            )
        where = "beside the extracts" if self.source == "extracts" else "configured in settings"
        return f"force area from {self.path} ({where})"


def read_area(path: Path) -> shapely.Geometry:
    """The union of every polygon in a GeoJSON file (FeatureCollection, Feature or geometry)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("type") == "FeatureCollection":
        geometries = [shape(f["geometry"]) for f in data["features"] if f.get("geometry")]
    elif data.get("type") == "Feature":
        geometries = [shape(data["geometry"])]
    else:
        geometries = [shape(data)]
    area = shapely.union_all(geometries)
    shapely.prepare(area)
    return area


def resolve_force_area(extracts_dir: Path, configured: str = "") -> ForceArea:
    """force_area.geojson beside the extracts, else the configured file, else none."""
    beside = Path(extracts_dir) / AREA_FILE_NAME
    if beside.exists():
        return ForceArea("extracts", beside, read_area(beside))
    if configured:
        path = Path(configured)
        if not path.is_absolute():
            path = PROJECT_ROOT / path
        return ForceArea("settings", path, read_area(path))
    return ForceArea("none", None, None)


def outside(area: shapely.Geometry, latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    """True where the point lies outside the area (points on the boundary count as inside)."""
    if len(latitude) == 0:
        return np.zeros(0, dtype=bool)
    return ~shapely.intersects_xy(area, longitude, latitude)
