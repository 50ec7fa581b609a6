"""`python -m pipelines.evaluation.independent_force --out DIR [--seed N] [--scale ...]`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from pipelines.evaluation.independent_force.generator import (
    SCALE_CRIMES,
    generate_independent_force,
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.evaluation.independent_force",
        description="Write an independently generated synthetic force (extracts and truth/).",
    )
    parser.add_argument("--out", required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--scale", choices=list(SCALE_CRIMES), default="small")
    parser.add_argument("--end-quarter", default="2026-Q3", help="last quarter, YYYY-Qn")
    args = parser.parse_args(argv)
    out = generate_independent_force(
        Path(args.out), seed=args.seed, scale=args.scale, end_quarter=args.end_quarter
    )
    print(f"independent force written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
