"""Disclosure control for every published output.

- `suppression`: primary and secondary cell suppression of counts, and of rates built on them.
- `demand`, `performance`, `tables`: those rules applied to the demand tables (profile forecast
  section, FMS files), the monthly performance table and the row tables a model's YAML declares.
- `guard`: the publish guard that refuses a rendered file containing any personal identifier
  present in the input extracts.
"""

from pipelines.disclosure.guard import (
    DisclosureError,
    GuardReport,
    SensitiveValues,
    WarehouseValues,
    check_published_file,
    load_sensitive_values,
    scan_text,
)
from pipelines.disclosure.suppression import (
    SUPPRESSED,
    Count,
    ProtectedTable,
    Rate,
    protect_count,
    protect_counts,
    protect_rate,
    protect_series,
    protect_table,
    subset_count,
    suppress_together,
)

__all__ = [
    "SUPPRESSED",
    "Count",
    "DisclosureError",
    "GuardReport",
    "ProtectedTable",
    "Rate",
    "SensitiveValues",
    "WarehouseValues",
    "check_published_file",
    "load_sensitive_values",
    "protect_count",
    "protect_counts",
    "protect_rate",
    "protect_series",
    "protect_table",
    "subset_count",
    "suppress_together",
    "scan_text",
]
