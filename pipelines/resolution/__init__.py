"""Person resolution: one identity per real person across crimes, intelligence and orders.

Pure logic (no Dagster): `resolve_mentions` takes a table of person mentions (the columns of
dbt model int_person_mentions) and returns the resolved person keys, the person dimension,
the match evidence and the model summary. Splink (Fellegi-Sunter on DuckDB) scores pairs;
`clustering` turns scored pairs into people under the domain constraints.
"""

from pipelines.resolution.resolve import (
    ResolutionConfig,
    ResolutionResult,
    WarehouseTable,
    mentions_input,
    resolve_mentions,
)

__all__ = [
    "ResolutionConfig",
    "ResolutionResult",
    "WarehouseTable",
    "mentions_input",
    "resolve_mentions",
]
