"""Districts from boundary polygons (GeoJSON in WGS84): load and dissolve by a name
property, place points in them with shapely's STRtree, label them for the map.

The polygons are read where they live (the extracts' districts.geojson, else a configured
file such as the shared LSOA boundaries with their local authority); nothing is copied.
A missing or unreadable file gives no districts, never an error: the places section then
says so as an information gap."""

from __future__ import annotations

import csv
import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from pipelines.contracts.schema import DISTRICTS_FILE_NAME


@dataclass(frozen=True)
class District:
    name: str
    geometry: shapely.Geometry  # WGS84 (longitude, latitude)


def resolve_districts_file(extracts_dir: Path | None, configured: str) -> Path | None:
    """districts.geojson beside the extracts, else the configured file, else none."""
    candidates = []
    if extracts_dir is not None:
        candidates.append(Path(extracts_dir) / DISTRICTS_FILE_NAME)
    if configured:
        candidates.append(Path(configured))
    return next((p for p in candidates if p.is_file()), None)


def load_districts(path: Path | None, name_property: str) -> list[District]:
    """Polygons grouped and dissolved by `name_property` (e.g. LSOAs into their local
    authority), sorted by name. Features without the property or a polygon are skipped.

    Loaded once per version of the file in a process: the places step and the profile's map
    both read it (the national file: ~2,000 districts, ~1.5 s to parse and dissolve)."""
    if path is None or not Path(path).is_file():
        return []
    stat = Path(path).stat()
    return list(
        _load_districts(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size, name_property)
    )


@functools.lru_cache(maxsize=2)
def _load_districts(
    path: str, mtime_ns: int, size: int, name_property: str
) -> tuple[District, ...]:
    """`load_districts` of the file as it is at (mtime_ns, size): the key, not the body,
    reads them, so that a changed file is loaded again."""
    try:
        features = json.loads(Path(path).read_text(encoding="utf-8")).get("features", [])
    except (OSError, json.JSONDecodeError, AttributeError):
        return ()
    parts: dict[str, list[shapely.Geometry]] = {}
    for feature in features:
        if not isinstance(feature, dict):
            continue
        name = (feature.get("properties") or {}).get(name_property)
        geometry = feature.get("geometry")
        if not name or not geometry:
            continue
        try:
            shape = shapely.geometry.shape(geometry)
        except (ValueError, TypeError, AttributeError, KeyError):
            continue
        if shape.geom_type in ("Polygon", "MultiPolygon") and not shape.is_empty:
            parts.setdefault(str(name), []).append(shapely.make_valid(shape))
    return tuple(District(name, shapely.union_all(geoms)) for name, geoms in sorted(parts.items()))


def assign_districts(
    longitude: np.ndarray,
    latitude: np.ndarray,
    districts: list[District],
    snap_degrees: float = 0.0,
) -> np.ndarray:
    """The district name of each point (None outside every district or without a location).
    A point on a shared border takes the first district by name, so the answer is stable.
    With `snap_degrees`, a point outside every district takes the nearest one within that
    distance (a grid cell's centre can fall just over the coast or the force boundary)."""
    lon = np.asarray(longitude, dtype="float64")
    lat = np.asarray(latitude, dtype="float64")
    out = np.full(len(lon), None, dtype=object)
    located = ~(np.isnan(lon) | np.isnan(lat))
    if not districts or not located.any():
        return out
    tree = shapely.STRtree([d.geometry for d in districts])
    index = np.nonzero(located)[0]
    points = shapely.points(lon[located], lat[located])
    point_idx, district_idx = tree.query(points, predicate="intersects")
    # first district (by name order = tree order) for each point
    order = np.lexsort((district_idx, point_idx))
    point_idx, district_idx = point_idx[order], district_idx[order]
    first = np.unique(point_idx, return_index=True)[1]
    names = np.array([d.name for d in districts], dtype=object)
    out[index[point_idx[first]]] = names[district_idx[first]]
    outside = np.array([i for i in index if out[i] is None], dtype="int64")
    if snap_degrees > 0 and len(outside):
        near_point, near_district = tree.query_nearest(
            shapely.points(lon[outside], lat[outside]), max_distance=snap_degrees, all_matches=False
        )
        out[outside[near_point]] = names[near_district]
    return out


def district_labels(districts: list[District]) -> list[tuple[str, float, float]]:
    """(name, longitude, latitude) of a point inside each district, to write its name on."""
    labels = []
    for district in districts:
        point = shapely.point_on_surface(district.geometry)
        labels.append((district.name, float(point.x), float(point.y)))
    return labels


def load_csp_lookup(path: str) -> dict[str, str]:
    """district -> community safety partnership from a CSV (columns district, csp); empty
    when none is configured or it cannot be read."""
    if not path or not Path(path).is_file():
        return {}
    try:
        with Path(path).open(encoding="utf-8", newline="") as handle:
            return {
                row["district"].strip(): row["csp"].strip()
                for row in csv.DictReader(handle)
                if row.get("district") and row.get("csp")
            }
    except (OSError, KeyError, csv.Error, UnicodeDecodeError):
        return {}
