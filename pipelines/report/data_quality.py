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
    """The report as spec/outputs.md lays it out: per extract from reporting.rpt_data_quality,
    the run-wide figures from reporting.rpt_data_quality_totals."""
    rows = con.execute("select * from reporting.rpt_data_quality order by extract").df()
    extracts: dict[str, Any] = {}
    for row in rows.to_dict("records"):
        unlinked = json.loads(row["unlinked_soft_links_json"] or "{}")
        extracts[row["extract"]] = {
            "read": int(row["rows_read"]),
            "loaded": int(row["rows_loaded"]),
            "quarantined": int(row["rows_quarantined"]),
            "by_rule": json.loads(row["by_rule_json"] or "{}"),
            "reconciles": bool(row["reconciles"]),
            "unlinked_soft_links": unlinked,
            "file": row["file_name"] or "",
            "format": row["format"] or "",
            "extra_columns_ignored": [
                c for c in (row["extra_columns_ignored"] or "").split(", ") if c
            ],
            "force_area": row["force_area"],
            "seconds": round(float(row["seconds"] or 0.0), 3),
            "over_limit_accepted": [str(line) for line in row["over_limit_accepted"]],
        }
    totals = con.execute("select * from reporting.rpt_data_quality_totals").df().iloc[0]
    return {
        "extracts": extracts,
        "force_area": totals["force_area"],
        "run_id": totals["run_id"],
        "reconciles": bool(totals["reconciles"]),
        "totals": {
            "read": int(totals["rows_read"]),
            "loaded": int(totals["rows_loaded"]),
            "quarantined": int(totals["rows_quarantined"]),
        },
        "unlinked_soft_links": json.loads(totals["unlinked_soft_links_json"]),
    }


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
