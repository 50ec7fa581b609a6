"""data_quality.json: the published reconciliation of the run's delivery (spec/outputs.md).

Counts of records, not of people, so they are published exactly; file names, never paths.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb

FILE_NAME = "data_quality.json"


def data_quality_report(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The report as spec/outputs.md lays it out (reporting.rpt_data_quality_document)."""
    row = con.execute("select document from reporting.rpt_data_quality_document").fetchone()
    return json.loads(row[0])


def write_data_quality(con: duckdb.DuckDBPyConnection, folder: Path) -> Path:
    """Write folder/data_quality.json (written then renamed: a reader never sees half a file)."""
    path = Path(folder) / FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".data_quality.", suffix=".json")
    with os.fdopen(handle, "w") as out:
        json.dump(data_quality_report(con), out, indent=2, sort_keys=True)
        out.write("\n")
    # mkstemp makes the file owner-only; this is a published output (counts only), readable
    # like the profile beside it. Restricted outputs live under restricted/.
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path
