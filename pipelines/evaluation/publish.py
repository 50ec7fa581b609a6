"""Publishing measures: profile.html size, time to publish (render + guard), guard speed and
the guard's catch rate on planted leaks: the guard as the publish stage runs it (the profile's
probes looked up in the warehouse, `WarehouseValues`) beside the reference it must answer as
(every personal value fetched into Python, `load_sensitive_values`).

    python -m pipelines.evaluation.publish [--scale tiny] [--seed 42] [--quarter YYYY-Qn]
                                           [--warehouse FILE --extracts DIR]

Without --warehouse it generates a synthetic force and runs `spp profile` end to end (through
Dagster) into a scratch folder, then times a second publish of the same quarter on the
finished warehouse. Writes docs/evaluation/publish.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines.paths import PROJECT_ROOT

OUT = PROJECT_ROOT / "docs" / "evaluation"


def _planted_leaks(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    # fetchall, not fetchone: a result left open blocks the guard's next query on `con`
    [row] = con.execute(
        "select crime_id, person_id, forename || ' ' || surname, cast(date_of_birth as varchar), "
        "postcode from raw.crime_persons where forename is not null and surname is not null "
        "and date_of_birth is not null and postcode is not null limit 1"
    ).fetchall()
    return dict(
        zip(["crime_id", "person_id", "name", "date_of_birth", "postcode"], row, strict=True)
    )


def measure(warehouse: Path, extracts: Path, quarter: str, scratch: Path) -> dict:
    from pipelines.disclosure import load_sensitive_values, scan_text
    from pipelines.disclosure.guard import WarehouseValues, guard_vocabulary
    from pipelines.publish import publish_profile
    from pipelines.report.profile import plotly_library

    copy = scratch / "publish.duckdb"
    shutil.copy(warehouse, copy)
    boundary = extracts / "force_area.geojson"
    with duckdb.connect(str(copy)) as con:
        result = publish_profile(
            con, quarter, scratch / quarter, boundary=boundary if boundary.exists() else None
        )
        allowed = guard_vocabulary(con)
        html = result.path.read_text(encoding="utf-8")
        # the publish stage's guard: the profile's probes looked up in the warehouse
        in_warehouse = WarehouseValues(con)
        started = time.perf_counter()
        clean = scan_text(html, in_warehouse, allowed_words=allowed, library=plotly_library())
        guard_seconds = time.perf_counter() - started
        # beside it, the reference it must answer as: every personal value fetched into Python
        started = time.perf_counter()
        sensitive = load_sensitive_values(con)
        load_seconds = time.perf_counter() - started
        started = time.perf_counter()
        reference = scan_text(html, sensitive, allowed_words=allowed, library=plotly_library())
        scan_seconds = time.perf_counter() - started
        caught, caught_by_reference = {}, {}
        for kind, value in _planted_leaks(con).items():
            planted = html.replace("</main>", f"<p>{value}</p></main>")
            report = scan_text(
                planted, in_warehouse, allowed_words=allowed, library=plotly_library()
            )
            caught[kind] = not report.ok
            report = scan_text(planted, sensitive, allowed_words=allowed, library=plotly_library())
            caught_by_reference[kind] = not report.ok
    return {
        "quarter": quarter,
        "profile_bytes": result.bytes,
        "profile_mb": round(result.bytes / 1e6, 2),
        "plotly_js_bytes": len(plotly_library().encode()),
        "publish_seconds": round(result.seconds, 2),
        "suppressed_cells": result.suppressed_cells,
        "guard_values": clean.values_checked,
        "guard_tokens": clean.tokens_scanned,
        "guard_seconds": round(guard_seconds, 3),
        "guard_load_seconds": round(load_seconds, 3),
        "guard_scan_seconds": round(scan_seconds, 3),
        "guard_clean_profile_passes": clean.ok,
        "guard_agrees_with_reference": clean.hits == reference.hits,
        "guard_planted_leaks_caught": caught,
        "reference_planted_leaks_caught": caught_by_reference,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.evaluation.publish")
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quarter", default="2025-Q4")
    parser.add_argument("--warehouse", help="an already built warehouse (skips the run)")
    parser.add_argument("--extracts", help="the extracts folder of that warehouse")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="spp-publish-eval-"))
    end_to_end_seconds = None
    if args.warehouse:
        warehouse = Path(args.warehouse)
        extracts = Path(args.extracts or scratch)
    else:
        from pipelines.cli import run_profile
        from pipelines.synthetic import generate_force

        extracts = scratch / "extracts"
        generate_force(
            scale=args.scale, seed=args.seed, out_dir=extracts, end_quarter=args.quarter, years=5
        )
        warehouse = scratch / "warehouse.duckdb"
        started = time.perf_counter()
        run_profile(extracts, args.quarter, scratch / "out", warehouse, "")
        end_to_end_seconds = round(time.perf_counter() - started, 1)
    figures = measure(warehouse, extracts, args.quarter, scratch)
    figures.update(scale=args.scale, seed=args.seed, end_to_end_seconds=end_to_end_seconds)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "publish.json").write_text(json.dumps(figures, indent=2) + "\n")
    f = figures
    caught = ", ".join(f"{k}: {v}" for k, v in f["guard_planted_leaks_caught"].items())
    caught_reference = ", ".join(
        f"{k}: {v}" for k, v in f["reference_planted_leaks_caught"].items()
    )
    run = f"{end_to_end_seconds} s" if end_to_end_seconds else "not run"
    rows = [
        (
            "profile.html size",
            f"{f['profile_mb']} MB (plotly.js {f['plotly_js_bytes'] / 1e6:.1f} MB)",
        ),
        ("time to publish (render + guard)", f"{f['publish_seconds']} s"),
        ("whole `spp profile` run", run),
        ("suppressed cells", str(f["suppressed_cells"])),
        ("guard: guarded cells / tokens", f"{f['guard_values']:,} / {f['guard_tokens']:,}"),
        ("guard (probes looked up in the warehouse)", f"{f['guard_seconds']} s"),
        (
            "reference guard (every value fetched): load / scan",
            f"{f['guard_load_seconds']} s / {f['guard_scan_seconds']} s",
        ),
        ("guard passes the clean profile", str(f["guard_clean_profile_passes"])),
        ("guard answers as the reference", str(f["guard_agrees_with_reference"])),
        ("planted leaks caught", caught),
        ("planted leaks caught by the reference", caught_reference),
    ]
    command = "python -m pipelines.evaluation.publish " + " ".join(argv or sys.argv[1:])
    md = [
        f"# Publishing ({args.scale} force, seed {args.seed}, {args.quarter})",
        "",
        f"Written by `{command}`.",
        "",
        "The publish stage's guard looks the profile's probes up in the warehouse rather than "
        "fetching every personal value into Python (the reference): on a small force the "
        "lookup's queries cost more than the fetch, on a national one the fetch is the dearer "
        "by far in time and memory (docs/benchmarks.md, the session 22 notes).",
        "",
        "| measure | value |",
        "|---|---|",
        *[f"| {a} | {b} |" for a, b in rows],
        "",
    ]
    (OUT / "publish.md").write_text("\n".join(md))
    print("\n".join(md))
    ok = (
        figures["guard_clean_profile_passes"]
        and figures["guard_agrees_with_reference"]
        and all(figures["guard_planted_leaks_caught"].values())
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
