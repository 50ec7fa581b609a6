"""`spp`: the command line of ../shared/spec/outputs.md.

Sub-commands stay thin: they parse options, then call the same code the pipeline runs.
`spp profile` always goes through Dagster (in-process), never around it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import logging
import multiprocessing.util
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipelines.paths import default_output_dir, default_warehouse, ensure_dagster_home, state_dir

DEMO_SCALE = "force"
# Imported by the fork server the forecast step's workers are forked from.
# What the fork server imports for its workers: the forecast fits, the hotspot step's
# computation (pipelines/hotspots/step.py) and the assessment's exact tests (SciPy's stats,
# which the forecasting libraries load anyway), so that none of these steps imports its
# libraries.
FIT_WORKER_MODULES = (
    "pipelines.forecasting.step",
    "pipelines.hotspots.step",
    "pipelines.assessment",
)
DEMO_SEED = 42


# Exit codes: a bad delivery is the force's to fix, an internal error is ours.
EXIT_INTERNAL_ERROR = 1
EXIT_USAGE = 2
EXIT_BAD_DELIVERY = 3


class CliError(Exception):
    """A failure we can explain in one line (an internal error unless a subclass says)."""

    exit_code = EXIT_INTERNAL_ERROR


class UsageError(CliError):
    """The command asked for something the data cannot give (e.g. a quarter outside it)."""

    exit_code = EXIT_USAGE


class BadDelivery(CliError):
    """The extracts cannot be profiled as delivered: the force's IT team fixes the export."""

    exit_code = EXIT_BAD_DELIVERY


# Errors whose messages we write ourselves and which carry no row values; anything else
# raised inside a run is reported by its type only (a library's message may quote data).
EXPLAINED_ERRORS = {
    "StructuralError": EXIT_BAD_DELIVERY,
    "QuarantineThresholdExceeded": EXIT_BAD_DELIVERY,
    "ReconciliationError": EXIT_INTERNAL_ERROR,
    "Failure": EXIT_INTERNAL_ERROR,  # raised by our assets with our own words (publish guard)
}


# --------------------------------------------------------------------------- generate
def cmd_generate(args: argparse.Namespace) -> int:
    from pipelines.synthetic import generate_force
    from pipelines.synthetic.presets import Rates

    started = time.perf_counter()
    summary = generate_force(
        scale=args.scale,
        seed=args.seed,
        out_dir=Path(args.out),
        end_quarter=args.end_quarter,
        years=args.years,
        fmt=args.format,
        rates=Rates(noise=args.noise),
    )
    rows = summary.get("rows", {}) if isinstance(summary, dict) else {}
    for table, count in rows.items():
        print(f"  {table:<14} {count:>10,} rows")
    print(
        f"wrote {args.scale} force (seed {args.seed}) to {args.out} in "
        f"{time.perf_counter() - started:.1f}s"
    )
    return 0


# --------------------------------------------------------------------------- profile
def demo_extracts(seed: int, scale: str = DEMO_SCALE) -> Path:
    """Generate (once per generator version, then cached) the demo force: `force` scale,
    5 years to the last complete quarter."""
    from pipelines.quarters import last_complete_quarter
    from pipelines.synthetic import generate_force
    from pipelines.synthetic.fingerprint import generator_fingerprint

    end_quarter = last_complete_quarter(dt.date.today())
    folder = state_dir() / "demo" / f"{scale}-seed{seed}-{end_quarter}"
    done = folder / ".complete"
    version = generator_fingerprint()
    if not done.exists() or done.read_text().strip() != version:
        shutil.rmtree(folder, ignore_errors=True)
        print(f"Generating the demo force ({scale} scale, seed {seed}) into {folder}", flush=True)
        generate_force(scale=scale, seed=seed, out_dir=folder, end_quarter=end_quarter, years=5)
        done.write_text(f"{version}\n")
    return folder


def config_file(args: argparse.Namespace) -> Path | None:
    """The --config file, resolved; None for the defaults (or SPP_CONFIG)."""
    return Path(args.config).resolve() if getattr(args, "config", None) else None


def gate_delivery(
    extracts: Path,
    quarter: str | None,
    configured_area: str,
    run_date: str,
    earliest: dt.date,
) -> str:
    """The structural gate, before anything else (default quarter included): the quarter."""
    import datetime as dt

    from pipelines.contracts.gate import QuarterOutsideData, structural_gate
    from pipelines.contracts.structure import StructuralError

    try:
        today = dt.date.fromisoformat(run_date) if run_date else None
        passed = structural_gate(extracts, quarter, configured_area, today, earliest)
    except StructuralError as error:
        raise BadDelivery(str(error)) from None
    except (QuarterOutsideData, ValueError) as error:
        raise UsageError(str(error)) from None
    return passed.quarter


def cmd_profile(args: argparse.Namespace) -> int:
    if args.quarter:
        from pipelines.quarters import parse_quarter

        try:
            parse_quarter(args.quarter)
        except ValueError as error:
            raise UsageError(str(error)) from None
    from pipelines.contracts import gx_process
    from pipelines.contracts.schema import EXTRACTS
    from pipelines.contracts.structure import StructuralError

    # Great Expectations is imported on the other core while this process checks the delivery
    # and imports Dagster (pipelines/contracts/gx_process.py); the run's contract checks use
    # it. A process that has imported GX already (a test session's second run) has nothing to
    # hide and checks itself.
    if "great_expectations" not in sys.modules:
        gx_process.start(EXTRACTS)
    # The forecast step's workers come from a fork server (pipelines/fork_server.py), whose
    # import of the forecasting module (~2.5 s CPU) is best paid on the other core once the
    # contract checks have left it, not in the forecast step.
    threading.Thread(target=_start_fit_workers_after_checks, daemon=True).start()
    try:
        extracts = Path(args.extracts) if args.extracts else demo_extracts(args.seed)
        try:
            with mapped_delivery(extracts, args.mapping) as contract_shaped:
                return _profile_delivery(args, contract_shaped)
        except StructuralError as error:  # raised while applying a mapping file
            raise BadDelivery(str(error)) from None
    finally:
        gx_process.stop()


def _start_fit_workers_after_checks() -> None:
    from pipelines import fork_server
    from pipelines.contracts import gx_process

    gx_process.wait()
    fork_server.start(FIT_WORKER_MODULES)


def _profile_delivery(args: argparse.Namespace, extracts: Path) -> int:
    from pipelines.settings import load_settings

    # The settings are read and validated here, once; the run receives the file's path.
    settings = load_settings(config_file(args))
    quarter = gate_delivery(
        extracts,
        args.quarter,
        settings.force.area_geojson,
        args.run_date or "",
        settings.ingest.earliest_plausible_date,
    )
    out = (Path(args.out) if args.out else default_output_dir()).resolve()
    warehouse = (Path(args.warehouse) if args.warehouse else default_warehouse()).resolve()
    from pipelines import run_safety

    # Owner-only for everything the run creates; stores left by older versions closed too.
    run_safety.private_by_default()
    run_safety.make_private(
        state_dir(), ensure_dagster_home(), warehouse, *run_safety.side_files(warehouse)
    )
    print(f"Profiling {quarter} from {extracts} (warehouse {warehouse})", flush=True)
    try:
        with (
            run_safety.warehouse_lock(warehouse),
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="stage-run") as pool,
        ):
            staged = run_safety.staged_paths(warehouse, out, quarter)
            # The working copy of the warehouse (a second quarter's is hundreds of MB at the
            # large preset) is written by the kernel while this thread imports Dagster and dbt;
            # the run waits for it before its first step.
            staging = pool.submit(run_safety.stage_run, warehouse, out, quarter)
            # dbt reads the warehouse path from the environment (profiles/profiles.yml).
            os.environ["SPP_WAREHOUSE"] = str(staged.working_warehouse)
            try:
                run_profile(
                    extracts,
                    quarter,
                    staged.staging_out,
                    staged.working_warehouse,
                    args.run_date or "",
                    args.accept_quarantine,
                    config_file(args),
                    before_run=staging.result,
                )
            except BaseException:
                futures.wait([staging])
                run_safety.abandon_run(staged)
                raise
            published = run_safety.commit_run(staged)
    except (run_safety.WarehouseBusy, run_safety.RunPathUnusable) as error:
        raise CliError(str(error)) from None
    finally:
        os.environ["SPP_WAREHOUSE"] = str(warehouse)
    print(f"Profile written: {published / 'profile.html'}")
    return 0


def run_profile(
    extracts: Path,
    quarter: str,
    out: Path,
    warehouse: Path,
    run_date: str,
    accept_quarantine: bool = False,
    settings_file: Path | None = None,
    before_run: Callable[[], object] | None = None,
) -> Path:
    """Materialise the whole quarterly job in-process through Dagster and return the report.
    `before_run` is called once the job is built, before it starts (the CLI waits there for
    the warehouse's working copy)."""
    import dagster as dg

    from pipelines.dbt_project import prepare
    from pipelines.settings import load_settings

    prepare(load_settings(settings_file))
    from pipelines.definitions import build_definitions

    defs = build_definitions(
        extracts.resolve(),
        out.resolve(),
        warehouse.resolve(),
        run_date,
        accept_quarantine,
        settings_file,
    )
    job = defs.resolve_job_def("quarterly_profile")
    from pipelines.event_log_sqlite import fast_commits

    if before_run is not None:
        before_run()

    # Dagster's SQLite run history otherwise syncs the disk on every event (~20 ms each).
    with fast_commits(Path(os.environ["DAGSTER_HOME"])), dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            partition_key=quarter,
            instance=instance,
            run_config={"loggers": {"progress": {}}},
            raise_on_error=False,
        )
    if not result.success:
        raise _first_failure(result)
    return out.resolve() / quarter / "profile.html"


def _first_failure(result) -> CliError:
    """The run's first step failure as one line. Only our own explained errors keep their
    message; for anything else the step and the error type are enough (the Dagster UI has the
    rest), because a library's message can quote a value from the data."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error
            while (
                error is not None
                and error.cause is not None
                and "Error occurred" in (error.message or "")
            ):
                error = error.cause
            cls_name = error.cls_name if error is not None else None
            if cls_name in EXPLAINED_ERRORS:
                lines = (error.message or "").strip().splitlines()
                failure = CliError(f"step {event.step_key} failed: {lines[0] if lines else ''}")
                failure.exit_code = EXPLAINED_ERRORS[cls_name]
                return failure
            return CliError(
                f"step {event.step_key} failed with an internal error ({cls_name or 'unknown'}); "
                f"run {result.run_id} in the Dagster UI has the details"
            )
    return CliError("the run failed (see the Dagster UI for details)")


# --------------------------------------------------------------------------- check
def cmd_check(args: argparse.Namespace) -> int:
    """Validate a delivery as a run would; print a plain report. Writes no warehouse."""
    import json

    from pipelines.contracts.check import check_delivery_folder
    from pipelines.contracts.gate import QuarterOutsideData
    from pipelines.contracts.structure import StructuralError
    from pipelines.contracts.thresholds import QuarantineLimits
    from pipelines.settings import load_settings

    settings = load_settings(config_file(args))
    extracts = Path(args.extracts)
    started = time.perf_counter()
    try:
        with mapped_delivery(extracts, args.mapping) as folder:
            report = check_delivery_folder(
                folder,
                quarter=args.quarter,
                configured_area=settings.force.area_geojson,
                today=dt.date.fromisoformat(args.run_date) if args.run_date else None,
                limits=QuarantineLimits.from_settings(settings.ingest),
                earliest=settings.ingest.earliest_plausible_date,
            )
    except StructuralError as error:
        raise BadDelivery(str(error)) from None
    except (QuarterOutsideData, ValueError) as error:
        raise UsageError(str(error)) from None
    for line in report.lines():
        print(line)
    print(f"checked in {time.perf_counter() - started:.1f}s")
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_json(), indent=2, sort_keys=True) + "\n")
    if not report.would_run:
        raise BadDelivery(report.over_limit[0])
    return 0


def mapped_delivery(extracts: Path, mapping: str | None):
    """The delivery as the contract names it: the folder itself, or a private temporary copy
    with the force's mapping file applied (removed afterwards)."""
    from pipelines.contracts.mapping import mapped_copy

    return mapped_copy(extracts, Path(mapping) if mapping else None)


# --------------------------------------------------------------------------- hotspots / forecast
def cmd_hotspots(args: argparse.Namespace) -> int:
    from pipelines.hotspots import find_hotspots_in_file
    from pipelines.settings import load_settings

    # The same settings file as `spp profile` (SPP_CONFIG, else the defaults): same method choice.
    written = find_hotspots_in_file(
        Path(args.points),
        cell_size_m=args.cell_size,
        out=args.out,
        settings=load_settings().hotspots,
    )
    left_out = sum(map(len, written.left_out.values()))
    print(f"{written.rows_read:,} rows read, {written.rows_read - left_out:,} used")
    for reason, rows in written.left_out.items():
        more = ", ..." if len(rows) > 3 else ""
        shown = ", ".join(map(str, rows[:3]))
        print(f"    left out, {reason}: {len(rows):,} (data rows {shown}{more})")
    print(f"Hotspots written: {written.path}")
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    from pipelines.forecasting import forecast_file
    from pipelines.settings import load_settings

    written = forecast_file(
        Path(args.series),
        horizon=args.horizon,
        out=args.out,
        settings=load_settings().forecasting,
    )
    for name, reason in written.not_forecast.items():
        print(f"Series {name!r} not forecast: {reason}")
    print(f"Forecast written: {written.path}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from pipelines.evaluation.bench import main as bench_main

    return bench_main(args.bench_args)


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spp",
        description="Stalking Problem Profile: generate a synthetic force, build a quarter's "
        "profile, find hotspots, forecast demand.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a synthetic force's extracts and ground truth")
    gen.add_argument(
        "--scale",
        choices=["tiny", "small", "force", "large", "national"],
        default="tiny",
        help="size preset (default tiny)",
    )
    gen.add_argument("--seed", type=int, default=DEMO_SEED, help="random seed (default 42)")
    gen.add_argument("--out", required=True, help="folder to write the extracts into")
    gen.add_argument(
        "--end-quarter", help="last quarter of data, YYYY-Qn (default: last complete quarter)"
    )
    gen.add_argument("--years", type=int, help="years of history (default 5)")
    gen.add_argument(
        "--format",
        choices=["csv", "parquet"],
        default="csv",
        help="file format of the extracts (default csv)",
    )
    gen.add_argument(
        "--noise",
        choices=["default", "messy", "transliterated", "heavy"],
        default="default",
        help="extra recording noise on names, dates of birth and postcodes (default none)",
    )
    gen.set_defaults(func=cmd_generate)

    prof = sub.add_parser("profile", help="materialise one quarter's profile through Dagster")
    prof.add_argument(
        "--extracts", help="folder with the five extracts (default: generate the demo force)"
    )
    prof.add_argument(
        "--quarter", help="quarter to profile, YYYY-Qn (default: last complete quarter in the data)"
    )
    prof.add_argument("--out", help=f"output folder (default {default_output_dir()})")
    prof.add_argument("--warehouse", help=f"DuckDB file (default {default_warehouse()})")
    prof.add_argument("--config", help="settings file (default pipelines/config/settings.yaml)")
    prof.add_argument("--seed", type=int, default=DEMO_SEED, help="seed of the demo force")
    prof.add_argument("--run-date", help="treat this ISO date as today (future-date rules)")
    prof.add_argument(
        "--mapping",
        help="YAML mapping from the force's own column names, date formats and codes to the "
        "contract (docs/onboarding.md)",
    )
    prof.add_argument(
        "--accept-quarantine",
        action="store_true",
        help="publish even when an extract's quarantine is above the configured limits",
    )
    prof.set_defaults(func=cmd_profile)

    chk = sub.add_parser(
        "check",
        help="validate a delivery exactly as a run would (no warehouse, no personal values)",
    )
    chk.add_argument("--extracts", required=True, help="folder with the force's extracts")
    chk.add_argument(
        "--mapping",
        help="YAML mapping from the force's own column names, date formats and codes to the "
        "contract (docs/onboarding.md)",
    )
    chk.add_argument("--json", help="also write the report as JSON (data_quality.json layout)")
    chk.add_argument("--quarter", help="quarter a run would profile (default: from the data)")
    chk.add_argument("--config", help="settings file (default pipelines/config/settings.yaml)")
    chk.add_argument("--run-date", help="treat this ISO date as today (future-date rules)")
    chk.set_defaults(func=cmd_check)

    hot = sub.add_parser("hotspots", help="find hotspots in any point data")
    hot.add_argument("--points", required=True, help="CSV with latitude, longitude (WGS84)")
    hot.add_argument(
        "--cell-size",
        type=int,
        default=None,
        help="grid cell size in metres (default from settings)",
    )
    hot.add_argument("--out", help="output CSV (default beside the input)")
    hot.set_defaults(func=cmd_hotspots)

    fc = sub.add_parser("forecast", help="forecast any regular series with intervals")
    fc.add_argument("--series", required=True, help="CSV with series, period_start, value")
    fc.add_argument("--horizon", type=int, required=True, help="periods ahead to forecast")
    fc.add_argument("--out", help="output CSV (default beside the input)")
    fc.set_defaults(func=cmd_forecast)

    bench = sub.add_parser("bench", help="end-to-end benchmarks (see docs/benchmarks.md)")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER, help="passed to the benchmark")
    bench.set_defaults(func=cmd_bench)
    return parser


# CPython's cyclic garbage collector with its default thresholds (700, 10, 10) walks every
# tracked object of the process about once per 70,000 allocations that outlive the young
# generations. A profile run holds ~600,000 long-lived objects (Dagster, dbt-core and its parsed
# project, pandas, Splink) and allocates ~2 million: ten full collections of 0.1-0.3 s each,
# every one holding the GIL, so every thread of the run waited (2.6 s of a force second
# quarter's 44 s at load 5, timed with gc.callbacks). With a first generation of 10,000 the
# young collections cost the same in all (their work is per allocation) and the full
# collections come once per million: one per run. Cycles are still collected; the run's peak
# memory did not grow (docs/benchmarks.md).
GC_THRESHOLDS = (10_000, 10, 10)


def main(argv: Sequence[str] | None = None) -> int:
    gc.set_threshold(*GC_THRESHOLDS)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        # argparse's REMAINDER rejects options that come first (`spp bench --scales x`), so the
        # benchmark gets its arguments untouched.
        return cmd_bench(argparse.Namespace(bench_args=argv[1:]))
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as error:
        print(f"spp {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except (ValueError, FileNotFoundError) as error:
        print(f"spp {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE


def entry() -> None:
    """The console script (`spp`, `python -m pipelines.cli`). Tests call `main()` instead."""
    code = main()
    # By now every output file is written and closed and every DuckDB and SQLite connection is
    # released; what is left is the interpreter tearing down the modules a run imports (dagster,
    # dbt, pandas, splink, statsforecast, ...): 2.2 s measured after `spp profile`.
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    # os._exit skips multiprocessing's exit finalizers, which unlink the named semaphores dbt's
    # adapters and manifest create; left linked, the resource tracker warns the analyst of
    # "leaked semaphore objects" as the run ends. Running just those finalizers costs ~0 s.
    multiprocessing.util._run_finalizers(0)
    os._exit(code)


if __name__ == "__main__":
    entry()
