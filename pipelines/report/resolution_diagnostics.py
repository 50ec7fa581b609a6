"""restricted/resolution_diagnostics.html: the run's person-resolution model, for analysts who
check how people were linked (OFFICIAL-SENSITIVE, owner-only)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from pipelines.resolution.diagnostics import write_diagnostics


def write_resolution_diagnostics(con: duckdb.DuckDBPyConnection, folder: Path) -> list[Path]:
    """From marts.resolution_model (a declared dbt source); nothing when the run has no model."""
    row = con.execute(
        "select model_json, stats_json, match_probability_threshold from marts.resolution_model"
    ).fetchone()
    if row is None:
        return []
    model_json, stats_json, threshold = row
    path = write_diagnostics(
        json.loads(model_json),
        json.loads(stats_json),
        float(threshold),
        Path(folder) / "restricted" / "resolution_diagnostics.html",
    )
    return [path]
