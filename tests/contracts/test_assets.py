"""The ingest assets through Dagster: dependency order, reconciliation as metadata, asset
check and data_quality.json, contract checks by Great Expectations, idempotent re-runs, and a
structural error stopping the run before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
from dagster_duckdb import DuckDBResource

from pipelines.assets.ingest import ingest_assets, ingest_checks
from pipelines.resources import ProfileRun
from tests.contracts.delivery import TODAY, Delivery

QUARTER = "2024-Q1"


def _materialize(
    extracts: Path, out: Path, warehouse: Path, checks: bool = True
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*ingest_assets, *(ingest_checks if checks else [])],
        partition_key=QUARTER,
        resources={
            "duckdb": DuckDBResource(database=str(warehouse)),
            "profile_run": ProfileRun(
                extracts_dir=str(extracts), output_dir=str(out), run_date=TODAY.isoformat()
            ),
        },
        raise_on_error=False,
    )


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ingest_assets")
    d = Delivery(root / "in")
    d.set("crimes", 3, offence_code="999/99")  # quarantines C3 and its one crime_persons row
    d.set("intelligence", 2, crime_id="C404")  # an unlinked soft link
    d.write()
    first = _materialize(d.folder, root / "out", root / "wh.duckdb")
    second = _materialize(d.folder, root / "out", root / "wh.duckdb", checks=False)
    return root, first, second


def test_ingest_runs_in_dependency_order_and_reconciles(ingested) -> None:
    root, first, _ = ingested
    assert first.success
    order = [
        e.asset_key.path[-1]
        for e in first.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    ]
    assert order.index("crimes") < order.index("crime_persons")
    assert order.index("crimes") < order.index("intelligence")
    assert order.index("orders") < order.index("breaches")
    meta = {
        m.asset_key.path[-1]: m.metadata
        for m in first.get_asset_materialization_events()
        for m in [m.materialization]
    }
    assert meta["crimes"]["rows_read"].value == 4
    assert meta["crimes"]["rows_loaded"].value == 3
    assert meta["crimes"]["rows_quarantined"].value == 1
    assert meta["crimes"]["quarantined_by_rule"].value == {"unknown_code": 1}


def test_reconciliation_and_contract_checks_pass(ingested) -> None:
    _, first, _ = ingested
    checks = {(e.asset_key.path[-1], e.check_name): e for e in first.get_asset_check_evaluations()}
    assert len(checks) == 10
    for (extract, name), evaluation in checks.items():
        if (extract, name) == ("intelligence", "contract"):
            # The unlinked crime id is a warning, not an error.
            assert not evaluation.passed
            assert evaluation.severity == dg.AssetCheckSeverity.WARN
        else:
            assert evaluation.passed, (extract, name)


def test_contract_results_are_kept_in_the_warehouse(ingested) -> None:
    root, _, _ = ingested
    with DuckDBResource(database=str(root / "wh.duckdb")).get_connection() as con:
        rows = con.execute(
            "select extract, rule, success, unexpected_count from raw.contract_results "
            "where not success"
        ).fetchall()
        extracts = con.execute("select count(distinct extract) from raw.contract_results")
        assert extracts.fetchone()[0] == 5
    assert rows == [("intelligence", "unlinked_soft_link", False, 1)]


def test_load_log_records_what_data_quality_json_publishes(ingested) -> None:
    """raw.load_log is the record the publish stage turns into data_quality.json (tested on a
    whole run in tests/report/test_publish_end_to_end.py)."""
    root, _, _ = ingested
    with DuckDBResource(database=str(root / "wh.duckdb")).get_connection() as con:
        rows = con.execute(
            "select extract, rows_read, rows_loaded, rows_quarantined, by_rule, unlinked_detail "
            "from raw.load_log order by extract"
        ).fetchall()
    log = {r[0]: r[1:] for r in rows}
    assert set(log) == {"crimes", "crime_persons", "intelligence", "orders", "breaches"}
    assert log["crimes"][:3] == (4, 3, 1)
    assert json.loads(log["crimes"][3]) == {"unknown_code": 1}
    assert json.loads(log["crime_persons"][3]) == {"references_quarantined_row": 1}
    assert json.loads(log["intelligence"][4]) == {"crime_id->crimes.crime_id": 1}
    assert all(read == loaded + quarantined for read, loaded, quarantined, *_ in log.values())
    # Ingest writes nothing under OUT/: the publish stage does.
    assert not (root / "out" / QUARTER / "data_quality.json").exists()


def test_rerun_replaces(ingested) -> None:
    root, _, second = ingested
    assert second.success
    with DuckDBResource(database=str(root / "wh.duckdb")).get_connection() as con:
        counts = con.execute(
            "select (select count(*) from raw.quarantine), (select count(*) from raw.crimes), "
            "(select count(*) from raw.load_log), "
            "(select count(distinct run_id) from raw.quarantine)"
        ).fetchone()
    assert counts == (2, 3, 5, 1)


def test_structural_error_stops_the_run_before_anything_is_written(tmp_path: Path) -> None:
    d = Delivery(tmp_path / "in")
    d.raw["breaches"] = b"breach_id,order_id\nB1,O1\n"  # breach_date missing
    d.write()
    result = _materialize(d.folder, tmp_path / "out", tmp_path / "wh.duckdb")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "missing required column 'breach_date'" in str(failure.step_failure_data.error)
    assert failure.step_key.startswith("raw__crimes")
    # Through the resource: DuckDB shares one instance per file and configuration.
    with DuckDBResource(database=str(tmp_path / "wh.duckdb")).get_connection() as con:
        tables = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw'"
        ).fetchone()[0]
    assert tables == 0
