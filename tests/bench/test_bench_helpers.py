"""Fast tests of the benchmark's pure helpers (parsing, aggregation, growth, rendering) and of
the process-tree memory sampler."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.evaluation import bench, bench_analysis
from pipelines.evaluation.bench_analysis import StepTiming


def test_stage_of_groups_the_steps_of_the_job() -> None:
    assert bench_analysis.stage_of("raw__crimes") == "ingest"
    assert bench_analysis.stage_of("raw__breaches_contract") == "ingest"
    assert bench_analysis.stage_of("raw__contract_checks") == "ingest"
    assert bench_analysis.stage_of("dbt_staging") == "dbt_staging"
    assert bench_analysis.stage_of("dbt_analytics") == "dbt_analytics"
    assert bench_analysis.stage_of("person_resolution") == "resolution"
    assert bench_analysis.stage_of("hotspots") == "hotspots"
    assert bench_analysis.stage_of("demand_forecast") == "forecast"
    assert bench_analysis.stage_of("profile_report") == "publish"
    assert bench_analysis.stage_of("something_new") == "something_new"


PROGRESS = """Profiling 2025-Q4 from x (warehouse y)
[    0.6s] ▶ raw__crimes
[    1.8s]   ✓ raw/crimes
[    2.1s] ■ raw__crimes (1.5s)
[    2.1s] ▶ dbt_staging
[    9.0s] ✗ FAILED dbt_staging (6.9s)
spp profile: error: step dbt_staging failed
"""


def test_parse_progress_lines_uses_run_relative_times() -> None:
    steps = bench_analysis.parse_progress_lines(PROGRESS.splitlines())
    assert [s.step for s in steps] == ["raw__crimes", "dbt_staging"]
    assert steps[0].seconds == pytest.approx(1.5)
    assert steps[0].status == "SUCCESS"
    assert steps[1].seconds == pytest.approx(6.9)
    assert steps[1].status == "FAILURE"


def test_parse_progress_lines_prefers_arrival_times() -> None:
    lines = [(1000.0 + i * 10, text) for i, text in enumerate(PROGRESS.splitlines())]
    steps = bench_analysis.parse_progress_lines(lines)
    # ▶ raw__crimes is line 1 (t=1010), ■ raw__crimes line 3 (t=1030).
    assert (steps[0].start, steps[0].end) == (1010.0, 1030.0)


def test_contract_checks_are_the_sum_of_the_check_steps() -> None:
    steps = [
        StepTiming("raw__crimes", 0.0, 2.0),
        StepTiming("raw__crimes_contract", 2.0, 2.4),
        StepTiming("raw__orders_contract", 2.4, 3.0),
        StepTiming("dbt_staging", 3.0, 7.0),
    ]
    assert bench_analysis.contract_check_seconds(steps) == pytest.approx(1.0)
    assert bench_analysis.contract_check_seconds(steps[:1]) is None
    one_step = [StepTiming("raw__crimes", 0.0, 2.0), StepTiming("raw__contract_checks", 2.0, 2.7)]
    assert bench_analysis.contract_check_seconds(one_step) == pytest.approx(0.7)


def test_cpu_between_takes_the_cumulative_samples_at_each_end() -> None:
    cpu = [(1.0, 0.5), (2.0, 1.5), (3.0, 1.9), (4.0, 3.0)]
    assert bench_analysis.cpu_between(cpu, 2.0, 3.5) == pytest.approx(0.4)
    assert bench_analysis.cpu_between(cpu, 0.0, 1.5) == pytest.approx(0.5)  # from process start
    stages = bench_analysis.aggregate_stages(
        [StepTiming("raw__crimes", 1.0, 2.0), StepTiming("raw__orders", 3.0, 4.0)],
        [(1.5, 100)],
        {},
        {},
        cpu,
    )
    assert stages[0]["cpu_s"] == pytest.approx(1.0 + 1.1)


def test_peak_between_window_and_nearest_fallback() -> None:
    samples = [(0.0, 10), (1.0, 50), (2.0, 30), (3.0, 20)]
    assert bench_analysis.peak_between(samples, 0.5, 2.5) == 50
    assert bench_analysis.peak_between(samples, 2.9, 2.95) == 20  # nothing inside: nearest sample
    assert bench_analysis.peak_between([], 0, 1) is None


def test_aggregate_stages_sums_steps_and_computes_ratios() -> None:
    steps = [
        StepTiming("raw__crimes", 0.0, 2.0),
        StepTiming("raw__orders", 2.0, 3.0),
        StepTiming("person_resolution", 3.0, 7.0),
    ]
    samples = [(0.5, 100_000_000), (2.5, 300_000_000), (5.0, 200_000_000)]
    rows = {"ingest": 6_000, "resolution": 800}
    floors = {"ingest": {"seconds": 1.5, "what": "read"}, "resolution": {"seconds": None}}
    stages = {s["stage"]: s for s in bench_analysis.aggregate_stages(steps, samples, rows, floors)}
    assert list(stages) == ["ingest", "resolution"]
    ingest = stages["ingest"]
    assert ingest["wall_s"] == 3.0
    assert ingest["ratio"] == 2.0
    assert ingest["peak_rss_mb"] == 300.0
    assert ingest["rows_per_s"] == 2000.0
    assert ingest["steps"] == ["raw__crimes", "raw__orders"]
    assert stages["resolution"]["ratio"] is None
    assert stages["resolution"]["rows_per_s"] == 200.0


def test_orchestration_overhead_adds_dbt_startup_to_time_outside_steps() -> None:
    steps = [StepTiming("raw__crimes", 105.0, 106.0), StepTiming("dbt_staging", 107.0, 117.0)]
    out = bench_analysis.orchestration_overhead(20.0, 100.0, 120.0, steps, {"dbt_staging": 4.0})
    assert out["steps_sum_s"] == 11.0
    assert out["startup_s"] == 5.0
    assert out["between_steps_s"] == 1.0
    assert out["teardown_s"] == 3.0
    assert out["dbt_startup_s"] == {"dbt_staging": 6.0}
    assert out["total_s"] == 20.0 - 11.0 + 6.0


def _scale(rows: int, wall: float, peak: float) -> dict:
    return {
        "ok": True,
        "extract_rows_total": rows,
        "run": {"process_wall_s": wall, "peak_rss_mb": peak},
    }


def test_cost_growth_orders_by_rows_and_flags_linearity() -> None:
    growth = bench_analysis.cost_growth(
        {"large": _scale(1000, 100.0, 800.0), "force": _scale(100, 10.0, 400.0)}
    )
    assert [g["scale"] for g in growth] == ["force", "large"]
    assert growth[1]["rows_x"] == 10.0
    assert growth[1]["wall_x_per_rows_x"] == 1.0
    assert growth[1]["peak_x"] == 2.0
    failed = bench_analysis.cost_growth({"force": {**_scale(100, 1.0, 1.0), "ok": False}})
    assert failed == []


def test_merge_keeps_scales_not_rerun() -> None:
    old = {"scales": {"force": _scale(100, 10.0, 400.0)}, "machine": {"cpu": "old"}}
    new = {"scales": {"national": _scale(10_000, 900.0, 9000.0)}, "machine": {"cpu": "new"}}
    merged = bench_analysis.merge_report(old, new)
    assert set(merged["scales"]) == {"force", "national"}
    assert merged["machine"]["cpu"] == "new"
    assert [g["scale"] for g in merged["cost_growth"]] == ["force", "national"]


def test_targets_pass_and_fail() -> None:
    cold = {**_scale(100, 29.0, 999.0), "orchestration": {"startup_s": 6.0}}
    ok = {**cold, "second_quarter": {"run": {"process_wall_s": 19.0}}}
    targets = bench_analysis.check_targets("force", ok)
    assert targets["wall_ok"] and targets["peak_ok"] and targets["second_quarter_ok"]
    assert targets["startup_ok"] is False
    slow_second = {**cold, "second_quarter": {"run": {"process_wall_s": 21.0}}}
    assert bench_analysis.check_targets("force", slow_second)["second_quarter_ok"] is False
    assert bench_analysis.check_targets("large", _scale(100, 61.0, 10.0))["wall_ok"] is False
    assert bench_analysis.check_targets("tiny", _scale(100, 1.0, 1.0)) == {}


def test_run_results_give_the_slowest_nodes() -> None:
    results = {
        "elapsed_time": 2.0,
        "results": [
            {"unique_id": node, "execution_time": seconds}
            for node, seconds in [("model.p.a", 0.5), ("test.p.t1", 0.25), ("model.p.b", 1.5)]
        ],
    }
    summary = bench_analysis.dbt_node_summary({"dbt_staging": results})
    assert summary["steps"]["dbt_staging"] == {
        "elapsed_s": 2.0,
        "nodes_sum_s": 2.25,
        "nodes": {"model": 2, "test": 1},
    }
    assert [n["node"] for n in summary["slowest"]] == ["model.p.b", "model.p.a", "test.p.t1"]


def test_markdown_renders_tables_and_keeps_notes(tmp_path: Path) -> None:
    def run(wall: float, quarter: str) -> dict:
        return {
            **_scale(100, wall, 400.0),
            "quarter": quarter,
            "command": "python -m pipelines.cli profile ...",
            "extract_rows": {"crimes": 100},
            "stages": bench_analysis.aggregate_stages(
                [StepTiming("raw__crimes", 0.0, wall / 5)], [(1.0, 5e8)], {"ingest": 100}, {}
            ),
            "orchestration": {"total_s": 8.0, "startup_s": 4.0, "dbt_startup_s": {"dbt_x": 3.0}},
        }

    result = {**run(10.0, "2025-Q3"), "second_quarter": run(5.0, "2025-Q4")}
    report = bench_analysis.merge_report(
        None, {"scales": {"force": result}, "machine": {"cpu": "X"}}
    )
    md_path = tmp_path / "benchmarks.md"
    md_path.write_text(bench_analysis.render_markdown(report, "\nmy findings\n"), encoding="utf-8")
    text = md_path.read_text(encoding="utf-8")
    assert "| ingest | 2.00 | – | 1.00 |" in text  # cold wall, cold CPU (not sampled), second
    assert "Cold first run (2025-Q3): 10.0 s wall" in text
    assert "Second quarter (2025-Q4): 5.0 s wall" in text
    assert "## Cost growth" in text
    assert "Cold: orchestration overhead **8.0 s**" in text
    assert bench_analysis.existing_notes(md_path).strip() == "my findings"
    again = bench_analysis.render_markdown(report, bench_analysis.existing_notes(md_path))
    assert again.count("my findings") == 1


CHILD = (
    "import subprocess, sys, time;"
    "p = subprocess.Popen([sys.executable, '-c', "
    "'import time; b = bytearray(150_000_000); time.sleep(3)']);"
    "p.wait()"
)


def test_tree_sampler_counts_grandchildren_memory() -> None:
    proc = subprocess.Popen([sys.executable, "-c", CHILD])
    sampler = bench.TreeSampler(proc.pid, interval=0.05)
    sampler.start()
    proc.wait(timeout=30)
    time.sleep(0.1)
    sampler.stop()
    peak = max(rss for _, rss in sampler.samples)
    assert peak > 150_000_000, "the grandchild's 150 MB allocation was not seen"


def test_parse_args_rejects_unknown_scale() -> None:
    with pytest.raises(SystemExit):
        bench.parse_args(["--scales", "galactic"])
    assert bench.parse_args(["--scales", "tiny,force"]).scales == ["tiny", "force"]


def test_speed_probe_times_both_workloads_and_the_run_line_prints_them() -> None:
    probe = bench.speed_probe(repeats=1)
    assert set(probe) == {"python_s", "duckdb_s"}
    assert all(0 < seconds < 60 for seconds in probe.values())
    line = bench_analysis._run_line(
        "Cold first run", {"run": {}, "orchestration": {}, "speed_probe": probe}
    )
    assert f"Python loop {probe['python_s']:.2f} s" in line
    assert f"DuckDB aggregate {probe['duckdb_s']:.2f} s" in line
    assert "Machine speed" not in bench_analysis._run_line("Cold first run", {"run": {}})


def test_run_line_names_the_command_that_was_timed() -> None:
    line = bench_analysis._run_line(
        "Cold first run", {"command": "python -m pipelines.cli profile"}
    )
    assert "Command: `python -m pipelines.cli profile`" in line


def test_publish_floor_writes_the_quarter_from_the_warehouse_read_only(
    tmp_path: Path, tiny_profile
) -> None:
    from pipelines.evaluation.bench_floors import FLOORS, floor_publish

    assert FLOORS["publish"] is floor_publish
    before = tiny_profile.warehouse.read_bytes()
    floor = floor_publish(
        tiny_profile.extracts, tiny_profile.warehouse, tmp_path, quarter=tiny_profile.quarter
    )
    assert floor["seconds"] > 0
    written = tmp_path / "publish-floor" / tiny_profile.quarter
    # Every file of the two publish steps, the restricted pack among them.
    run_files = {
        p.relative_to(tiny_profile.quarter_dir) for p in tiny_profile.quarter_dir.rglob("*")
    }
    floor_files = {p.relative_to(written) for p in written.rglob("*")}
    assert {Path("profile.html"), Path("restricted/high_harm_perpetrators.csv")} <= floor_files
    assert run_files <= floor_files
    assert tiny_profile.warehouse.read_bytes() == before  # opened read-only
