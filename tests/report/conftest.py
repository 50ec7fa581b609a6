"""Fixtures for the publishing tests: the warehouse of the session's one real run (the whole
pipeline, dbt included, on the tiny generated force) and a profile rendered from it once per
session. No hand-made tables: the report meets exactly what the pipeline builds."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.paths import SHARED_DATA_DIR
from tests.conftest import TINY_END_QUARTER

QUARTER = TINY_END_QUARTER


@pytest.fixture(scope="session")
def fixture_db(tiny_profile, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny run's warehouse (read-only use; the run's own file stays untouched)."""
    copy = tmp_path_factory.mktemp("fixture_wh") / "wh.duckdb"
    shutil.copy(tiny_profile.warehouse, copy)
    return copy


@pytest.fixture()
def fixture_db_copy(fixture_db: Path, tmp_path: Path) -> Path:
    """A private copy for tests that write (a DuckDB file has one writer)."""
    copy = tmp_path / "wh.duckdb"
    shutil.copy(fixture_db, copy)
    return copy


@pytest.fixture(scope="session")
def rendered(fixture_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """(published profile path, PublishResult) for the fixture warehouse."""
    from pipelines.publish import publish_profile

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
