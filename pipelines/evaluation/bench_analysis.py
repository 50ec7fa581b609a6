"""Pure helpers of the end-to-end benchmark (`spp bench`): step timings grouped into stages,
floors and ratios, targets, cost growth, and the docs/benchmarks.md rendering."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.paths import PROJECT_ROOT

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
# Targets of the cold first run: (wall seconds, peak bytes) per preset; on force also the
# second quarter's wall and the start-up (command to first step).
TARGETS: dict[str, tuple[float, float]] = {
    "force": (30.0, 1e9),
    "large": (60.0, 6e9),
    "national": (600.0, 12e9),
}
SECOND_QUARTER_TARGET_S = {"force": 20.0}
STARTUP_TARGET_S = 5.0
# The contract checks (Great Expectations, one asset-check step per extract), all told.
CONTRACT_CHECKS_TARGET_S = 1.5
# A stage is within target at most this many times its floor.
FLOOR_RATIO_TARGET = 2.0
# dbt nodes listed per run in docs/benchmarks.md (slowest first).
DBT_NODES_SHOWN = 12
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


def contract_check_seconds(steps: Sequence[StepTiming]) -> float | None:
    """Wall of the contract-check steps (`raw__contract_checks`, one for the five suites;
    `raw__<extract>_contract` in runs before it), summed; None if none ran."""
    checks = [s.seconds for s in steps if s.step.endswith(("_contract", "_contract_checks"))]
    return round(sum(checks), 2) if checks else None


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


def cpu_between(cpu_samples: Sequence[tuple[float, float]], start: float, end: float) -> float:
    """CPU seconds the process tree used in [start, end], from cumulative samples (the last
    sample at or before each end; 0 before the first sample, when the process began)."""

    def at(moment: float) -> float:
        return max((cpu for t, cpu in cpu_samples if t <= moment), default=0.0)

    return round(max(0.0, at(end) - at(start)), 2)


def aggregate_stages(
    steps: Sequence[StepTiming],
    samples: Sequence[tuple[float, int]],
    rows: dict[str, int | None],
    floors: dict[str, dict[str, Any]],
    cpu_samples: Sequence[tuple[float, float]] = (),
) -> list[dict[str, Any]]:
    """One row per stage: summed step wall and CPU, floor, ratio, peak tree RSS, rows, rows/s."""
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
                "cpu_s": (
                    round(sum(cpu_between(cpu_samples, s.start, s.end) for s in members), 2)
                    if cpu_samples
                    else None
                ),
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


def dbt_node_summary(results_by_step: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Where dbt's time goes, from run_results.json: per step dbt's elapsed time and the sum of
    its nodes' own times (the SQL, tests and seeds it runs, which 2 threads overlap), and the
    slowest nodes of the run."""
    steps: dict[str, dict[str, Any]] = {}
    nodes: list[dict[str, Any]] = []
    for step, results in results_by_step.items():
        own = [
            {
                "node": r["unique_id"],
                "kind": r["unique_id"].split(".", 1)[0],
                "step": step,
                "seconds": round(float(r.get("execution_time") or 0.0), 3),
            }
            for r in results.get("results", [])
        ]
        nodes += own
        counts: dict[str, int] = {}
        for node in own:
            counts[node["kind"]] = counts.get(node["kind"], 0) + 1
        steps[step] = {
            "elapsed_s": round(float(results.get("elapsed_time", 0.0)), 2),
            "nodes_sum_s": round(sum(n["seconds"] for n in own), 2),
            "nodes": counts,
        }
    nodes.sort(key=lambda n: n["seconds"], reverse=True)
    return {"steps": steps, "slowest": nodes[:DBT_NODES_SHOWN]}


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
        # The memory the run holds: summed PSS (summed RSS counts forked workers' shared pages
        # once per process); results measured before PSS was recorded fall back to RSS.
        "peak_ok": run.get("peak_pss_mb", run["peak_rss_mb"]) * 1e6 <= peak_target,
    }
    second = result.get("second_quarter", {}).get("run")
    if scale in SECOND_QUARTER_TARGET_S and second:
        out["second_quarter_target_s"] = SECOND_QUARTER_TARGET_S[scale]
        out["second_quarter_ok"] = second["process_wall_s"] <= SECOND_QUARTER_TARGET_S[scale]
    if scale == "force":
        startup = result["orchestration"].get("startup_s")
        out["startup_target_s"] = STARTUP_TARGET_S
        out["startup_ok"] = startup is not None and startup <= STARTUP_TARGET_S
        checks = result.get("contract_checks_s")
        out["contract_checks_target_s"] = CONTRACT_CHECKS_TARGET_S
        out["contract_checks_ok"] = checks is not None and checks <= CONTRACT_CHECKS_TARGET_S
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


def _run_line(name: str, result: dict[str, Any]) -> str:
    run = result.get("run", {})
    orch = result.get("orchestration", {})
    return (
        f"**{name}: {_fmt(run.get('process_wall_s'))} s wall, "
        f"{_fmt(run.get('process_cpu_s'))} s CPU, peak {_fmt(run.get('peak_pss_mb'), 0)} MB PSS "
        f"({_fmt(run.get('peak_rss_mb'), 0)} MB summed RSS); "
        f"start-up (command to first step) {_fmt(orch.get('startup_s'))} s wall, "
        f"{_fmt(orch.get('startup_cpu_s'))} s CPU; contract checks "
        f"{_fmt(result.get('contract_checks_s'), 2)} s.** "
        f"Load average {_fmt(result.get('load_before'), 2)} before, "
        f"{_fmt(result.get('load_after'), 2)} after.{_speed_probe_text(result.get('speed_probe'))}"
        f" Command: `{result.get('command', '')}` · "
        f"measured {result.get('measured_at', '?')}"
    )


def _speed_probe_text(probe: dict[str, float] | None) -> str:
    if not probe:
        return ""
    return (
        f" Machine speed just before (best of 3, lower is faster): Python loop "
        f"{_fmt(probe.get('python_s'), 2)} s, DuckDB aggregate {_fmt(probe.get('duckdb_s'), 2)} s."
    )


def _orchestration_line(name: str, orch: dict[str, Any]) -> str:
    dbt_startup = orch.get("dbt_startup_s", {})
    return (
        f"{name}: orchestration overhead **{_fmt(orch.get('total_s'))} s** = start-up (imports, "
        f"dbt parse check, Definitions) {_fmt(orch.get('startup_s'))} s + between steps "
        f"{_fmt(orch.get('between_steps_s'))} s + tear-down {_fmt(orch.get('teardown_s'))} s + "
        "dbt's work around the SQL inside steps ("
        + (", ".join(f"{k} {_fmt(v)} s" for k, v in dbt_startup.items()) or "–")
        + ")."
    )


def _scale_section(name: str, result: dict[str, Any]) -> list[str]:
    second = result.get("second_quarter", {})
    lines = [f"## {name}", ""]
    if not result.get("ok"):
        error = result.get("error") or second.get("error") or "unknown error"
        lines += [f"**Run failed**: {error}", ""]
    rows = result.get("extract_rows", {})
    lines += [
        f"{'Cold delivery' if second else 'Delivery'} ({result.get('quarter', END_QUARTER)}): "
        f"{_fmt(result.get('extract_rows_total'))} "
        "extract rows ("
        + ", ".join(f"{k} {_fmt(v)}" for k, v in rows.items())
        + f"). Set-up, not timed: generate {_fmt(result.get('generate_s'))} s (cached), the "
        f"project's one dbt parse {_fmt(result.get('project_parse_s'))} s.",
        "",
        _run_line(
            f"Cold first run ({result.get('quarter', '?')})"
            if second
            else "Single run of an older harness (dbt parsed for its warehouse beforehand, not "
            "timed; not a cold run)",
            result,
        ),
        "",
    ]
    if second:
        lines += [
            _run_line(f"Second quarter ({second.get('quarter', '?')})", second),
            "",
        ]
    targets = result.get("targets", {})
    if targets:
        bits = [
            f"{'cold ' if second else ''}wall ≤ {_fmt(targets['wall_target_s'], 0)} s: "
            f"{_fmt(targets['wall_ok'])}",
            f"peak ≤ {_fmt(targets['peak_target_mb'], 0)} MB: {_fmt(targets['peak_ok'])}",
        ]
        if "second_quarter_ok" in targets:
            bits.append(
                f"second quarter ≤ {_fmt(targets['second_quarter_target_s'], 0)} s: "
                f"{_fmt(targets['second_quarter_ok'])}"
            )
        if "startup_ok" in targets:
            bits.append(
                f"start-up ≤ {_fmt(targets['startup_target_s'], 0)} s: "
                f"{_fmt(targets['startup_ok'])}"
            )
        if "contract_checks_ok" in targets:
            bits.append(
                f"contract checks ≤ {_fmt(targets['contract_checks_target_s'])} s: "
                f"{_fmt(targets['contract_checks_ok'])}"
            )
        lines += [("Targets: " if second else "Targets of that time: ") + "; ".join(bits) + ".", ""]
    second_stages = {s["stage"]: s for s in second.get("stages", [])}
    lines += [
        "| stage | cold s | cold CPU s | second quarter s | floor s | cold / floor "
        "| second / floor | peak RSS MB | rows | floor = |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for stage in result.get("stages", []):
        other = second_stages.get(stage["stage"], {})
        status = "" if stage["status"] == "SUCCESS" else f" ({stage['status']})"
        lines.append(
            f"| {stage['stage']}{status} | {_fmt(stage['wall_s'], 2)} "
            f"| {_fmt(stage.get('cpu_s'), 2)} | {_fmt(other.get('wall_s'), 2)} "
            f"| {_fmt(stage['floor_s'], 2)} "
            f"| {_fmt(stage['ratio'], 2)} | {_fmt(other.get('ratio'), 2)} "
            f"| {_fmt(stage['peak_rss_mb'], 0)} | {_fmt(stage['rows'])} "
            f"| {stage.get('floor_what') or '–'} |"
        )
    lines.append("")
    for label, run in (("Cold", result), ("Second quarter", second)):
        if run.get("orchestration"):
            lines += [_orchestration_line(label, run["orchestration"]), ""]
    dbt = result.get("dbt", {})
    if dbt.get("steps"):
        lines += [
            "dbt in the cold run (run_results.json): "
            + "; ".join(
                f"{step} {_fmt(d['elapsed_s'])} s elapsed, its nodes {_fmt(d['nodes_sum_s'])} s "
                "summed over 2 threads ("
                + ", ".join(f"{n} {kind}" for kind, n in sorted(d["nodes"].items()))
                + ")"
                for step, d in dbt["steps"].items()
            )
            + ". Slowest nodes:",
            "",
            "| node | step | s |",
            "|---|---|---:|",
            *(f"| {n['node']} | {n['step']} | {_fmt(n['seconds'], 2)} |" for n in dbt["slowest"]),
            "",
        ]
    return lines


def render_markdown(report: dict[str, Any], notes: str = "") -> str:
    machine = report.get("machine", {})
    lines = [
        "# Benchmarks",
        "",
        "Generated by `spp bench` (pipelines/evaluation/bench.py) from docs/benchmarks.json; "
        "do not edit the tables by hand. Each scale is profiled as an analyst runs it: "
        f"`spp profile` in a subprocess, first a **cold first run** (the synthetic force, seed "
        f"{report.get('seed', SEED)}, {YEARS} years to the quarter before {END_QUARTER}, into "
        "a fresh warehouse with a fresh DAGSTER_HOME; dbt as the project's set-up leaves it), "
        f"then the **second quarter** (the next delivery, to {END_QUARTER}) into the same "
        "warehouse. Generating the data and the project's one dbt parse are set-up, timed "
        "apart.",
        "",
        "- **cold s / second quarter s**: the stage's Dagster steps (STEP_START → STEP_SUCCESS, "
        "from the run's event log). **floor**: the same computation alone, no orchestration, on "
        "the second quarter's warehouse (what it is: last column). **cold / floor** = ratio; "
        f"target ≤ {_fmt(FLOOR_RATIO_TARGET)}.",
        "- **CPU**: user + system seconds of the whole process tree (the CLI, which runs dbt "
        "in-process, its helper processes, the fork server and its workers: the larger of the "
        "run's rusage and its last sampled tree CPU, since rusage misses the fork server, which "
        "the run never reaps); on a shared machine wall time means little without it and the "
        "load. "
        "**cold CPU s**: the same, sampled every 0.1 s, over the stage's steps (so a stage's CPU "
        "includes work of background threads and helper processes then running, e.g. the GX "
        "validation process during ingest; a helper that has ended keeps its CPU in the sum).",
        "- **peak RSS**: largest sampled RSS (every 0.1 s) of the whole process tree while the "
        "stage ran (cold run). **rows** (the second quarter's, whose warehouse the floors run "
        "on): ingest = extract rows read; resolution = person mentions; other stages = rows "
        "loaded into raw (the volume the run carries).",
        "- **orchestration overhead** = process wall − Σ step walls (imports, dbt parse check, "
        "Definitions, Dagster between steps) + dbt's own work around the SQL inside each dbt "
        "step (step wall − `elapsed_time` of its run_results.json: the invocation's set-up, the "
        "first step's parse check, Dagster's events for its nodes). The dbt floors are `dbt "
        "build` invoked in the benchmark's process on the project already parsed, as a run "
        "invokes it.",
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
        "Machine speed: each run's line gives a probe taken just before it (a fixed pure-Python "
        "loop and a fixed one-thread DuckDB aggregate, best of 3; `speed_probe` in "
        "pipelines/evaluation/bench.py). The host is shared beyond this machine: the same code's "
        "CPU seconds have moved by 1.5-1.7x between hours with the load average near 1 both "
        "times, which the load does not show; two tables compare only where their probes agree.",
        "",
    ]
    scales = report.get("scales", {})
    ordered = [s for s in ALL_SCALES if s in scales] + [s for s in scales if s not in ALL_SCALES]
    for name in ordered:
        lines += _scale_section(name, scales[name])
    growth = report.get("cost_growth", [])
    if growth:
        lines += [
            "## Cost growth (cold first runs)",
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
