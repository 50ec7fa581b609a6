"""Hotspots: BNG grid, Getis-Ord Gi* (PySAL), KDE, emerging-hotspot change, PAI/RRI back-test.

The names below load their module on first use (PEP 562): importing one light submodule (the
GIS writer, `pipelines.hotspots.maps`, in the publish step) must not import PySAL and SciPy
(~1.7 s) through this package, whose computation runs in the fork server's worker."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.hotspots.core import (
        HotspotParams,
        compute_hotspots,
        find_hotspots_in_file,
        hotspot_outputs,
        published_quarters,
    )
    from pipelines.hotspots.evaluate import pai, pei, rri
    from pipelines.hotspots.maps import write_geojson

_MODULE_OF = {
    "HotspotParams": "core",
    "compute_hotspots": "core",
    "find_hotspots_in_file": "core",
    "hotspot_outputs": "core",
    "published_quarters": "core",
    "pai": "evaluate",
    "pei": "evaluate",
    "rri": "evaluate",
    "write_geojson": "maps",
}

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


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
