"""The code location loads and shows the whole graph."""

from __future__ import annotations

import dagster as dg

from pipelines.definitions import defs

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


def test_quarterly_profile_job_exists() -> None:
    job = defs.resolve_job_def("quarterly_profile")
    assert isinstance(job, dg.JobDefinition)
    assert job.partitions_def is not None
