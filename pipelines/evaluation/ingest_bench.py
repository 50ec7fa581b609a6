"""Ingest benchmark: validate + load + quarantine + reconcile on generator presets.

    python -m pipelines.evaluation.ingest_bench                       # force + large
    python -m pipelines.evaluation.ingest_bench --presets force,large,national

For each preset: generate the synthetic force once (cached under --work), then ingest it in a
child process (structure check of the whole delivery, then every extract in dependency order,
exactly what the Dagster assets run) and measure wall time, rows per second and the child's
peak resident memory (sampled every 50 ms). Bad-row precision and recall are measured against
the generator's truth/bad_rows.csv: a quarantined row is a true positive when the truth lists
the same (file, row) with the same rule. The Great Expectations contract checks (Dagster asset
checks, run after loading) are timed separately on the force preset.

Writes docs/evaluation/ingest_bench.json and docs/evaluation/ingest_bench.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipelines.paths import PROJECT_ROOT

OUT_DIR = PROJECT_ROOT / "docs" / "evaluation"
SEED = 42
END_QUARTER = "2025-Q2"
TARGET_LARGE_SECONDS = 60.0
TARGET_NATIONAL_PEAK_GB = 8.0


def _generate(preset: str, work: Path) -> tuple[Path, float | None]:
    from pipelines.synthetic import generate_force

    folder = work / f"{preset}-seed{SEED}-{END_QUARTER}"
    marker = folder / ".complete"
    if marker.exists():
        return folder, None
    started = time.perf_counter()
    generate_force(scale=preset, seed=SEED, out_dir=folder, end_quarter=END_QUARTER, years=5)
    marker.write_text("ok\n")
    return folder, time.perf_counter() - started


def _child(folder: Path, warehouse: Path, gx: bool) -> dict:
    """Runs in the child process: ingest, then score against the truth."""
    import duckdb
    import pandas  # noqa: F401  (imported by any Dagster run; keep its import out of the timing)

    from pipelines.contracts.loader import load_delivery

    con = duckdb.connect(str(warehouse))
    started = time.perf_counter()
    from pipelines.settings import load_settings

    limit = load_settings().ingest.duckdb_memory_limit
    results = load_delivery(con, folder, today=dt.date.today(), run_id="bench", memory_limit=limit)
    seconds = time.perf_counter() - started
    scored = con.execute(
        """
        with truth as (
            select file, cast(source_row as bigint) as source_row, rule
            from read_csv(?, all_varchar=true)
        ), got as (select extract as file, source_row, rule from raw.quarantine)
        select
            (select count(*) from got),
            (select count(*) from truth),
            (select count(*) from got join truth using (file, source_row, rule)),
            (select count(*) from got join truth using (file, source_row)
             where got.rule <> truth.rule)
        """,
        [str(folder / "truth" / "bad_rows.csv")],
    ).fetchone()
    quarantined, truth_rows, correct, wrong_rule = scored
    out = {
        "seconds": round(seconds, 2),
        "rows_read": sum(r.read for r in results.values()),
        "rows_loaded": sum(r.loaded for r in results.values()),
        "rows_quarantined": sum(r.quarantined for r in results.values()),
        "reconciles": all(r.reconciles for r in results.values()),
        "by_extract": {e: r.as_dict() | {"file": Path(r.file).name} for e, r in results.items()},
        "bad_rows_truth": truth_rows,
        "bad_rows_quarantined": quarantined,
        "bad_rows_correct": correct,
        "bad_rows_wrong_rule": wrong_rule,
        "precision": round(correct / quarantined, 4) if quarantined else 1.0,
        "recall": round(correct / truth_rows, 4) if truth_rows else 1.0,
    }
    out["rows_per_second"] = round(out["rows_read"] / seconds) if seconds else 0
    if gx:
        from pipelines.contracts import geo
        from pipelines.contracts.gx_checks import run_suite

        started = time.perf_counter()
        area = geo.resolve_force_area(folder)
        outcomes = {e: run_suite(con, e, dt.date.today(), area) for e in results}
        out["gx_checks_seconds"] = round(time.perf_counter() - started, 2)
        out["gx_critical_failures"] = sum(len(o.critical_failures) for o in outcomes.values())
    con.close()
    return out


def _measure(folder: Path, gx: bool) -> dict:
    """Ingest in a child process, sampling its peak resident memory."""
    import psutil

    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        result_file = Path(tmp) / "result.json"
        command = [
            sys.executable,
            "-m",
            "pipelines.evaluation.ingest_bench",
            "--child",
            str(folder),
            str(Path(tmp) / "warehouse.duckdb"),
            str(result_file),
        ] + (["--gx"] if gx else [])
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=PROJECT_ROOT)
        watched = psutil.Process(process.pid)
        peak = 0
        while process.poll() is None:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, watched.memory_info().rss)
            time.sleep(0.05)
        wall = time.perf_counter() - started
        if process.returncode != 0:
            raise RuntimeError(f"ingest child failed on {folder} (exit {process.returncode})")
        result = json.loads(result_file.read_text())
    result["peak_rss_gb"] = round(peak / 1e9, 3)
    result["process_wall_seconds"] = round(wall, 2)
    return result


def _markdown(report: dict) -> str:
    lines = [
        "# Ingest benchmark",
        "",
        f"`python -m pipelines.evaluation.ingest_bench --presets {','.join(report['presets'])}`"
        f" on {report['machine']} ({report['date']}). Seed {SEED}, 5 years to {END_QUARTER}.",
        "Ingest = structure check of the whole delivery + validate, load, quarantine and "
        "reconcile every extract (DuckDB SQL; shapely for the force area), in a child "
        f"process with DuckDB memory_limit {report['duckdb_memory_limit']}; peak RSS is that "
        "process's, sampled every 50 ms.",
        "",
        "| preset | rows read | ingest s | rows/s | peak RSS GB | quarantined | "
        "precision | recall | reconciles |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for preset, r in report["results"].items():
        mark = " (earlier run)" if r.get("carried_over") else ""
        lines.append(
            f"| {preset}{mark} | {r['rows_read']:,} | {r['seconds']} | {r['rows_per_second']:,} | "
            f"{r['peak_rss_gb']} | {r['rows_quarantined']:,} | {r['precision']} | "
            f"{r['recall']} | {r['reconciles']} |"
        )
    lines += ["", "Targets:"]
    for name, target in report["targets"].items():
        lines.append(f"- {name}: {target}")
    force = report["results"].get("force", {})
    if "gx_checks_seconds" in force:
        lines.append(
            f"\nGreat Expectations contract checks on the loaded force tables (asset checks): "
            f"{force['gx_checks_seconds']} s, {force['gx_critical_failures']} critical failures."
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="force,large")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "spp-ingest-bench"))
    parser.add_argument("--out", default=str(OUT_DIR))
    parser.add_argument("--child", nargs=3, metavar=("EXTRACTS", "WAREHOUSE", "RESULT"))
    parser.add_argument("--gx", action="store_true")
    args = parser.parse_args(argv)
    if args.child:
        folder, warehouse, result_file = (Path(p) for p in args.child)
        Path(result_file).write_text(json.dumps(_child(folder, warehouse, args.gx)))
        return 0

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    results = {}
    for preset in presets:
        folder, generated = _generate(preset, work)
        print(f"{preset}: extracts in {folder}", flush=True)
        result = _measure(folder, gx=preset == "force")
        if generated is not None:
            result["generate_seconds"] = round(generated, 1)
        results[preset] = result
        print(
            f"{preset}: {result['rows_read']:,} rows in {result['seconds']} s "
            f"({result['rows_per_second']:,} rows/s), peak {result['peak_rss_gb']} GB, "
            f"precision {result['precision']} recall {result['recall']}",
            flush=True,
        )
    out = Path(args.out)
    # A preset not measured this time (e.g. national, opt-in) keeps its last figures, marked.
    previous = out / "ingest_bench.json"
    if previous.exists():
        for preset, result in json.loads(previous.read_text()).get("results", {}).items():
            if preset not in results:
                results[preset] = {**result, "carried_over": True}
    targets = {}
    if "large" in results:
        ok = results["large"]["seconds"] <= TARGET_LARGE_SECONDS
        targets["large ingest <= 60 s"] = (
            f"{results['large']['seconds']} s ({'met' if ok else 'MISSED'})"
        )
    if "national" in results:
        ok = results["national"]["peak_rss_gb"] <= TARGET_NATIONAL_PEAK_GB
        targets["national peak memory <= 8 GB"] = (
            f"{results['national']['peak_rss_gb']} GB ({'met' if ok else 'MISSED'})"
        )
    if "force" in results:
        f = results["force"]
        targets["force bad rows: every injected row quarantined with its rule, no other"] = (
            f"precision {f['precision']}, recall {f['recall']}"
        )
    report = {
        "presets": presets,
        "duckdb_memory_limit": _memory_limit(),
        "seed": SEED,
        "end_quarter": END_QUARTER,
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {_cores()} cores, Python {platform.python_version()}",
        "results": results,
        "targets": targets,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "ingest_bench.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "ingest_bench.md").write_text(_markdown(report))
    print(f"wrote {out / 'ingest_bench.json'} and {out / 'ingest_bench.md'}")
    return 0 if all(r["reconciles"] for r in results.values()) else 1


def _memory_limit() -> str:
    from pipelines.settings import load_settings

    return load_settings().ingest.duckdb_memory_limit


def _cores() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
