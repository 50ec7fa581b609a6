"""GIS layer and an offline map of hotspot cells (plotly, local geometry, no tile server)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from pipelines.disclosure.locations import publishable
from pipelines.hotspots.grid import bng_to_lonlat, lonlat_to_bng

CLASS_COLOURS = {"hot": "#d7301f", "cold": "#2b8cbe", "ns": "#d9d9d9"}


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


def _rings(geometry: dict) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return geometry["coordinates"]
    if geometry["type"] == "MultiPolygon":
        return [ring for poly in geometry["coordinates"] for ring in poly]
    return []


def hotspot_map_figure(
    hotspots: pd.DataFrame,
    quarter: str,
    boundaries_geojson: Path | None = None,
    min_count: int = 5,
    title: str | None = None,
) -> go.Figure:
    """Hot/cold cells of one quarter over LSOA (or any polygon) boundaries, drawn in British
    National Grid metres with plain scatter traces: renders offline, no tiles, no topojson.
    Only cells with at least `min_count` different victims are drawn."""
    cells = publishable_cells(hotspots[hotspots["quarter"] == quarter], min_count)
    fig = go.Figure()
    if boundaries_geojson is not None and Path(boundaries_geojson).exists():
        xs: list[float | None] = []
        ys: list[float | None] = []
        for feature in json.loads(Path(boundaries_geojson).read_text())["features"]:
            for ring in _rings(feature["geometry"]):
                arr = np.asarray(ring, float)
                x, y = lonlat_to_bng(arr[:, 0], arr[:, 1])
                xs += [*x.tolist(), None]
                ys += [*y.tolist(), None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"width": 0.5, "color": "#969696"},
                name="LSOA boundaries",
                hoverinfo="skip",
            )
        )
    for cls in ("hot", "cold"):
        part = cells[cells["gi_class"] == cls]
        xs, ys, text = [], [], []
        for row in part.itertuples(index=False):
            ring = _square(row.easting, row.northing, row.cell_size_m)
            xs += [p[0] for p in ring] + [None]
            ys += [p[1] for p in ring] + [None]
            label = (
                f"{row.cell_id}<br>crimes {row.crimes_display}<br>Gi* z {row.gi_z:.1f}"
                f"<br>{row.change_class}"
            )
            text += [label] * 5 + [None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                fill="toself",
                mode="lines",
                line={"width": 0.5, "color": CLASS_COLOURS[cls]},
                fillcolor=CLASS_COLOURS[cls],
                opacity=0.75,
                name=f"{cls} spot ({len(part)})",
                text=text,
                hoverinfo="text",
            )
        )
    fig.update_layout(
        title=title or f"Gi* hotspots, {quarter}",
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x", "scaleratio": 1},
        plot_bgcolor="white",
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h"},
    )
    return fig
