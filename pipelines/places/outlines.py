"""The force area and its districts as the profile's map draws them: outlines in British
National Grid metres from local GeoJSON only (never a tile server), and the caveats the force
area file carries (the demo generator marks a stand-in geography)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.bng import lonlat_to_bng
from pipelines.settings import PlacesSettings


def boundary_features(path: Path | None) -> list[dict]:
    """The features of a local GeoJSON (the force area; never a tile server); none when it is
    missing or unreadable (the ingest step reports an unreadable area file).

    Read once per version of the file in a process: the profile asks for it three times
    (its caveats twice, the map's outline once; the national area file is 8.6 MB)."""
    if path is None or not Path(path).exists():
        return []
    stat = Path(path).stat()
    return list(_boundary_features(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=2)
def _boundary_features(path: str, mtime_ns: int, size: int) -> tuple[dict, ...]:
    """`boundary_features` of the file as it is at (mtime_ns, size): the key, not the body,
    reads them, so that a changed file is read again."""
    try:
        features = json.loads(Path(path).read_text(encoding="utf-8")).get("features", [])
    except (json.JSONDecodeError, AttributeError):
        return ()
    return tuple(feature for feature in features if isinstance(feature, dict))


def boundary_caveats(boundary: Path | None) -> list[str]:
    """Caveats the force-area file carries (the demo generator marks a stand-in geography)."""
    return [
        str(properties["caveat"])
        for feature in boundary_features(boundary)
        if (properties := feature.get("properties") or {}).get("caveat")
    ]


def _outline_xy(geometries: Iterable[Any]) -> tuple[list[float | None], list[float | None]]:
    """(Multi)polygons' outer rings, simplified, in whole BNG metres: one line per ring, rings
    separated by None (how plotly breaks a line)."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for geometry in geometries:
        outline = geometry.simplify(0.002)
        for polygon in getattr(outline, "geoms", [outline]):
            if polygon.geom_type == "Polygon":
                bx, by = lonlat_to_bng(*np.asarray(polygon.exterior.coords).T)
                xs += [round(float(v)) for v in bx] + [None]
                ys += [round(float(v)) for v in by] + [None]
    return xs, ys


def boundary_xy(path: Path | None) -> tuple[list, list] | None:
    """The force boundary outline in BNG metres."""
    import shapely

    geoms = [shapely.geometry.shape(f["geometry"]) for f in boundary_features(path)]
    return _outline_xy([shapely.union_all(geoms)]) if geoms else None


def district_lines(boundary: Path | None, places: PlacesSettings) -> dict[str, list] | None:
    """District outlines (BNG metres, simplified) and a label point inside each district, from
    the districts file beside the force area's (else the configured one); None without one."""
    from pipelines.places import district_labels, load_districts, resolve_districts_file

    folder = boundary.parent if boundary is not None else None
    districts_file = resolve_districts_file(folder, places.districts_geojson)
    if not (districts := load_districts(districts_file, places.district_property)):
        return None

    xs, ys = _outline_xy(district.geometry for district in districts)
    names, lon, lat = zip(*district_labels(districts), strict=True)
    x, y = lonlat_to_bng(np.array(lon), np.array(lat))
    return {
        "xs": xs,
        "ys": ys,
        "labels": list(names),
        "label_x": [round(v) for v in x.tolist()],
        "label_y": [round(v) for v in y.tolist()],
    }
