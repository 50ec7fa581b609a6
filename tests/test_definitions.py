"""The code location loads and shows the whole graph."""

from __future__ import annotations

import dagster as dg

from pipelines.definitions import defs
from pipelines.partitions import quarterly_partitions

EXPECTED_ASSETS = {
    "raw/crimes",
    "raw/crime_persons",
    "raw/intelligence",
    "raw/orders",
    "raw/breaches",
    "staging/stg_crimes",
    "staging/stg_crime_persons",
    "marts/crime_counts_by_quarter",
    "profile_report",
}


def test_definitions_have_expected_assets() -> None:
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    missing = EXPECTED_ASSETS - keys
    assert not missing, f"missing assets: {sorted(missing)}"


def test_every_asset_is_quarterly_partitioned() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            assert node.partitions_def is not None, f"{key.to_user_string()} is unpartitioned"
            assert "2025-Q3" in node.partitions_def.get_partition_keys()


def test_dbt_tests_are_asset_checks() -> None:
    graph = defs.resolve_asset_graph()
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert any(key == "staging/stg_crimes" and "unique" in name for key, name in checks)
    assert any(key == "marts/crime_counts_by_quarter" for key, _ in checks)


def test_quarterly_profile_job_is_partitioned_by_quarter() -> None:
    job = defs.resolve_job_def("quarterly_profile")
    assert job.partitions_def == quarterly_partitions


def _parents(graph: dg.AssetGraph, key: str) -> set[str]:
    return {k.to_user_string() for k in graph.get(dg.AssetKey.from_user_string(key)).parent_keys}


def test_publish_reads_the_reporting_layer_built_after_every_mart() -> None:
    graph = defs.resolve_asset_graph()
    reporting = {k.to_user_string() for k in graph.get_all_asset_keys() if k.path[0] == "reporting"}
    assert "reporting/rpt_crimes_by_category" in reporting
    for publish in ("profile_report", "tasking_pack"):
        assert reporting <= _parents(graph, publish), publish
    # The reporting models over Python-written marts wait for them (declared dbt sources).
    assert "marts/hotspots" in _parents(graph, "reporting/rpt_hotspot_cells")
    assert "marts/demand_forecast" in _parents(graph, "reporting/rpt_fms_monthly")
    assert "marts/dim_persons" in _parents(graph, "reporting/rpt_tasking_list")
    # The assessment's tests read a reporting model; the models over the tests wait for them.
    assert "reporting/rpt_assessment_signals" in _parents(graph, "marts/assessment_tests")
    assert "marts/assessment_tests" in _parents(graph, "reporting/rpt_assessment_judgments")


def test_start_up_leaves_the_heavy_analytics_libraries_to_their_steps() -> None:
    """Loading the code location (what `spp profile` does before its first step) imports no
    library that only a later step needs: each costs seconds of start-up."""
    import subprocess
    import sys

    heavy = [
        "scipy",
        "esda",
        "libpysal",
        "statsforecast",
        "great_expectations",
        "geopandas",
        "sklearn",
        # Only the resolution and publish steps need these.
        "splink",
        "plotly",
        "openpyxl",
        "pipelines.publish",
        # The contract checks' GX brings it in a thread beside the extract loads.
        "pandas",
        # dbt-core: only the dbt steps run dbt (dagster-dbt builds the specs without it,
        # pipelines/dbt_specs.py).
        "dbt",
        "dbt_common",
    ]
    probe = (
        "import sys, pipelines.definitions; "
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "", f"imported at start-up: {loaded}"


def test_the_publish_writers_leave_pysal_to_the_hotspot_worker() -> None:
    """The hotspots are computed in the fork server's worker; the publish step's writers (the
    GIS layer, the location checks of disclosure) need only the coordinate conversions, so the
    run's own process never loads PySAL and SciPy for them (~1.7 s and their memory at the
    run's peak)."""
    import subprocess
    import sys

    probe = (
        "import sys, pipelines.publish, pipelines.hotspots.maps, pipelines.disclosure.locations; "
        "print(','.join(m for m in ('esda', 'libpysal', 'scipy.stats') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "", f"imported by the publish writers: {loaded}"
