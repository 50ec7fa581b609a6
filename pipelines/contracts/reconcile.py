"""Reconciliation report: OUT/YYYY-Qn/data_quality.json (format in spec/outputs.md)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pipelines.contracts.loader import LoadResult

FILE_NAME = "data_quality.json"


def update_data_quality(
    quarter_dir: Path, result: LoadResult, run_id: str = "", force_area: str = ""
) -> Path:
    """Merge one extract's counts into data_quality.json (each ingest asset adds its own)."""
    path = Path(quarter_dir) / FILE_NAME
    report: dict[str, Any] = {}
    if path.exists():
        try:
            report = json.loads(path.read_text())
        except json.JSONDecodeError:
            report = {}
    extracts = report.setdefault("extracts", {})
    extracts[result.extract] = result.as_dict()
    if force_area:
        report["force_area"] = force_area
    report["run_id"] = run_id
    report["reconciles"] = all(e.get("reconciles", False) for e in extracts.values())
    report["totals"] = {
        key: sum(int(e.get(key, 0)) for e in extracts.values())
        for key in ("read", "loaded", "quarantined")
    }
    report["unlinked_soft_links"] = {
        f"{name}.{link}": count
        for name, e in extracts.items()
        for link, count in e.get("unlinked_soft_links", {}).items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a reader never sees half a file.
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".data_quality.", suffix=".json")
    with os.fdopen(handle, "w") as out:
        json.dump(report, out, indent=2, sort_keys=True)
        out.write("\n")
    # mkstemp makes the file owner-only; this is a published output (counts only), readable
    # like the profile beside it. Restricted outputs live under restricted/.
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path
