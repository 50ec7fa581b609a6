"""Hotspots: BNG grid, Getis-Ord Gi* (PySAL), KDE, emerging-hotspot change, PAI/RRI back-test."""

from pipelines.hotspots.core import (
    HotspotParams,
    compute_hotspots,
    find_hotspots_in_file,
)
from pipelines.hotspots.evaluate import pai, pei, rri

__all__ = [
    "HotspotParams",
    "compute_hotspots",
    "find_hotspots_in_file",
    "pai",
    "pei",
    "rri",
]
