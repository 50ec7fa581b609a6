"""fast_commits: SQLite files under DAGSTER_HOME commit with synchronous=NORMAL, others untouched,
and the events written are all there afterwards."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from pipelines.event_log_sqlite import fast_commits

FULL, NORMAL = 2, 1


def _engine(path: Path) -> sa.Engine:
    # The way Dagster's SQLite storage connects: a new connection per event (NullPool).
    return sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)


def _synchronous(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("pragma synchronous")).scalar_one()


def test_only_files_under_home_are_tuned(tmp_path: Path) -> None:
    home, elsewhere = tmp_path / "dagster_home", tmp_path / "other"
    home.mkdir()
    elsewhere.mkdir()
    with fast_commits(home):
        assert _synchronous(_engine(home / "runs.db")) == NORMAL
        assert _synchronous(_engine(elsewhere / "x.db")) == FULL
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
