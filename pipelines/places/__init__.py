"""Places an analyst recognises: the district (and community safety partnership) of each
located crime and hotspot cell, from boundary polygons read at run time."""

from pipelines.places.districts import (
    DISTRICTS_FILE_NAME,
    District,
    assign_districts,
    district_labels,
    load_csp_lookup,
    load_districts,
    resolve_districts_file,
)

__all__ = [
    "DISTRICTS_FILE_NAME",
    "District",
    "assign_districts",
    "district_labels",
    "load_csp_lookup",
    "load_districts",
    "resolve_districts_file",
]
