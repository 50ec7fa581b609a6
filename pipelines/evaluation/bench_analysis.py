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
