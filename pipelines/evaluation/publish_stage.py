"""CPU and wall time of the whole publish stage on a finished warehouse: every file under
OUT/YYYY-Qn/ (restricted outputs, data files, the profile and its guard), as `spp profile`
writes them.

    python -m pipelines.evaluation.publish_stage WAREHOUSE --extracts DIR [--quarter YYYY-Qn]
        [--repeats 3] [--label after] [--json docs/evaluation/publish_stage.json]

The warehouse is copied to a scratch folder first (the run's own file is never opened for
writing) and the stage runs `--repeats` times into scratch folders; the minimum and the median
of each are kept, since other processes on a shared machine only ever add time. Each call
records its figures under `--label` in the JSON file, so a run of the old code (label
"before") and of the new one ("after") on the same warehouse sit side by side in
docs/evaluation/publish_stage.md, with the machine's load at the time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines.paths import PROJECT_ROOT

OUT = PROJECT_ROOT / "docs" / "evaluation"
RUN_DATE = dt.date(2026, 12, 1)


def time_stage(warehouse: Path, extracts: Path, quarter: str, repeats: int) -> dict:
    from pipelines.publish import (
        PublishRequest,
        force_boundary,
        publish_open_outputs,
        publish_restricted_outputs,
    )
    from pipelines.settings import load_settings

    settings = load_settings()
    scratch = Path(tempfile.mkdtemp(prefix="spp-publish-stage-"))
    copy = scratch / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    cpu, wall = [], []
    try:
        with duckdb.connect(str(copy)) as con:
            for attempt in range(repeats):
                request = PublishRequest(
                    quarter=quarter,
                    folder=scratch / f"out-{attempt}" / quarter,
                    settings=settings,
                    generated=RUN_DATE,
                    boundary=force_boundary(extracts, settings.force.area_geojson),
                )
                cpu_started, wall_started = time.process_time(), time.perf_counter()
                publish_restricted_outputs(con, request)
                publish_open_outputs(con, request)
                cpu.append(time.process_time() - cpu_started)
                wall.append(time.perf_counter() - wall_started)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "quarter": quarter,
        "repeats": repeats,
        "cpu_seconds_min": round(min(cpu), 2),
        "cpu_seconds_median": round(statistics.median(cpu), 2),
        "wall_seconds_min": round(min(wall), 2),
        "wall_seconds_median": round(statistics.median(wall), 2),
        "load_average_1m": round(os.getloadavg()[0], 1),
    }


def write_report(figures: dict[str, dict], json_path: Path) -> Path:
    json_path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    labels = sorted(figures, key=lambda label: (not label.startswith("before"), label))
    rows = [
        ("CPU seconds, minimum", "cpu_seconds_min"),
        ("CPU seconds, median", "cpu_seconds_median"),
        ("wall seconds, minimum", "wall_seconds_min"),
        ("wall seconds, median", "wall_seconds_median"),
        ("repeats", "repeats"),
        ("load average (1 min) at the end", "load_average_1m"),
    ]
    lines = [
        "# Publish stage time: old and new code on the same delivery",
        "",
        "Written by `python -m pipelines.evaluation.publish_stage WAREHOUSE --extracts DIR "
        "--label LABEL` (see its docstring). The stage writes every file under OUT/YYYY-Qn/: "
        "the restricted outputs, the data files, then the profile and its publish guard. "
        "Timings are not a held-in/held-out measure; the baseline (`before`) is the code "
        "before the change on the warehouse it built, `after` the new code on the warehouse "
        "it built from the same extracts (the same figures: `make compare-outputs`). Pairs "
        "were run alternately so that both sides meet the same load.",
        "",
        "| measure | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    for title, key in rows:
        lines.append(f"| {title} | " + " | ".join(str(figures[x][key]) for x in labels) + " |")
    lines.append("")
    lines.append(
        "Quarter: " + ", ".join(sorted({str(f["quarter"]) for f in figures.values()})) + "."
    )
    md = json_path.with_suffix(".md")
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return md


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.evaluation.publish_stage")
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--extracts", type=Path, required=True)
    parser.add_argument("--quarter", default="2026-Q3")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--label", default="after")
    parser.add_argument("--json", type=Path, default=OUT / "publish_stage.json")
    args = parser.parse_args(argv)
    figures = {}
    if args.json.exists():
        figures = json.loads(args.json.read_text(encoding="utf-8"))
    figures[args.label] = time_stage(args.warehouse, args.extracts, args.quarter, args.repeats)
    md = write_report(figures, args.json)
    print(json.dumps(figures[args.label]))
    print(f"written: {args.json} and {md}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
