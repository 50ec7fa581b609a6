"""The benchmark harness end to end on the tiny preset (slow: a whole profile run in a
subprocess, plus the floors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.dbt_project import STEP_SELECTIONS
from pipelines.evaluation import bench, bench_analysis

STAGE_FIELDS = {
    "stage",
    "steps",
    "status",
    "wall_s",
    "floor_s",
    "floor_what",
    "ratio",
    "peak_rss_mb",
    "rows",
    "rows_per_s",
}

# The project's dbt steps, each a Dagster step of its own.
DBT_STEPS = set(STEP_SELECTIONS)


@pytest.mark.slow
def test_bench_tiny_writes_json_and_markdown(tmp_path: Path) -> None:
    json_path, md_path = tmp_path / "benchmarks.json", tmp_path / "benchmarks.md"
    code = bench.main(
        [
            "--scales", "tiny",
            "--cache", str(tmp_path / "cache"),
            "--work", str(tmp_path / "work"),
            "--json", str(json_path),
            "--md", str(md_path),
        ]
    )  # fmt: skip
    report = json.loads(json_path.read_text())
    tiny = report["scales"]["tiny"]
    assert code == 0, tiny.get("error")
    assert tiny["ok"] is True
    assert {"cpu", "cores_logical", "ram_gb", "os", "python", "packages"} <= set(report["machine"])
    assert report["machine"]["packages"]["dagster"]

    # Rows: what the generator wrote, counted independently.
    assert tiny["extract_rows_total"] == sum(tiny["extract_rows"].values()) > 0

    run = tiny["run"]
    assert run["process_wall_s"] > 0
    assert run["peak_rss_mb"] > 100  # a Python process with Dagster and DuckDB loaded
    # shared pages counted once: never more than summed RSS, never nothing
    assert 0 < run["peak_pss_mb"] <= run["peak_rss_mb"]
    stages = {s["stage"]: s for s in tiny["stages"]}
    assert {"ingest", "dbt_staging", "resolution", "dbt_analytics"} <= set(stages)
    for stage in stages.values():
        assert set(stage) >= STAGE_FIELDS
        assert stage["status"] == "SUCCESS"
        assert 0 < stage["wall_s"] <= run["process_wall_s"]
        assert 0 < stage["peak_rss_mb"] <= run["peak_rss_mb"]
    # CPU per stage, sampled with the RSS: the busy stages used some, and no more in all than
    # the whole process tree (sampled every 0.1 s, hence the tolerance).
    for name in ("ingest", "dbt_staging", "resolution", "dbt_analytics"):
        assert stages[name]["cpu_s"] > 0, name
    assert sum(s["cpu_s"] for s in stages.values()) <= run["process_cpu_s"] + 0.5
    assert 0 < tiny["orchestration"]["startup_cpu_s"] <= run["process_cpu_s"]
    assert 0 < tiny["contract_checks_s"] < stages["ingest"]["wall_s"]
    # The rows column is the volume of the warehouse the floors ran on: the second quarter's.
    assert stages["ingest"]["rows"] == tiny["second_quarter"]["extract_rows_total"]
    for name in ("ingest", "dbt_staging", "resolution", "dbt_analytics"):
        assert stages[name]["floor_s"] is not None and stages[name]["floor_s"] > 0, name
        # Seconds and ratio are rounded to 0.01; the ratio is taken before rounding (a tiny
        # floor of 0.04 s is off by up to an eighth once rounded).
        wall, floor = stages[name]["wall_s"], stages[name]["floor_s"]
        lowest = (wall - 0.005) / (floor + 0.005) - 0.005
        highest = (wall + 0.005) / max(floor - 0.005, 1e-3) + 0.005
        assert lowest <= stages[name]["ratio"] <= highest, name

    # The second quarter: the next delivery into the same warehouse, timed the same way.
    second = tiny["second_quarter"]
    assert second["ok"] is True and second["quarter"] > tiny["quarter"]
    assert second["run"]["process_wall_s"] > 0 and second["run"]["process_cpu_s"] > 0
    assert {s["stage"] for s in second["stages"]} == set(stages)
    assert tiny["project_parse_s"] > 0
    # dbt's own per-node times, from each dbt step's run_results.json.
    assert set(tiny["dbt"]["steps"]) == DBT_STEPS
    assert all(step["nodes"].get("test", 0) > 0 for step in tiny["dbt"]["steps"].values())

    orchestration = tiny["orchestration"]
    assert orchestration["steps_sum_s"] == pytest.approx(
        sum(s["wall_s"] for s in tiny["stages"]), abs=0.05 * len(tiny["stages"])
    )
    assert orchestration["steps_sum_s"] <= run["process_wall_s"]
    assert set(orchestration["dbt_startup_s"]) == DBT_STEPS

    text = md_path.read_text(encoding="utf-8")
    assert "## tiny" in text and "| ingest |" in text
    assert bench_analysis.NOTES_MARKER in text
