"""The GIS layer of hotspot cells (GeoJSON polygons). The profile's map is drawn by
pipelines/report/charts.py (`cell_map`), the one map builder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.bng import bng_to_lonlat
from pipelines.disclosure.locations import publishable


def _square(e: float, n: float, size: float) -> list[tuple[float, float]]:
    """Corners (BNG) of the cell centred on e, n, closed ring."""
    h = size / 2
    return [(e - h, n - h), (e + h, n - h), (e + h, n + h), (e - h, n + h), (e - h, n - h)]


def publishable_cells(cells: pd.DataFrame, min_count: int) -> pd.DataFrame:
    """The cells whose location may be published: at least `min_count` different victims in
    the quarter (pipelines.disclosure.locations). Every other cell, however hot, is left out:
    a square with one or two victims is in effect the square around their homes."""
    out = cells.loc[publishable(cells, min_count)].copy()
    out["crimes_display"] = out["crimes"].astype(int).astype(str)
    return out


def write_geojson(cells: pd.DataFrame, path: Path, min_count: int) -> Path:
    """One quarter's publishable cells as WGS84 polygons (RFC 7946 GeoJSON) for GIS users."""
    features = []
    for row in publishable_cells(cells, min_count).itertuples(index=False):
        ring = _square(row.easting, row.northing, row.cell_size_m)
        lon, lat = bng_to_lonlat(np.array([p[0] for p in ring]), np.array([p[1] for p in ring]))
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[round(x, 6), round(y, 6)] for x, y in zip(lon, lat, strict=True)]
                    ],
                },
                "properties": {
                    "quarter": row.quarter,
                    "cell_id": row.cell_id,
                    "crimes": int(row.crimes),
                    "victims": int(row.victims),
                    "crimes_display": row.crimes_display,
                    "gi_z": round(float(row.gi_z), 3),
                    "gi_class": row.gi_class,
                    "is_hotspot": bool(row.is_hotspot),
                    "change_class": row.change_class,
                },
            }
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path
