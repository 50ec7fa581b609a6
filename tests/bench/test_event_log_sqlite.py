"""fast_commits: SQLite files under DAGSTER_HOME commit with synchronous=NORMAL, others untouched,
and the events written are all there afterwards."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from sqlalchemy.pool import NullPool

from pipelines.event_log_sqlite import fast_commits

FULL, NORMAL = 2, 1


def _engine(path: Path) -> sa.Engine:
    # The way Dagster's SQLite storage connects: a new connection per event (NullPool).
    return sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)


def _synchronous(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("pragma synchronous")).scalar_one()


def _journal_mode(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text("pragma journal_mode")).scalar_one()


def test_only_files_under_home_are_tuned(tmp_path: Path) -> None:
    home, elsewhere = tmp_path / "dagster_home", tmp_path / "other"
    home.mkdir()
    elsewhere.mkdir()
    with fast_commits(home):
        assert _synchronous(_engine(home / "runs.db")) == NORMAL
        assert _synchronous(_engine(elsewhere / "x.db")) == FULL
        # A new file is in WAL mode before Dagster creates its tables (no sync per statement).
        assert _journal_mode(_engine(home / "fresh.db")) == "wal"
        assert _journal_mode(_engine(elsewhere / "fresh.db")) == "delete"
    assert _synchronous(_engine(home / "runs.db")) == FULL  # the listener is gone


def test_events_written_inside_are_all_stored(tmp_path: Path) -> None:
    db = tmp_path / "index.db"
    engine = _engine(db)
    with engine.begin() as conn:
        conn.execute(sa.text("pragma journal_mode=wal"))
        conn.execute(sa.text("create table event_logs (id integer primary key, body text)"))
    with fast_commits(tmp_path):
        for i in range(50):
            with engine.begin() as conn:
                conn.execute(sa.text("insert into event_logs (body) values (:b)"), {"b": str(i)})
    with _engine(db).connect() as conn:
        assert conn.execute(sa.text("select count(*) from event_logs")).scalar_one() == 50


def test_a_run_inside_is_stored_and_read_back_by_a_fresh_instance(tmp_path: Path) -> None:
    """With the reused engines and the remembered schema answers, a real Dagster run's events
    (materialisations, planned events, asset checks) are all in the history afterwards, the
    schema questions get Dagster's own answers, and Dagster's own methods are back."""
    dagster_connect = SqliteEventLogStorage._connect
    dagster_has_table = SqliteEventLogStorage.has_table
    dagster_has_column = SqliteEventLogStorage._has_asset_key_col_on_connection
    dagster_has_secondary_index = SqliteEventLogStorage.has_secondary_index

    @dg.asset
    def first() -> int:
        return 1

    @dg.asset_check(asset=first)
    def first_is_positive() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    @dg.asset
    def second(first: int) -> int:
        return first + 1

    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    storage_config = {"storage": {"sqlite": {"base_dir": str(home)}}}
    with fast_commits(home):
        assert SqliteEventLogStorage._connect is not dagster_connect
        with dg.instance_for_test(temp_dir=str(home), overrides=storage_config) as instance:
            assert isinstance(instance.event_log_storage, SqliteEventLogStorage)
            result = dg.materialize(
                [first, second, first_is_positive], instance=instance, resources={}
            )
            assert result.success
            run_id = result.run_id
            stored_inside = len(instance.all_logs(run_id))
            storage = instance.event_log_storage
            assert SqliteEventLogStorage.has_secondary_index is not dagster_has_secondary_index
            inside = [
                (storage.has_asset_key_col(column), storage.has_secondary_index(index))
                for column, index in SCHEMA_QUESTIONS
            ]
    assert SqliteEventLogStorage._connect is dagster_connect
    assert SqliteEventLogStorage.has_table is dagster_has_table
    assert SqliteEventLogStorage._has_asset_key_col_on_connection is dagster_has_column
    assert SqliteEventLogStorage.has_secondary_index is dagster_has_secondary_index
    with dg.instance_for_test(temp_dir=str(home), overrides=storage_config) as fresh:
        assert len(fresh.all_logs(run_id)) == stored_inside > 10
        for key in ("first", "second"):
            assert fresh.get_latest_materialization_event(dg.AssetKey(key)) is not None
        check = fresh.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("first"), "first_is_positive")]
        )
        assert check
        storage = fresh.event_log_storage
        outside = [
            (storage.has_asset_key_col(column), storage.has_secondary_index(index))
            for column, index in SCHEMA_QUESTIONS
        ]
    assert inside == outside
    assert (True, True) in inside  # a remembered answer was asked about


# Columns of the asset keys table and secondary-index migrations Dagster asks about; the last
# pair exists in no history (asked again each time, never remembered as found).
SCHEMA_QUESTIONS = [
    ("last_materialization_timestamp", "asset_key_index_columns"),
    ("cached_status_data", "asset_key_table"),
    ("no_such_column", "no_such_migration"),
]
