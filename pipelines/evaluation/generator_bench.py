"""Benchmark the synthetic force generator: wall time and peak RSS per scale.

    python -m pipelines.evaluation.generator_bench [--scales tiny,small,force] [--seed 1]

Each scale runs in a fresh subprocess so its peak resident memory is its own (ru_maxrss of
that process, which includes interpreter and library imports). Writes
docs/benchmarks/generator.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipelines.paths import PROJECT_ROOT

OUT = PROJECT_ROOT / "docs" / "benchmarks" / "generator.json"
BUDGET = {"force": {"seconds": 20}, "national": {"seconds": 600, "peak_rss_mb": 6144}}

_CHILD = """
import json, resource, sys, time
from pathlib import Path
from pipelines.synthetic import generate_force
t0 = time.perf_counter()
summary = generate_force(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), end_quarter=sys.argv[4],
                         fmt=sys.argv[5])
summary["wall_seconds"] = round(time.perf_counter() - t0, 3)
ru = resource.getrusage(resource.RUSAGE_SELF)
summary["peak_rss_mb"] = round(ru.ru_maxrss / 1024, 1)
summary["cpu_seconds"] = round(ru.ru_utime + ru.ru_stime, 1)
print(json.dumps(summary))
"""


def run_scale(scale: str, seed: int, end_quarter: str, fmt: str, keep: Path | None) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"spp-gen-{scale}-") as tmp:
        out = keep / scale if keep else Path(tmp)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, scale, str(seed), str(out), end_quarter, fmt],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{scale} failed:\n{proc.stderr[-2000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["process_seconds"] = round(time.perf_counter() - t0, 3)  # incl. imports
        result["load_average_1m_after"] = round(os.getloadavg()[0], 2)  # shared machines vary
        result["bytes_written"] = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="tiny,small,force")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end-quarter", default="2026-Q3")
    parser.add_argument("--format", default="csv", choices=["csv", "parquet"])
    parser.add_argument("--keep", type=Path, help="keep outputs under this folder")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    results = {}
    print(
        f"{'scale':<9} {'seconds':>8} {'cpu s':>7} {'peak MB':>8} {'crimes':>10} "
        f"{'persons':>10} {'MB out':>8}"
    )
    for scale in args.scales.split(","):
        r = run_scale(scale, args.seed, args.end_quarter, args.format, args.keep)
        results[scale] = r
        print(
            f"{scale:<9} {r['wall_seconds']:>8.2f} {r.get('cpu_seconds', 0):>7.1f} "
            f"{r['peak_rss_mb']:>8.0f} "
            f"{r['rows']['crimes']:>10,} {r['rows']['crime_persons']:>10,} "
            f"{r['bytes_written'] / 1e6:>8.1f}"
        )
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    merged = {**previous.get("results", {}), **results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "command": "python -m pipelines.evaluation.generator_bench",
                "machine": {
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                    "cpus": os.cpu_count(),
                },
                "budget": BUDGET,
                "results": merged,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
