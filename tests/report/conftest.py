"""Fixtures for the publishing tests: a hand-made warehouse (fast, every mart present) and a
profile rendered from it once per session."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.paths import SHARED_DATA_DIR
from tests.report import fixture_warehouse

QUARTER = "2025-Q4"


@pytest.fixture(scope="session")
def fixture_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixture_warehouse.build(tmp_path_factory.mktemp("fixture_wh") / "wh.duckdb")


@pytest.fixture()
def fixture_db_copy(fixture_db: Path, tmp_path: Path) -> Path:
    """A private copy for tests that write (a DuckDB file has one writer)."""
    copy = tmp_path / "wh.duckdb"
    shutil.copy(fixture_db, copy)
    return copy


@pytest.fixture(scope="session")
def rendered(fixture_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """(published profile path, PublishResult) for the fixture warehouse."""
    from pipelines.report.profile import publish_profile

    out = tmp_path_factory.mktemp("fixture_out") / QUARTER
    boundary = SHARED_DATA_DIR / "geo" / "LSOA11_north_yorkshire.geojson"
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        result = publish_profile(
            con,
            QUARTER,
            out,
            boundary=boundary if boundary.exists() else None,
            generated=dt.date(2026, 1, 15),
        )
    return result
