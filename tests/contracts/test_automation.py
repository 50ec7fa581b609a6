"""The landing-folder sensor and the quarterly schedule (both off by default)."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.assets.automation import new_extracts_sensor, quarterly_profile_schedule
from pipelines.contracts.landing import delivery_quarter, find_deliveries
from tests.contracts.delivery import Delivery


@pytest.fixture
def landing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    config = tmp_path / "settings.yaml"
    config.write_text(f"ingest:\n  landing_dir: {folder}\n  settle_seconds: 60\n")
    monkeypatch.setenv("SPP_CONFIG", str(config))
    return folder


def _age(folder: Path, seconds: float) -> None:
    past = time.time() - seconds
    for path in folder.iterdir():
        os.utime(path, (past, past))


def test_both_are_off_by_default() -> None:
    assert new_extracts_sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert quarterly_profile_schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def test_sensor_skips_without_a_landing_folder(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text("ingest:\n  landing_dir: ''\n")
    monkeypatch.setenv("SPP_CONFIG", str(config))
    result = new_extracts_sensor(dg.build_sensor_context())
    assert [type(r) for r in result] == [dg.SkipReason]


def test_sensor_launches_a_complete_settled_delivery_once(landing: Path) -> None:
    delivery = Delivery(landing / "2024-Q1").write()
    # Just written: not settled yet.
    context = dg.build_sensor_context()
    assert all(isinstance(r, dg.SkipReason) for r in new_extracts_sensor(context))
    _age(delivery, 600)
    context = dg.build_sensor_context()
    requests = [r for r in new_extracts_sensor(context) if isinstance(r, dg.RunRequest)]
    assert len(requests) == 1
    request = requests[0]
    assert request.partition_key == "2024-Q1"
    assert request.run_config["resources"]["profile_run"]["config"]["extracts_dir"] == str(
        delivery.resolve()
    )
    # The same delivery again: nothing new.
    again = dg.build_sensor_context(cursor=context.cursor)
    assert all(isinstance(r, dg.SkipReason) for r in new_extracts_sensor(again))


def test_incomplete_delivery_is_not_launched(landing: Path) -> None:
    delivery = Delivery(landing / "2024-Q2").write()
    (delivery / "breaches.csv").unlink()
    _age(delivery, 600)
    assert find_deliveries(landing, 60) == []


def test_quarter_from_the_data_when_the_folder_is_not_named(tmp_path: Path) -> None:
    folder = Delivery(tmp_path / "drop").write()
    # Crimes reported 1-4 January 2024: Q1 is far from complete, but the data hold no earlier
    # quarter to profile instead, so the one partial quarter there is.
    assert delivery_quarter(folder) == "2024-Q1"
    # With data in the quarter before, a delivery cut mid-quarter profiles that one.
    d = Delivery(tmp_path / "longer")
    d.append("crimes", crime_id="C0", reported_date="2023-11-20")
    assert delivery_quarter(d.write()) == "2023-Q4"


def test_schedule_runs_last_complete_quarter(landing: Path) -> None:
    delivery = Delivery(landing / "2024-Q1").write()
    _age(delivery, 600)
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2024, 4, 15, 6, tzinfo=dt.UTC)
    )
    request = quarterly_profile_schedule(context)
    assert isinstance(request, dg.RunRequest) and request.partition_key == "2024-Q1"
    late = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2024, 7, 15, 6, tzinfo=dt.UTC)
    )
    assert isinstance(quarterly_profile_schedule(late), dg.SkipReason)
