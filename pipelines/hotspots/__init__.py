"""Hotspots: BNG grid, Getis-Ord Gi* (PySAL), KDE, emerging-hotspot change, PAI/RRI back-test."""

from pipelines.hotspots.core import (
    HotspotParams,
    compute_hotspots,
    find_hotspots_in_file,
    hotspot_outputs,
    published_quarters,
)
from pipelines.hotspots.evaluate import pai, pei, rri
from pipelines.hotspots.maps import write_geojson

__all__ = [
    "HotspotParams",
    "compute_hotspots",
    "published_quarters",
    "find_hotspots_in_file",
    "hotspot_outputs",
    "pai",
    "pei",
    "rri",
    "write_geojson",
]
