"""End-to-end benchmarks: `spp bench` (`make bench`; national: `make bench-national`).

For each scale preset (tiny, force, large; national only when asked) it
1. generates the synthetic force once into a cache (.state/bench/<scale>-seed<seed>/; set-up,
   excluded from the timings),
2. runs the whole quarterly profile through Dagster in a SUBPROCESS
   (`python -m pipelines.cli profile ...`) with a fresh DAGSTER_HOME and a fresh warehouse,
   polling the RSS of the whole process tree (the CLI, dbt subprocesses, ...) every 0.1 s,
3. reads each step's start/end from that DAGSTER_HOME's event log (STEP_START/STEP_SUCCESS)
   and groups steps into stages (ingest, dbt_staging, resolution, dbt_analytics (with the
   reporting models), ...),
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
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.contracts.loader import LOAD_ORDER
from pipelines.paths import DBT_PROJECT_DIR, PROJECT_ROOT, state_dir

DEFAULT_SCALES = ("tiny", "force", "large")
ALL_SCALES = ("tiny", "small", "force", "large", "national")
SEED = 42
# A fixed window, so the cached extracts and the profiled quarter never drift with the clock.
END_QUARTER = "2025-Q4"
RUN_DATE = "2026-01-15"
YEARS = 5
DOCS_DIR = PROJECT_ROOT / "docs"
NOTES_MARKER = "<!-- notes: hand-written below this line, kept when the tables are regenerated -->"
KEY_PACKAGES = (
    "dagster",
    "dagster-dbt",
    "dbt-core",
    "dbt-duckdb",
    "duckdb",
    "pandas",
    "pyarrow",
    "numpy",
    "splink",
    "statsforecast",
    "esda",
    "psutil",
)
# Targets: (wall seconds, peak bytes) per preset; orchestration overhead on force.
TARGETS: dict[str, tuple[float, float]] = {
    "force": (60.0, 2e9),
    "large": (300.0, 6e9),
    "national": (1800.0, 16e9),
}
ORCHESTRATION_TARGET_S = 15.0
STAGE_ORDER = (
    "ingest",
    "dbt_staging",
    "resolution",
    "dbt_analytics",
    "hotspots",
    "forecast",
    "publish",
)
DBT_STAGES = {"dbt_staging", "dbt_analytics"}


# =========================================================================== pure helpers
@dataclass
class StepTiming:
    step: str
    start: float  # unix seconds
    end: float
    status: str = "SUCCESS"

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


def stage_of(step_key: str) -> str:
    """The stage a Dagster step belongs to (ingest steps are one per extract)."""
    key = step_key.lower()
    if key.startswith("raw__") or key.startswith("ingest"):
        return "ingest"
    if key.startswith("dbt_staging"):
        return "dbt_staging"
    if key.startswith("dbt_"):
        return "dbt_analytics"
    if "resolution" in key or "person" in key:
        return "resolution"
    if "hotspot" in key or "spatial" in key:
        return "hotspots"
    if "forecast" in key:
        return "forecast"
    if any(word in key for word in ("report", "publish", "tasking", "fms", "export", "quality")):
        return "publish"
    return key


_PROGRESS = re.compile(
    r"^\[\s*(?P<t>[\d.]+)s\]\s+(?P<mark>▶|■|✗ FAILED)\s+(?P<step>\S+)(?:\s+\((?P<took>[\d.]+)s\))?"
)


def parse_progress_lines(lines: Iterable[str | tuple[float, str]]) -> list[StepTiming]:
    """Steps from the progress lines of pipelines/progress.py ("[  1.2s] ▶ step",
    "[  2.0s] ■ step (0.8s)", "[ 2.0s] ✗ FAILED step (0.8s)"). Lines may come as
    (arrival unix time, text); without arrival times the run-relative seconds are used."""
    started: dict[str, float] = {}
    steps: list[StepTiming] = []
    for item in lines:
        arrival, text = item if isinstance(item, tuple) else (None, item)
        match = _PROGRESS.match(text.strip())
        if not match:
            continue
        at = arrival if arrival is not None else float(match["t"])
        step, mark = match["step"], match["mark"]
        if mark == "▶":
            started[step] = at
            continue
        took = float(match["took"]) if match["took"] else 0.0
        start = started.pop(step, at - took)
        steps.append(StepTiming(step, start, at, "SUCCESS" if mark == "■" else "FAILURE"))
    return steps


def peak_between(samples: Sequence[tuple[float, int]], start: float, end: float) -> int | None:
    """Largest sampled RSS in [start, end]; the nearest sample if none falls inside (a step
    shorter than the polling interval)."""
    inside = [rss for t, rss in samples if start <= t <= end]
    if inside:
        return max(inside)
    if not samples:
        return None
    middle = (start + end) / 2
    return min(samples, key=lambda s: abs(s[0] - middle))[1]


def ratio(value: float | None, floor: float | None) -> float | None:
    if value is None or not floor:
        return None
    return round(value / floor, 2)


def per_second(rows: int | None, seconds: float | None) -> float | None:
    if rows is None or not seconds:
        return None
    return round(rows / seconds, 1)


def _stage_status(statuses: Sequence[str]) -> str:
    if all(s == "SUCCESS" for s in statuses):
        return "SUCCESS"
    return "KILLED" if "KILLED" in statuses else "FAILURE"


def aggregate_stages(
    steps: Sequence[StepTiming],
    samples: Sequence[tuple[float, int]],
    rows: dict[str, int | None],
    floors: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    """One row per stage: summed step wall, floor, ratio, peak tree RSS, rows, rows/s."""
    grouped: dict[str, list[StepTiming]] = {}
    for step in steps:
        grouped.setdefault(stage_of(step.step), []).append(step)
    order = {name: i for i, name in enumerate(STAGE_ORDER)}
    out = []
    for stage in sorted(grouped, key=lambda s: (order.get(s, len(order)), s)):
        members = grouped[stage]
        wall = sum(s.seconds for s in members)
        peaks = [p for s in members if (p := peak_between(samples, s.start, s.end)) is not None]
        floor = floors.get(stage, {})
        floor_s = floor.get("seconds")
        out.append(
            {
                "stage": stage,
                "steps": [s.step for s in members],
                "status": _stage_status([s.status for s in members]),
                "wall_s": round(wall, 2),
                "floor_s": round(floor_s, 2) if floor_s is not None else None,
                "floor_what": floor.get("what"),
                "ratio": ratio(wall, floor_s),
                "peak_rss_mb": round(max(peaks) / 1e6, 1) if peaks else None,
                "rows": rows.get(stage),
                "rows_per_s": per_second(rows.get(stage), wall),
            }
        )
    return out


def orchestration_overhead(
    process_wall: float,
    process_start: float,
    process_end: float,
    steps: Sequence[StepTiming],
    dbt_elapsed: dict[str, float],
) -> dict[str, Any]:
    """Time spent outside the work itself: process start-up (imports, dbt parse, Definitions),
    gaps between steps, tear-down, plus dbt's own start-up inside each dbt step (step wall minus
    the run's `elapsed_time` in run_results.json)."""
    if not steps:
        return {"total_s": round(process_wall, 2), "process_wall_s": round(process_wall, 2)}
    first = min(s.start for s in steps)
    last = max(s.end for s in steps)
    steps_sum = sum(s.seconds for s in steps)
    dbt_startup = {
        s.step: round(max(0.0, s.seconds - dbt_elapsed[s.step]), 2)
        for s in steps
        if s.step in dbt_elapsed
    }
    outside = process_wall - steps_sum
    return {
        "process_wall_s": round(process_wall, 2),
        "steps_sum_s": round(steps_sum, 2),
        "startup_s": round(max(0.0, first - process_start), 2),
        "between_steps_s": round(max(0.0, (last - first) - steps_sum), 2),
        "teardown_s": round(max(0.0, process_end - last), 2),
        "dbt_startup_s": dbt_startup,
        "total_s": round(outside + sum(dbt_startup.values()), 2),
    }


def cost_growth(scales: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """How wall time and peak memory grow with rows, scale to scale (ordered by size)."""
    rows_of = {
        name: result.get("extract_rows_total")
        for name, result in scales.items()
        if result.get("ok") and result.get("extract_rows_total")
    }
    ordered = sorted(rows_of, key=lambda name: rows_of[name])
    out = []
    previous = None
    for name in ordered:
        result = scales[name]
        wall = result["run"]["process_wall_s"]
        peak = result["run"]["peak_rss_mb"]
        row: dict[str, Any] = {
            "scale": name,
            "rows": rows_of[name],
            "wall_s": wall,
            "peak_rss_mb": peak,
            "us_per_row": round(wall / rows_of[name] * 1e6, 1),
        }
        if previous is not None:
            p = scales[previous]
            rows_x = rows_of[name] / rows_of[previous]
            wall_x = wall / p["run"]["process_wall_s"]
            row.update(
                {
                    "from": previous,
                    "rows_x": round(rows_x, 2),
                    "wall_x": round(wall_x, 2),
                    "peak_x": round(peak / p["run"]["peak_rss_mb"], 2),
                    # 1.0 = linear in rows; < 1 = fixed costs amortised; > 1 = super-linear.
                    "wall_x_per_rows_x": round(wall_x / rows_x, 2),
                }
            )
        out.append(row)
        previous = name
    return out


def check_targets(scale: str, result: dict[str, Any]) -> dict[str, Any]:
    """Pass/fail against the benchmark targets (None where no target is set)."""
    if scale not in TARGETS or not result.get("ok"):
        return {}
    wall_target, peak_target = TARGETS[scale]
    run = result["run"]
    out: dict[str, Any] = {
        "wall_target_s": wall_target,
        "wall_ok": run["process_wall_s"] <= wall_target,
        "peak_target_mb": peak_target / 1e6,
        "peak_ok": run["peak_rss_mb"] * 1e6 <= peak_target,
    }
    if scale == "force":
        total = result["orchestration"]["total_s"]
        out.update(
            {
                "orchestration_target_s": ORCHESTRATION_TARGET_S,
                "orchestration_ok": total <= ORCHESTRATION_TARGET_S,
            }
        )
    return out


def merge_report(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """A bench of some scales replaces those scales and keeps the others."""
    scales = dict((old or {}).get("scales", {}))
    scales.update(new["scales"])
    merged = {**(old or {}), **new, "scales": scales}
    merged["cost_growth"] = cost_growth(scales)
    return merged


# =========================================================================== markdown
def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def render_markdown(report: dict[str, Any], notes: str = "") -> str:
    machine = report.get("machine", {})
    lines = [
        "# Benchmarks",
        "",
        "Generated by `spp bench` (pipelines/evaluation/bench.py) from docs/benchmarks.json; "
        "do not edit the tables by hand. Each scale: the synthetic force (seed "
        f"{report.get('seed', SEED)}, {YEARS} years to {END_QUARTER}) is generated once into a "
        "cache (set-up, not timed), then `spp profile` runs the whole quarter through Dagster in "
        "a subprocess with a fresh DAGSTER_HOME and a fresh warehouse.",
        "",
        "- **wall**: the stage's Dagster steps (STEP_START → STEP_SUCCESS, from the run's event "
        "log). **floor**: the same computation alone, no orchestration (what it is: last column). "
        "**ratio** = wall / floor.",
        "- **peak RSS**: largest sampled RSS (every 0.1 s) of the whole process tree (CLI + dbt "
        "subprocesses) while the stage ran. **rows**: ingest = extract rows read; resolution = "
        "person mentions; other stages = rows loaded into raw (the volume the run carries).",
        "- **orchestration overhead** = process wall − Σ step walls (imports, dbt parse, "
        "Definitions, Dagster between steps) + dbt's own start-up inside each dbt step (step wall "
        "− `elapsed_time` of its run_results.json).",
        "",
        "## Machine",
        "",
        f"{machine.get('cpu', '?')}, {machine.get('cores_logical', '?')} logical cores, "
        f"{_fmt(machine.get('ram_gb'))} GB RAM, {machine.get('os', '?')}, "
        f"Python {machine.get('python', '?')}.",
        "",
        "Packages: "
        + ", ".join(f"{k} {v}" for k, v in sorted(machine.get("packages", {}).items()))
        + ".",
        "",
    ]
    scales = report.get("scales", {})
    ordered = [s for s in ALL_SCALES if s in scales] + [s for s in scales if s not in ALL_SCALES]
    for name in ordered:
        result = scales[name]
        lines += [f"## {name}", ""]
        lines.append(
            f"Command: `{result.get('command', '')}` · measured {result.get('measured_at', '?')} "
            f"· load average before the run {result.get('load_before', '?')}"
        )
        lines.append("")
        if not result.get("ok"):
            lines += [f"**Run failed**: {result.get('error', 'unknown error')}", ""]
        run = result.get("run", {})
        rows = result.get("extract_rows", {})
        lines.append(
            f"Extract rows: {_fmt(result.get('extract_rows_total'))} ("
            + ", ".join(f"{k} {_fmt(v)}" for k, v in rows.items())
            + f"). Set-up, not timed: generate {_fmt(result.get('generate_s'))} s (cached), "
            f"dbt parse for this warehouse {_fmt(result.get('prepare_s'))} s."
        )
        lines.append("")
        lines.append(
            f"**Whole profile: {_fmt(run.get('process_wall_s'))} s wall, peak RSS "
            f"{_fmt(run.get('peak_rss_mb'), 0)} MB.**"
        )
        targets = result.get("targets", {})
        if targets:
            bits = [
                f"wall ≤ {_fmt(targets['wall_target_s'], 0)} s: {_fmt(targets['wall_ok'])}",
                f"peak ≤ {_fmt(targets['peak_target_mb'], 0)} MB: {_fmt(targets['peak_ok'])}",
            ]
            if "orchestration_ok" in targets:
                bits.append(
                    f"orchestration ≤ {_fmt(targets['orchestration_target_s'], 0)} s: "
                    f"{_fmt(targets['orchestration_ok'])}"
                )
            lines.append("Targets: " + "; ".join(bits) + ".")
        lines += [
            "",
            "| stage | wall s | floor s | ratio | peak RSS MB | rows | rows/s | floor = |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for stage in result.get("stages", []):
            status = "" if stage["status"] == "SUCCESS" else f" ({stage['status']})"
            lines.append(
                f"| {stage['stage']}{status} "
                f"| {_fmt(stage['wall_s'], 2)} | {_fmt(stage['floor_s'], 2)} "
                f"| {_fmt(stage['ratio'], 2)} | {_fmt(stage['peak_rss_mb'], 0)} "
                f"| {_fmt(stage['rows'])} | {_fmt(stage['rows_per_s'], 0)} "
                f"| {stage.get('floor_what') or '–'} |"
            )
        orch = result.get("orchestration", {})
        if orch:
            dbt_startup = orch.get("dbt_startup_s", {})
            lines += [
                "",
                f"Orchestration overhead **{_fmt(orch.get('total_s'))} s**: start-up (imports, "
                f"dbt parse check, Definitions) {_fmt(orch.get('startup_s'))} s, between steps "
                f"{_fmt(orch.get('between_steps_s'))} s, tear-down {_fmt(orch.get('teardown_s'))}"
                " s, dbt start-up inside steps "
                + (", ".join(f"{k} {_fmt(v)} s" for k, v in dbt_startup.items()) or "–")
                + ".",
            ]
        lines.append("")
    growth = report.get("cost_growth", [])
    if growth:
        lines += [
            "## Cost growth",
            "",
            "wall×/rows× = 1 is linear in rows; below 1, fixed costs are being amortised; above "
            "1, super-linear.",
            "",
            "| scale | rows | wall s | peak RSS MB | µs/row | rows × | wall × | peak × "
            "| wall×/rows× |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in growth:
            lines.append(
                f"| {row['scale']} | {_fmt(row['rows'])} | {_fmt(row['wall_s'])} "
                f"| {_fmt(row['peak_rss_mb'], 0)} | {_fmt(row['us_per_row'])} "
                f"| {_fmt(row.get('rows_x'), 2)} | {_fmt(row.get('wall_x'), 2)} "
                f"| {_fmt(row.get('peak_x'), 2)} | {_fmt(row.get('wall_x_per_rows_x'), 2)} |"
            )
        lines.append("")
    lines += [NOTES_MARKER, notes.strip("\n"), ""]
    return "\n".join(lines)


def existing_notes(md_path: Path) -> str:
    if not md_path.exists():
        return ""
    text = md_path.read_text(encoding="utf-8")
    return text.split(NOTES_MARKER, 1)[1] if NOTES_MARKER in text else ""


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
    scale: str, seed: int, cache: Path, keep_stale: bool = False
) -> tuple[Path, float | None]:
    """The preset's extracts, generated once (`.complete` marks a finished folder and records
    the generator fingerprint; a stale folder is regenerated unless keep_stale)."""
    from pipelines.synthetic import generate_force

    folder = cache / f"{scale}-seed{seed}"
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
    generate_force(scale=scale, seed=seed, out_dir=folder, end_quarter=END_QUARTER, years=YEARS)
    seconds = round(time.perf_counter() - started, 1)
    marker = {"seconds": seconds, "end_quarter": END_QUARTER, "generator": fingerprint}
    done.write_text(json.dumps(marker) + "\n")
    return folder, seconds


def extract_rows(extracts: Path) -> dict[str, int]:
    """Data rows per extract file, counted by DuckDB (the floor reader, without the load)."""
    import duckdb

    counts = {}
    with duckdb.connect() as con:
        for name in LOAD_ORDER:
            path = _extract_file(extracts, name)
            if path is not None:
                counts[name] = con.execute(f"select count(*) from {_reader(path)}").fetchone()[0]
    return counts


def _extract_file(extracts: Path, name: str) -> Path | None:
    for suffix in (".csv", ".parquet"):
        if (extracts / f"{name}{suffix}").exists():
            return extracts / f"{name}{suffix}"
    return None


def _reader(path: Path) -> str:
    quoted = str(path).replace("'", "''")
    if path.suffix == ".parquet":
        return f"read_parquet('{quoted}')"
    return f"read_csv('{quoted}', all_varchar = true, header = true)"


# =========================================================================== the measured run
class TreeSampler(threading.Thread):
    """Polls the summed RSS of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._halt.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for proc in procs:
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    total += proc.memory_info().rss
            if total:
                self.samples.append((time.time(), total))
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

    @property
    def wall(self) -> float:
        return self.process_end - self.process_start

    @property
    def peak(self) -> int:
        return max((rss for _, rss in self.samples), default=0)


def profile_command(extracts: Path, run_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "pipelines.cli", "profile",
        "--extracts", str(extracts),
        "--quarter", END_QUARTER,
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


def prepare_dbt_for(warehouse: Path) -> float:
    """Set-up, like generating the data: the dbt manifest parsed for this warehouse (dbt's
    partial parse is keyed on the profile's path), as a force's repeat runs would find it."""
    from pipelines.dbt_project import prepare

    saved = os.environ.get("SPP_WAREHOUSE")
    os.environ["SPP_WAREHOUSE"] = str(warehouse.resolve())
    try:
        seconds, _ = _timed(prepare)
    finally:
        if saved is None:
            os.environ.pop("SPP_WAREHOUSE", None)
        else:
            os.environ["SPP_WAREHOUSE"] = saved
    return round(seconds, 2)


def _kill_tree(pid: int) -> None:
    import psutil

    with contextlib.suppress(psutil.NoSuchProcess):
        root = psutil.Process(pid)
        for proc in [*root.children(recursive=True), root]:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()


def run_profile(
    extracts: Path, run_dir: Path, py_spy: bool = False, timeout: float | None = None
) -> RunMeasurement:
    """`spp profile` in a subprocess with a fresh DAGSTER_HOME and warehouse, RSS polled."""
    if run_dir.exists():
        shutil.rmtree(run_dir)
    (run_dir / "dagster_home").mkdir(parents=True)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(run_dir / "dagster_home"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PYTHONUNBUFFERED": "1",
    }
    command = profile_command(extracts, run_dir)
    if py_spy:
        command = [
            str(Path(sys.executable).parent / "py-spy"), "record", "--subprocesses",
            "--rate", "50", "--format", "raw",
            "-o", str(run_dir / "py-spy.collapsed.txt"), "--", *command,
        ]  # fmt: skip
    log = (run_dir / "profile.log").open("w", encoding="utf-8")
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
    returncode = proc.wait()
    end = time.time()
    if watchdog:
        watchdog.cancel()
    sampler.stop()
    log.close()
    return RunMeasurement(returncode, start, end, sampler.samples, progress)


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


def dbt_elapsed_in_run(run_id: str | None, steps: Sequence[StepTiming]) -> dict[str, float]:
    """dbt's own `elapsed_time` (run_results.json) for each dbt step of the run: dagster-dbt
    writes each invocation's artifacts to target/<op>-<run id[:7]>-<random>/."""
    out: dict[str, float] = {}
    if not run_id:
        return out
    for step in steps:
        if stage_of(step.step) not in DBT_STAGES:
            continue
        found = sorted((DBT_PROJECT_DIR / "target").glob(f"{step.step}-{run_id[:7]}-*"))
        for folder in found:
            results = folder / "run_results.json"
            if results.exists():
                out[step.step] = float(json.loads(results.read_text())["elapsed_time"])
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


# =========================================================================== floors
def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def floor_ingest(extracts: Path, warehouse: Path, run_dir: Path) -> dict[str, Any]:
    """DuckDB reading the five extract files into tables, nothing else."""
    import duckdb

    def read_all() -> None:
        with duckdb.connect() as con:
            for name in LOAD_ORDER:
                path = _extract_file(extracts, name)
                if path is not None:
                    con.execute(f"create table {name} as select * from {_reader(path)}")

    seconds, _ = _timed(read_all)
    return {"seconds": seconds, "what": "DuckDB read_csv of the 5 extracts"}


def _dbt_selection() -> str:
    try:
        from pipelines.assets.transform import BEFORE_RESOLUTION

        return BEFORE_RESOLUTION
    except Exception:  # the wiring module is someone else's; fall back to its known value
        return "resource_type:seed staging tag:before_resolution"


def floor_dbt(which: str, warehouse: Path, run_dir: Path) -> dict[str, Any]:
    """`dbt build` alone, same selection and vars as the Dagster step, on the same warehouse."""
    from pipelines.dbt_project import dbt_command

    target = run_dir / f"dbt-floor-{which}"
    target.mkdir(parents=True, exist_ok=True)
    # The same partial-parse head start dagster-dbt gives its invocations.
    partial = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
    if partial.exists():
        shutil.copy(partial, target / "partial_parse.msgpack")
    selection = ["--select" if which == "dbt_staging" else "--exclude", *_dbt_selection().split()]
    env = {
        **os.environ,
        "SPP_WAREHOUSE": str(warehouse.resolve()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_TARGET_PATH": str(target),
    }
    command = dbt_command("build", "--quiet", *selection)
    seconds, proc = _timed(
        lambda: subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
    )
    results = target / "run_results.json"
    sql = json.loads(results.read_text())["elapsed_time"] if results.exists() else None
    out = {
        "seconds": seconds,
        "what": "`dbt build` alone",
        "dbt_elapsed_s": round(sql, 2) if sql is not None else None,
        "dbt_startup_s": round(seconds - sql, 2) if sql is not None else None,
    }
    if proc.returncode != 0:
        out["error"] = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["dbt failed"]
    return out


def floor_resolution(extracts: Path, warehouse: Path, run_dir: Path) -> dict[str, Any]:
    """resolve_mentions alone on the run's int_person_mentions (read once, as Arrow)."""
    import duckdb

    from pipelines.resolution import ResolutionConfig, resolve_mentions
    from pipelines.settings import load_settings

    settings = load_settings().resolution
    config = ResolutionConfig(
        match_probability_threshold=settings.match_probability_threshold,
        dob_conflict_years=settings.dob_conflict_years,
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        mentions = con.sql("select * from intermediate.int_person_mentions").to_arrow_table()
    seconds, _ = _timed(lambda: resolve_mentions(mentions, config))
    return {"seconds": seconds, "what": "resolve_mentions (Splink) alone"}


def floor_hotspots(extracts: Path, warehouse: Path, run_dir: Path) -> dict[str, Any]:
    """compute_hotspots alone on the points the hotspots asset reads, as the asset calls it
    (density for the published quarters only)."""
    import duckdb

    from pipelines.hotspots import HotspotParams, compute_hotspots, published_quarters

    with duckdb.connect(str(warehouse), read_only=True) as con:
        points = con.execute(
            "select quarter, latitude, longitude from marts.stalking_crimes "
            "where latitude is not null and longitude is not null and quarter <= ?",
            [END_QUARTER],
        ).df()
    published = published_quarters(END_QUARTER)
    seconds, _ = _timed(
        lambda: compute_hotspots(
            points,
            HotspotParams.from_settings(),
            density_quarters=published,
        )
    )
    return {"seconds": seconds, "what": "compute_hotspots (Gi*, KDE) alone"}


def floor_forecast(extracts: Path, warehouse: Path, run_dir: Path) -> dict[str, Any]:
    """forecast_series alone on the series the forecasting asset reads (same horizons)."""
    import math

    import duckdb
    import pandas as pd

    from pipelines.forecasting import ForecastParams, forecast_series
    from pipelines.forecasting.fms import months_to_cover
    from pipelines.quarters import quarter_end

    settings = load_settings_cached()
    params = ForecastParams.from_settings()
    as_of = quarter_end(END_QUARTER)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        series = con.execute(
            "select series, period, period_start, value from marts.demand_series "
            "where is_complete and period_start <= ?",
            [as_of],
        ).df()
    wanted = getattr(settings.forecasting, "series", None)
    if wanted:
        series = series[series["series"].isin(wanted)]

    def run() -> None:
        for period, part in series.groupby("period"):
            last = pd.Timestamp(part["period_start"].max()).date()
            months = months_to_cover(last, as_of, params.horizon_years)
            horizon = months if period == "month" else math.ceil(months / 3)
            frame = part.assign(series=part["series"] + "|" + part["period"])
            forecast_series(frame[["series", "period_start", "value"]], horizon, params)

    seconds, _ = _timed(run)
    return {"seconds": seconds, "what": "forecast_series (statsforecast) alone"}


def load_settings_cached() -> Any:
    from pipelines.settings import load_settings

    return load_settings()


FLOORS: dict[str, Callable[[Path, Path, Path], dict[str, Any]]] = {
    "ingest": floor_ingest,
    "dbt_staging": lambda e, w, r: floor_dbt("dbt_staging", w, r),
    "resolution": floor_resolution,
    "dbt_analytics": lambda e, w, r: floor_dbt("dbt_analytics", w, r),
    "hotspots": floor_hotspots,
    "forecast": floor_forecast,
}


def measure_floors(
    stages: Iterable[str], extracts: Path, warehouse: Path, run_dir: Path
) -> dict[str, dict[str, Any]]:
    floors: dict[str, dict[str, Any]] = {}
    for stage in stages:
        fn = FLOORS.get(stage)
        if fn is None:
            continue
        print(f"[bench]   floor {stage} ...", flush=True)
        try:
            floors[stage] = fn(extracts, warehouse, run_dir)
        except Exception as error:  # a floor that cannot run is reported, not fatal
            floors[stage] = {"seconds": None, "what": f"not measured: {type(error).__name__}"}
            print(f"[bench]   floor {stage} failed: {error}", flush=True)
    return floors


# =========================================================================== one scale
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
    extracts, generate_s = ensure_extracts(scale, seed, cache, keep_stale)
    rows = extract_rows(extracts)
    run_dir = work / scale
    prepare_s = prepare_dbt_for(run_dir / "warehouse.duckdb")
    load_before = round(os.getloadavg()[0], 2)
    print(f"[bench] {scale}: profiling {sum(rows.values()):,} extract rows ...", flush=True)
    run = run_profile(extracts, run_dir, py_spy=py_spy, timeout=timeout)
    command = " ".join(profile_command(extracts, run_dir)).replace(sys.executable, "python")
    result: dict[str, Any] = {
        "command": command,
        "measured_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_before": load_before,
        "extracts": str(extracts),
        "extract_rows": rows,
        "extract_rows_total": sum(rows.values()),
        "generate_s": generate_s,
        "prepare_s": prepare_s,
        "ok": run.returncode == 0,
        "run": {
            "process_wall_s": round(run.wall, 2),
            "peak_rss_mb": round(run.peak / 1e6, 1),
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
    warehouse = run_dir / "warehouse.duckdb"
    # Floors of the stages that succeeded (their inputs are in the warehouse).
    failed = {stage_of(s.step) for s in steps if s.status != "SUCCESS"}
    stage_names = [n for n in dict.fromkeys(stage_of(s.step) for s in steps) if n not in failed]
    measured_floors = measure_floors(stage_names, extracts, warehouse, run_dir) if floors else {}
    result["floors"] = measured_floors
    result["stages"] = aggregate_stages(
        steps, run.samples, stage_rows(warehouse, sum(rows.values())), measured_floors
    )
    result["steps"] = [
        {"step": s.step, "seconds": round(s.seconds, 2), "status": s.status} for s in steps
    ]
    result["orchestration"] = orchestration_overhead(
        run.wall, run.process_start, run.process_end, steps, dbt_elapsed_in_run(run_id, steps)
    )
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
        run = result["run"]
        print(
            f"[bench] {scale}: {'ok' if result['ok'] else 'FAILED'} wall {run['process_wall_s']} s"
            f", peak {run['peak_rss_mb']:.0f} MB, orchestration "
            f"{result['orchestration'].get('total_s')} s (bench {time.perf_counter() - started:.0f}"
            " s)",
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
