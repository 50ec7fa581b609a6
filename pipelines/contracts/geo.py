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

from pipelines.contracts.schema import AREA_FILE_NAME
from pipelines.paths import PROJECT_ROOT


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
        # The file's name only: this text is published (data_quality.json, the profile).
        return f"force area from {self.path.name if self.path else ''} ({where})"


def read_area(path: Path) -> shapely.Geometry:
    """The union of every polygon in a GeoJSON file (FeatureCollection, Feature or geometry)."""
    from pipelines.contracts.structure import StructuralError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("type") == "FeatureCollection":
            geometries = [shape(f["geometry"]) for f in data["features"] if f.get("geometry")]
        elif data.get("type") == "Feature":
            geometries = [shape(data["geometry"])]
        else:
            geometries = [shape(data)]
        area = shapely.union_all(geometries)
    except FileNotFoundError:
        raise StructuralError(path, "force area file not found") from None
    except Exception as error:  # json, shapely and key errors: the file is not a usable area
        raise StructuralError(
            path,
            f"not a GeoJSON polygon layer ({type(error).__name__})",
            hint="a FeatureCollection of Polygon/MultiPolygon features in WGS84",
        ) from None
    if area.is_empty:
        raise StructuralError(path, "the force area holds no polygon")
    shapely.prepare(area)
    return area


def force_area_file(extracts_dir: Path, configured: str = "") -> tuple[str, Path | None]:
    """Where the force area comes from: force_area.geojson beside the extracts, else the
    configured file (relative to the project), else nowhere."""
    beside = Path(extracts_dir) / AREA_FILE_NAME
    if beside.exists():
        return "extracts", beside
    if configured:
        path = Path(configured)
        return "settings", path if path.is_absolute() else PROJECT_ROOT / path
    return "none", None


def resolve_force_area(extracts_dir: Path, configured: str = "") -> ForceArea:
    """The force area read from `force_area_file` (a named file that cannot be read stops
    the run)."""
    source, path = force_area_file(extracts_dir, configured)
    return ForceArea(source, path, None if path is None else read_area(path))


# Coordinates arrive rounded (6 decimals is ~0.1 m), so a point recorded on the boundary can
# land a few centimetres outside it. Points this close to the area count as inside: 1e-4
# degrees is ~11 m north-south and ~7 m east-west at UK latitudes.
BOUNDARY_TOLERANCE_DEG = 1e-4


def outside(area: shapely.Geometry, latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    """True where the point lies outside the area, beyond the boundary tolerance."""
    if len(latitude) == 0:
        return np.zeros(0, dtype=bool)
    result = ~shapely.intersects_xy(area, longitude, latitude)
    candidates = np.nonzero(result)[0]
    if len(candidates):
        # Only the few points outside get the (slower) distance test.
        points = shapely.points(longitude[candidates], latitude[candidates])
        result[candidates[shapely.dwithin(area, points, BOUNDARY_TOLERANCE_DEG)]] = False
    return result
