"""End-to-end benchmarks: `spp bench` (`make bench`; national: `make bench-national`).

For each scale preset (tiny, force, large; national only when asked) it
1. generates the synthetic force once into a cache (.state/bench/<scale>-seed<seed>/; set-up,
   excluded from the timings),
2. runs the whole quarterly profile as an analyst does, through Dagster in a SUBPROCESS
   (`python -m pipelines.cli profile ...`), twice: a COLD first run (the delivery ending the
   quarter before END_QUARTER, a fresh DAGSTER_HOME, a fresh warehouse, dbt as the project's
   set-up leaves it: one manifest per project version, parsed beforehand and timed apart), then
   the SECOND QUARTER (the next delivery, ending END_QUARTER) into the same warehouse and
   Dagster home; each polls the RSS of the whole process tree (the CLI, dbt subprocesses, ...)
   every 0.1 s,
3. reads each step's start/end from that DAGSTER_HOME's event log (STEP_START/STEP_SUCCESS)
   and groups steps into stages (ingest, dbt_staging, resolution, dbt_analytics (with the
   reporting models), ...), and each dbt model's and test's own time from the run_results.json
   of every dbt step,
4. measures each stage's floor: the same computation alone, with no orchestration (DuckDB
   reading the extracts for ingestion, `dbt build` alone for the dbt stages, the pure Python
   functions alone on the same warehouse for resolution, hotspots, forecasting),
5. writes docs/benchmarks.json (merged: a run of some scales keeps the others) and
   docs/benchmarks.md (tables rendered from the JSON; the hand-written notes below the
   NOTES_MARKER line are kept).

Options: --scales tiny,force,large  --seed 42  --cache DIR  --work DIR  --json FILE  --md FILE
         --no-floors  --py-spy (record a flame graph of each profile run into the work dir)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.contracts.loader import LOAD_ORDER
from pipelines.evaluation.bench_analysis import (
    ALL_SCALES,
    DBT_STAGES,
    DEFAULT_SCALES,
    DOCS_DIR,
    END_QUARTER,
    KEY_PACKAGES,
    RUN_DATE,
    SEED,
    STAGE_ORDER,
    YEARS,
    StepTiming,
    aggregate_stages,
    check_targets,
    contract_check_seconds,
    cpu_between,
    dbt_node_summary,
    existing_notes,
    merge_report,
    orchestration_overhead,
    parse_progress_lines,
    render_markdown,
    stage_of,
)
from pipelines.evaluation.bench_floors import (
    _timed,
    extract_file,
    extract_reader_sql,
    measure_floors,
)
from pipelines.paths import DBT_PROJECT_DIR, PROJECT_ROOT, state_dir
from pipelines.quarters import shift_quarter


# =========================================================================== machine
def machine_info() -> dict[str, Any]:
    import psutil

    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    packages = {}
    for name in KEY_PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            packages[name] = importlib.metadata.version(name)
    return {
        "cpu": cpu or platform.machine(),
        "cores_logical": psutil.cpu_count(logical=True),
        "cores_physical": psutil.cpu_count(logical=False),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": packages,
    }


def speed_probe(repeats: int = 3) -> dict[str, float]:
    """The machine's speed at the moment: a fixed pure-Python loop and a fixed one-thread
    DuckDB aggregate, the best of `repeats` each (seconds; lower is faster).

    The host is shared beyond this machine: the same code's CPU seconds for the same run have
    moved by 1.5-1.7x between hours with the load average near 1 both times, which neither
    the load nor the steal counter shows. A table's figures are read beside this probe, and
    two tables compare only where their probes agree."""
    import duckdb

    def python_loop() -> None:
        total = 0
        for number in range(10_000_000):
            total += number

    con = duckdb.connect()
    con.execute("set threads = 1")

    def duckdb_aggregate() -> None:
        con.execute("select sum(hash(range)) from range(100000000)").fetchall()

    def best(work: Any) -> float:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return round(min(times), 3)

    try:
        return {"python_s": best(python_loop), "duckdb_s": best(duckdb_aggregate)}
    finally:
        con.close()


# =========================================================================== set-up
def generator_fingerprint() -> str:
    """A hash of the generator's code and data: a cached force is reused only if it was
    generated by the same generator (the benchmark measures the data the code makes now)."""
    root = PROJECT_ROOT / "pipelines" / "synthetic"
    digest = hashlib.sha1()
    for path in sorted(root.rglob("*")):
        if (
            path.is_file()
            and path.suffix not in {".md", ".pyc"}
            and "__pycache__" not in path.parts
        ):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def ensure_extracts(
    scale: str,
    seed: int,
    cache: Path,
    keep_stale: bool = False,
    end_quarter: str = END_QUARTER,
) -> tuple[Path, float | None]:
    """The preset's extracts up to end_quarter, generated once (`.complete` marks a finished
    folder and records the generator fingerprint; a stale folder is regenerated unless
    keep_stale)."""
    from pipelines.synthetic import generate_force

    suffix = "" if end_quarter == END_QUARTER else f"-{end_quarter}"
    folder = cache / f"{scale}-seed{seed}{suffix}"
    done = folder / ".complete"
    fingerprint = generator_fingerprint()
    if done.exists():
        try:
            marker = json.loads(done.read_text())
        except ValueError:
            marker = {}
        if keep_stale or marker.get("generator") == fingerprint:
            return folder, marker.get("seconds")
        print(f"[bench] {folder} was made by another generator version: regenerating", flush=True)
    if folder.exists():
        shutil.rmtree(folder)
    print(f"[bench] generating {scale} (seed {seed}) into {folder}", flush=True)
    started = time.perf_counter()
    generate_force(scale=scale, seed=seed, out_dir=folder, end_quarter=end_quarter, years=YEARS)
    seconds = round(time.perf_counter() - started, 1)
    marker = {"seconds": seconds, "end_quarter": end_quarter, "generator": fingerprint}
    done.write_text(json.dumps(marker) + "\n")
    return folder, seconds


def extract_rows(extracts: Path) -> dict[str, int]:
    """Data rows per extract file, counted by DuckDB (the floor reader, without the load)."""
    import duckdb

    counts = {}
    with duckdb.connect() as con:
        for name in LOAD_ORDER:
            path = extract_file(extracts, name)
            if path is not None:
                counts[name] = con.execute(
                    f"select count(*) from {extract_reader_sql(path)}"
                ).fetchone()[0]
    return counts


# =========================================================================== the measured run
class TreeSampler(threading.Thread):
    """Polls the summed RSS, the summed PSS and the CPU seconds (user + system) of a process and
    all its descendants. Summed RSS counts a forked worker's copy-on-write pages once per
    process; PSS splits shared pages among the processes sharing them, so its sum is the memory
    the run holds."""

    PSS_EVERY = 10

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self.pss_samples: list[int] = []
        self.cpu_samples: list[tuple[float, float]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        polls = 0
        while not self._halt.is_set():
            # PSS walks every page of every process: read it on one poll in PSS_EVERY only, so
            # the sampler does not slow the run it measures.
            with_pss = polls % self.PSS_EVERY == 0
            polls += 1
            total, pss, cpu = 0, 0, 0.0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for proc in procs:
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    total += proc.memory_info().rss
                    if with_pss:
                        memory = proc.memory_full_info()
                        pss += getattr(memory, "pss", memory.rss)  # PSS is Linux-only
                    times = proc.cpu_times()
                    # With the CPU of the children each process has reaped: a helper process
                    # that ended (the GX validation process, forecast workers) leaves the tree,
                    # and its CPU would otherwise drop out of the sum mid-run.
                    cpu += times.user + times.system + times.children_user + times.children_system
            if total:
                now = time.time()
                self.samples.append((now, total))
                if with_pss:
                    self.pss_samples.append(pss)
                self.cpu_samples.append((now, cpu))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


@dataclass
class RunMeasurement:
    returncode: int
    process_start: float
    process_end: float
    samples: list[tuple[float, int]]
    progress: list[tuple[float, str]] = field(default_factory=list)
    cpu_s: float | None = None
    cpu_samples: list[tuple[float, float]] = field(default_factory=list)
    pss_samples: list[int] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return self.process_end - self.process_start

    @property
    def peak(self) -> int:
        return max((rss for _, rss in self.samples), default=0)

    @property
    def peak_pss(self) -> int:
        return max(self.pss_samples, default=0)


def profile_command(extracts: Path, run_dir: Path, quarter: str = END_QUARTER) -> list[str]:
    return [
        sys.executable, "-m", "pipelines.cli", "profile",
        "--extracts", str(extracts),
        "--quarter", quarter,
        "--out", str(run_dir / "out"),
        "--warehouse", str(run_dir / "warehouse.duckdb"),
        "--run-date", RUN_DATE,
    ]  # fmt: skip


def ensure_bytecode() -> float:
    """Set-up: compiled bytecode for the venv and the project, as any machine has after its
    first run. Where PYTHONDONTWRITEBYTECODE is set, Python never writes it, and every run and
    dbt subprocess would recompile dagster, dbt and pandas from source (about doubling their
    start-up). Up-to-date files are skipped, so this is quick after the first time."""
    import compileall
    import sysconfig

    started = time.perf_counter()
    for folder in (sysconfig.get_paths()["purelib"], PROJECT_ROOT / "pipelines"):
        compileall.compile_dir(str(folder), quiet=2, workers=0)
    return round(time.perf_counter() - started, 2)


def parse_project() -> float:
    """Set-up, like generating the data: the project's one dbt parse, as `tasks.py setup`
    leaves it after an install or upgrade (forced, so it is timed whole); every warehouse's
    runs reuse it."""
    from pipelines.dbt_project import prepare

    seconds, _ = _timed(lambda: prepare(force=True))
    return round(seconds, 2)


def _kill_tree(pid: int) -> None:
    import psutil

    with contextlib.suppress(psutil.NoSuchProcess):
        root = psutil.Process(pid)
        for proc in [*root.children(recursive=True), root]:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()


def run_profile(
    extracts: Path,
    run_dir: Path,
    quarter: str = END_QUARTER,
    py_spy: bool = False,
    timeout: float | None = None,
    log_name: str = "profile.log",
) -> RunMeasurement:
    """`spp profile` in a subprocess with run_dir's DAGSTER_HOME and warehouse, RSS polled."""
    (run_dir / "dagster_home").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(run_dir / "dagster_home"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PYTHONUNBUFFERED": "1",
    }
    command = profile_command(extracts, run_dir, quarter)
    if py_spy:
        command = [
            str(Path(sys.executable).parent / "py-spy"), "record", "--subprocesses",
            "--rate", "50", "--format", "raw",
            "-o", str(run_dir / f"{log_name}.py-spy.collapsed.txt"), "--", *command,
        ]  # fmt: skip
    log = (run_dir / log_name).open("w", encoding="utf-8")
    progress: list[tuple[float, str]] = []
    start = time.time()
    proc = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    sampler = TreeSampler(proc.pid)
    sampler.start()
    # A time limit (e.g. a national run near a deadline): the tree is killed and the steps
    # finished so far are still reported.
    watchdog = threading.Timer(timeout, _kill_tree, [proc.pid]) if timeout else None
    if watchdog:
        watchdog.start()
    assert proc.stdout is not None
    for line in proc.stdout:  # stamped on arrival: the fallback step timings
        progress.append((time.time(), line.rstrip("\n")))
        log.write(line)
        log.flush()
    returncode, usage = os.wait4(proc.pid, 0)[1:]
    proc.returncode = os.waitstatus_to_exitcode(returncode)
    returncode = proc.returncode
    end = time.time()
    if watchdog:
        watchdog.cancel()
    sampler.stop()
    log.close()
    # CPU of the run's process tree: rusage counts the children the run waited for (dbt
    # subprocesses, the GX process) but not the fork server, which outlives the run and is never
    # reaped by it, nor the workers it forked (the forecast fits, the hotspot step). The sampled
    # tree (each process's own CPU plus what it reaped) sees them; its last sample is at most one
    # poll short of the end. The larger of the two is the lower bound that counts every process.
    cpu = usage.ru_utime + usage.ru_stime
    if sampler.cpu_samples:
        cpu = max(cpu, sampler.cpu_samples[-1][1])
    return RunMeasurement(
        returncode,
        start,
        end,
        sampler.samples,
        progress,
        cpu,
        sampler.cpu_samples,
        sampler.pss_samples,
    )


def step_timings_from_instance(dagster_home: Path, killed_at: float) -> list[StepTiming]:
    """STEP_START/STEP_SUCCESS times of the (only) run in this DAGSTER_HOME; a step still
    running when the process ended (killed) ends at killed_at."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return []
        stats = instance.get_run_step_stats(runs[0].run_id)
        return [
            StepTiming(
                s.step_key,
                s.start_time,
                s.end_time if s.end_time is not None else killed_at,
                (s.status.value if s.status else "?") if s.end_time is not None else "KILLED",
            )
            for s in stats
            if s.start_time is not None
        ]


def run_id_of(dagster_home: Path) -> str | None:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs(limit=1)
        return runs[0].run_id if runs else None


def dbt_results_in_run(run_id: str | None, steps: Sequence[StepTiming]) -> dict[str, Any]:
    """Each dbt step's run_results.json (`elapsed_time`, and per node `unique_id` and
    `execution_time`), which each dbt step writes into its folder
    target/<op>-<run id[:7]>-<random>/ (see pipelines/assets/transform.py)."""
    out: dict[str, Any] = {}
    if not run_id:
        return out
    for step in steps:
        if stage_of(step.step) not in DBT_STAGES:
            continue
        for folder in sorted((DBT_PROJECT_DIR / "target").glob(f"{step.step}-{run_id[:7]}-*")):
            if (folder / "run_results.json").exists():
                out[step.step] = json.loads((folder / "run_results.json").read_text("utf-8"))
    return out


def stage_rows(warehouse: Path, read_rows: int) -> dict[str, int | None]:
    """Rows processed per stage (see render_markdown for the definitions)."""
    import duckdb

    rows: dict[str, int | None] = {"ingest": read_rows}
    if not warehouse.exists():
        return rows
    with duckdb.connect(str(warehouse), read_only=True) as con:

        def count(sql: str) -> int | None:
            try:
                return int(con.execute(sql).fetchone()[0])
            except duckdb.Error:
                return None

        raw = [count(f"select count(*) from raw.{name}") for name in LOAD_ORDER]
        loaded = sum(r for r in raw if r is not None) if any(r is not None for r in raw) else None
        mentions = count("select count(*) from intermediate.int_person_mentions")
    for stage in STAGE_ORDER[1:]:
        rows[stage] = loaded
    rows["resolution"] = mentions
    return rows


# =========================================================================== one scale
def measure_run(
    extracts: Path,
    quarter: str,
    run_dir: Path,
    label: str,
    rows_read: int,
    py_spy: bool,
    timeout: float | None,
) -> dict[str, Any]:
    """One `spp profile` of `quarter` into run_dir's warehouse and Dagster home: wall, CPU,
    peak memory, the steps and stages, dbt's per-node times and the orchestration overhead."""
    probe = speed_probe()
    load_before = round(os.getloadavg()[0], 2)
    print(f"[bench]   {label}: profiling {quarter} ({rows_read:,} extract rows) ...", flush=True)
    run = run_profile(extracts, run_dir, quarter, py_spy, timeout, log_name=f"{label}.log")
    command = " ".join(profile_command(extracts, run_dir, quarter)).replace(
        sys.executable, "python"
    )
    result: dict[str, Any] = {
        "command": command,
        "quarter": quarter,
        "extracts": str(extracts),
        "measured_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_before": load_before,
        "load_after": round(os.getloadavg()[0], 2),
        "speed_probe": probe,
        "ok": run.returncode == 0,
        "run": {
            "process_wall_s": round(run.wall, 2),
            "process_cpu_s": round(run.cpu_s, 2) if run.cpu_s is not None else None,
            "peak_rss_mb": round(run.peak / 1e6, 1),
            "peak_pss_mb": round(run.peak_pss / 1e6, 1),
            "returncode": run.returncode,
            "samples": len(run.samples),
        },
    }
    if run.returncode != 0:
        tail = [line for _, line in run.progress if "error" in line.lower()][-1:]
        result["error"] = tail[0] if tail else f"exit code {run.returncode}"
        if timeout and run.wall >= timeout:
            result["error"] = f"stopped by --timeout after {timeout:.0f} s (not a failure)"
    home = run_dir / "dagster_home"
    try:
        steps = step_timings_from_instance(home, run.process_end)
        run_id = run_id_of(home)
        result["timings_from"] = "dagster event log"
    except Exception as error:  # fall back to the progress lines, stamped on arrival
        print(f"[bench]   event log unreadable ({error}); using progress lines", flush=True)
        steps, run_id = parse_progress_lines(run.progress), None
        result["timings_from"] = "progress lines"
    steps.sort(key=lambda s: s.start)
    dbt_results = dbt_results_in_run(run_id, steps)
    result["steps"] = [
        {"step": s.step, "seconds": round(s.seconds, 2), "status": s.status} for s in steps
    ]
    result["step_timings"] = steps
    result["contract_checks_s"] = contract_check_seconds(steps)
    result["dbt"] = dbt_node_summary(dbt_results)
    result["orchestration"] = orchestration_overhead(
        run.wall,
        run.process_start,
        run.process_end,
        steps,
        {step: float(results["elapsed_time"]) for step, results in dbt_results.items()},
    )
    result["orchestration"]["startup_cpu_s"] = (
        cpu_between(run.cpu_samples, run.process_start, min(s.start for s in steps))
        if steps
        else None
    )
    result["samples"] = run.samples
    result["cpu_samples"] = run.cpu_samples
    return result


def bench_scale(
    scale: str,
    seed: int,
    cache: Path,
    work: Path,
    floors: bool,
    py_spy: bool,
    keep_stale: bool = False,
    timeout: float | None = None,
) -> dict[str, Any]:
    """The cold first run (previous quarter's delivery, fresh state) and the second quarter
    (this quarter's delivery into the same warehouse), then the floors on that warehouse."""
    first_quarter = shift_quarter(END_QUARTER, -1)
    first_extracts, first_generate_s = ensure_extracts(
        scale, seed, cache, keep_stale, end_quarter=first_quarter
    )
    extracts, generate_s = ensure_extracts(scale, seed, cache, keep_stale)
    first_rows, rows = extract_rows(first_extracts), extract_rows(extracts)
    run_dir = work / scale
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    parse_s = parse_project()
    print(f"[bench] {scale}: project dbt parse {parse_s} s (set-up)", flush=True)
    cold = measure_run(
        first_extracts, first_quarter, run_dir, "cold", sum(first_rows.values()), py_spy, timeout
    )
    second = measure_run(
        extracts, END_QUARTER, run_dir, "second_quarter", sum(rows.values()), py_spy, timeout
    )
    warehouse = run_dir / "warehouse.duckdb"
    stage_names = [
        name
        for name in dict.fromkeys(stage_of(s.step) for s in second["step_timings"])
        if all(s.status == "SUCCESS" for s in second["step_timings"] if stage_of(s.step) == name)
    ]
    measured_floors = measure_floors(stage_names, extracts, warehouse, run_dir) if floors else {}
    volumes = stage_rows(warehouse, sum(rows.values()))
    for run in (cold, second):
        run["stages"] = aggregate_stages(
            run.pop("step_timings"),
            run.pop("samples"),
            volumes,
            measured_floors,
            run.pop("cpu_samples"),
        )
    result: dict[str, Any] = {
        **cold,
        "extract_rows": first_rows,
        "extract_rows_total": sum(first_rows.values()),
        "generate_s": first_generate_s,
        "project_parse_s": parse_s,
        "floors": measured_floors,
        "second_quarter": {
            **second,
            "extract_rows": rows,
            "extract_rows_total": sum(rows.values()),
            "generate_s": generate_s,
        },
    }
    result["ok"] = cold["ok"] and second["ok"]
    result["targets"] = check_targets(scale, result)
    return result


# =========================================================================== main
def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="spp bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scales",
        default=",".join(DEFAULT_SCALES),
        help=f"comma-separated presets (default {','.join(DEFAULT_SCALES)}; national on request)",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--cache", default=str(state_dir() / "bench"), help="generated extracts")
    parser.add_argument(
        "--work", default=str(state_dir() / "bench" / "runs"), help="warehouses, logs, outputs"
    )
    parser.add_argument("--json", default=str(DOCS_DIR / "benchmarks.json"))
    parser.add_argument("--md", default=str(DOCS_DIR / "benchmarks.md"))
    parser.add_argument("--no-floors", action="store_true", help="skip the floor measurements")
    parser.add_argument("--py-spy", action="store_true", help="record a py-spy profile per run")
    parser.add_argument("--timeout", type=float, help="kill a profile run after this many seconds")
    parser.add_argument(
        "--keep-stale-cache",
        action="store_true",
        help="reuse cached extracts even if the generator changed since",
    )
    args = parser.parse_args(list(argv))
    args.scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    unknown = [s for s in args.scales if s not in ALL_SCALES]
    if unknown:
        parser.error(f"unknown scale(s) {', '.join(unknown)}; choose from {', '.join(ALL_SCALES)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    cache, work = Path(args.cache), Path(args.work)
    if args.py_spy:
        # Sampling slows the run: its figures are diagnostics, never the published table.
        args.json, args.md = str(work / "bench-py-spy.json"), str(work / "bench-py-spy.md")
    cache.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    # The bench's own DagsterInstance reads stay out of the project's DAGSTER_HOME.
    os.environ["DAGSTER_HOME"] = str(work / "bench_dagster_home")
    Path(os.environ["DAGSTER_HOME"]).mkdir(exist_ok=True)
    new: dict[str, Any] = {
        "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seed": args.seed,
        "end_quarter": END_QUARTER,
        "machine": machine_info(),
        "duckdb_memory_limit": os.environ.get("SPP_DUCKDB_MEMORY_LIMIT", "4GB (default)"),
        "scales": {},
    }
    new["bytecode_setup_s"] = ensure_bytecode()
    failures = 0
    for scale in args.scales:
        started = time.perf_counter()
        result = bench_scale(
            scale,
            args.seed,
            cache,
            work,
            not args.no_floors,
            args.py_spy,
            args.keep_stale_cache,
            args.timeout,
        )
        new["scales"][scale] = result
        failures += not result["ok"]
        run, second = result["run"], result["second_quarter"]["run"]
        print(
            f"[bench] {scale}: {'ok' if result['ok'] else 'FAILED'} cold {run['process_wall_s']} s"
            f" wall / {run['process_cpu_s']} s CPU, peak {run['peak_pss_mb']:.0f} MB PSS"
            f" ({run['peak_rss_mb']:.0f} MB summed RSS), start-up "
            f"{result['orchestration'].get('startup_s')} s; second quarter "
            f"{second['process_wall_s']} s (bench {time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        # Written after every scale, so a long national run leaves the smaller ones on disk.
        json_path, md_path = Path(args.json), Path(args.md)
        old = json.loads(json_path.read_text()) if json_path.exists() else None
        report = merge_report(old, {**new, "scales": {scale: result}})
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2) + "\n")
        md_path.write_text(render_markdown(report, existing_notes(md_path)), encoding="utf-8")
    print(f"[bench] wrote {args.json} and {args.md}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
