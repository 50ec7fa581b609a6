"""Run every evaluation in turn (make eval). Each writes docs/evaluation/<name>.{json,md}."""

from __future__ import annotations

import importlib
import sys
import time

# Module names under pipelines.evaluation; each exposes main(argv) -> int.
EVALUATIONS: list[str] = [
    "hotspots_backtest",
    "forecast_backtest",
    "screening",
    "publish",
    "ingest_bench",
    "resolution",
    "resolution_sources",
    "resolution_misses",
    "serial",
    "tasking_backtest",
    "assessment",
]


def main() -> int:
    failures = 0
    for name in EVALUATIONS:
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"pipelines.evaluation.{name}")
        code = module.main([])
        failures += code != 0
        print(f"== {name}: exit {code} in {time.perf_counter() - started:.0f}s", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
