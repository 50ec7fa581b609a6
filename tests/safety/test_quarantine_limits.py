"""Quarantine limits inside the run (the Dagster ingest step): a broken export stops the run
before anything downstream; --accept-quarantine lets it through and says so."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pipelines.assets.ingest import ingest_assets
from pipelines.resources import ProfileRun
from tests.contracts.delivery import TODAY, Delivery
from tests.safety.test_bad_input import _grow

QUARTER = "2024-Q1"


def _broken(folder: Path) -> Path:
    d = Delivery(folder)
    _grow(d)
    for row in d.rows["crimes"]:
        row["offence_start"] += "Z"  # a UTC suffix on every timestamp
    return d.write()


def _ingest(extracts: Path, tmp_path: Path, accept: bool) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ingest_assets,
        partition_key=QUARTER,
        resources={
            "duckdb": DuckDBResource(database=str(tmp_path / "wh.duckdb")),
            "profile_run": ProfileRun(
                extracts_dir=str(extracts),
                output_dir=str(tmp_path / "out"),
                run_date=TODAY.isoformat(),
                accept_quarantine=accept,
            ),
        },
        raise_on_error=False,
    )


def test_a_broken_export_stops_the_run_in_ingest(tmp_path: Path) -> None:
    result = _ingest(_broken(tmp_path / "in"), tmp_path, accept=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert failure.step_key == "raw__crimes"
    error = str(failure.step_failure_data.error)
    assert "QuarantineThresholdExceeded" in error
    assert "crimes.csv: column 'offence_start': 100.0% of 40 rows quarantined by rule " in error
    assert "timezone suffix" in error
    materialised = [
        e.asset_key.path[-1]
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    ]
    assert materialised == [], "nothing downstream of the broken extract ran"


def test_accept_quarantine_lets_it_through_and_says_so(tmp_path: Path) -> None:
    result = _ingest(_broken(tmp_path / "in"), tmp_path, accept=True)
    assert result.success
    # Recorded in the load log, from which the publish stage writes data_quality.json
    # (its `over_limit_accepted` per extract).
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        accepted = dict(
            con.execute("select extract, over_limit_accepted from raw.load_log").fetchall()
        )
    assert accepted["crimes"] and "rule 'unparseable_date'" in accepted["crimes"][0]
    assert accepted["orders"] == []
