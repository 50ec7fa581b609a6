"""CPU and wall time of the dbt steps of a quarterly run, alone, on a finished warehouse:
`python -m pipelines.evaluation.bench_dbt [WAREHOUSE]` (`make bench-dbt`).

The steps run as the Dagster steps run them (pipelines/assets/transform.py): in this process,
`dbt build` with the step's selection and flags, the quarter in raw.profile_run, on a private
copy of the warehouse (the file given is left untouched). dbt's parse is done first and timed
apart. CPU is this process's (dbt's worker threads and DuckDB's included), beside the wall time,
so a figure taken on a busy machine still compares.

A/B: run it on two worktrees alternately, on copies of the same warehouse (a finished `spp
profile`, e.g. of `make compare-outputs`), with --label; each run appends one JSON line per
repeat to --json. The load average is printed and recorded beside every figure.

Options: --quarter Q (default: the warehouse's raw.profile_run)  --repeat N (3)
         --steps dbt_staging,dbt_analytics,dbt_reporting  --label NAME  --json FILE
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipelines.dbt_project import STEP_BUILD_FLAGS, STEP_SELECTIONS

DEFAULT_WAREHOUSE = Path("/tmp/spp-after.duckdb")


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def warehouse_quarter(warehouse: Path) -> str:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute("select quarter from raw.profile_run").fetchone()
    if row is None:
        raise SystemExit(f"{warehouse}: raw.profile_run is empty; give --quarter")
    return str(row[0])


def set_quarter(warehouse: Path, quarter: str) -> None:
    """What the Dagster step writes before `dbt build` (the quarter as data, not a var)."""
    import duckdb

    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create or replace table raw.profile_run as select ?::varchar as quarter", [quarter]
        )


def time_step(
    step: str, warehouse: Path, variables: dict[str, Any], target: Path
) -> dict[str, Any]:
    """One dbt step: wall and CPU seconds, dbt's own elapsed time and its node counts."""
    from pipelines.dbt_project import folded_column_checks_exclusion, run_dbt

    load = load_average()
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    outcome = run_dbt(
        "build",
        *STEP_BUILD_FLAGS,
        *STEP_SELECTIONS[step],
        *folded_column_checks_exclusion(),
        warehouse=warehouse,
        variables=variables,
        target_path=target,
        log_path=target,
    )
    wall, cpu = time.perf_counter() - wall_start, time.process_time() - cpu_start
    results = outcome.result.results
    kinds: dict[str, int] = {}
    for result in results:
        kind = result.node.resource_type
        kinds[str(kind)] = kinds.get(str(kind), 0) + 1
    return {
        "step": step,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "dbt_elapsed_s": round(outcome.result.elapsed_time, 2),
        "nodes": kinds,
        "load_before": load,
        "load_after": load_average(),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", nargs="?", type=Path, default=DEFAULT_WAREHOUSE)
    parser.add_argument("--quarter")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--steps", default=",".join(STEP_SELECTIONS))
    parser.add_argument("--label", default=Path.cwd().name)
    parser.add_argument("--json", type=Path)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from pipelines.dbt_project import project_manifest
    from pipelines.settings import dbt_vars, load_settings

    steps = [s for s in args.steps.split(",") if s]
    unknown = set(steps) - set(STEP_SELECTIONS)
    if unknown:
        raise SystemExit(f"unknown steps {sorted(unknown)}; known: {list(STEP_SELECTIONS)}")
    if not args.warehouse.exists():
        raise SystemExit(f"{args.warehouse}: no such warehouse (a finished `spp profile`'s)")
    quarter = args.quarter or warehouse_quarter(args.warehouse)
    variables = dbt_vars(load_settings())
    parse_start = time.perf_counter()
    project_manifest(variables)
    parse_s = time.perf_counter() - parse_start
    print(f"[bench-dbt] {args.label}: parse {parse_s:.1f} s (not in the step figures), "
          f"quarter {quarter}, load {load_average()}", flush=True)  # fmt: skip
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="spp-bench-dbt-") as scratch:
        for repeat in range(1, args.repeat + 1):
            warehouse = Path(scratch) / "warehouse.duckdb"
            # A fresh copy per repeat: every repeat builds on the same data.
            shutil.copy(args.warehouse, warehouse)
            set_quarter(warehouse, quarter)
            for step in steps:
                row = time_step(step, warehouse, variables, Path(scratch) / f"{step}-{repeat}")
                row.update(label=args.label, repeat=repeat, quarter=quarter)
                rows.append(row)
                print(f"[bench-dbt] {args.label} #{repeat} {step}: wall {row['wall_s']:.1f} s, "
                      f"CPU {row['cpu_s']:.1f} s, dbt {row['dbt_elapsed_s']:.1f} s, "
                      f"nodes {row['nodes']}, load {row['load_before']}", flush=True)  # fmt: skip
            for suffix in ("", ".wal"):
                Path(f"{warehouse}{suffix}").unlink(missing_ok=True)
    print(f"[bench-dbt] {args.label}: median of {args.repeat} (CPU / wall, s)")
    for step in steps:
        mine = [r for r in rows if r["step"] == step]
        cpu = statistics.median(r["cpu_s"] for r in mine)
        wall = statistics.median(r["wall_s"] for r in mine)
        print(f"  {step:<14} {cpu:6.1f} / {wall:6.1f}")
    if args.json is not None:
        with args.json.open("a") as out:
            for row in rows:
                out.write(json.dumps(row, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
