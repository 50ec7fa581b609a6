"""WGS84 <-> British National Grid (metres), with pyproj only: light enough for the report to
import without the hotspot package (PySAL, scipy), which takes seconds to load."""

from __future__ import annotations

import functools

import numpy as np
from pyproj import Transformer

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"


@functools.cache
def _to_bng() -> Transformer:
    return Transformer.from_crs(WGS84, BNG, always_xy=True)


@functools.cache
def _to_wgs84() -> Transformer:
    return Transformer.from_crs(BNG, WGS84, always_xy=True)


def lonlat_to_bng(longitude: np.ndarray, latitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = _to_bng().transform(np.asarray(longitude, float), np.asarray(latitude, float))
    return np.asarray(x), np.asarray(y)


def bng_to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _to_wgs84().transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon), np.asarray(lat)
