"""Cheaper event storage for Dagster's SQLite run history during `spp profile`.

Dagster's SQLite storage opens a connection per event, commits and closes it. With SQLite's
default `synchronous=FULL`, every commit syncs the write-ahead log to disk, and closing the last
connection to a WAL database checkpoints and syncs again: about 20 ms per event on an ordinary
disk, and a profile run stores over a thousand events (every dbt model and test is an asset
event, mirrored in the cross-run index), i.e. tens of seconds of pure waiting.

While the run executes, this sets `synchronous=NORMAL` on the SQLite files under DAGSTER_HOME
(the setting SQLite recommends for WAL: no corruption on a crash, only the last commits may be
lost if the machine itself loses power) and keeps one idle connection open to each file so
closing Dagster's connections does not checkpoint every time.

It also reuses one SQLAlchemy engine (and its pooled connection) per event-log file: Dagster's
`SqliteEventLogStorage._connect` builds a new engine with `NullPool` for every event, which
costs ~8 ms of Python per asset event against ~1.2 ms reused (measured on this machine); a force
run stores ~600 events, ~200 of them "planned" events before the first step starts. The
replacement is Dagster's own `_connect` body with a cached engine (same lock, same one-time
schema set-up, same transaction per use), swapped in for the block only and restored after;
`tests/bench/test_event_log_sqlite.py` checks the events of a real run read back from a fresh
instance. Likewise `has_table`, which Dagster asks for every asset check event (does the checks
table exist?) with a new engine each time (~1 s of a tiny run's CPU in py-spy): a table found
is remembered for the block (none is dropped during a run; a missing one is asked again).
The same holds for the other questions Dagster asks about its own schema on every asset event and
every data-version look-up: does the asset-keys table have a column (SQLAlchemy reflects the
whole table each time), is a secondary-index migration done (a query each time). Together
~2.5 % of a force second quarter's main thread in py-spy (~160 reflections and as many index
queries per dbt step); a column or migration found stays found during a run (migrations run
from `dagster instance migrate`, not inside a run), a missing one is asked again.
Nothing else changes: the same events are written to the same files, and
`dagster dev` reads them as before.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool


def _database_file(connection: sqlite3.Connection) -> Path | None:
    for _, name, file in connection.execute("pragma database_list").fetchall():
        if name == "main" and file:
            return Path(file).resolve()
    return None


@contextlib.contextmanager
def fast_commits(dagster_home: Path) -> Iterator[None]:
    """Within the block, SQLite files under dagster_home commit without a disk sync each."""
    home = Path(dagster_home).resolve()
    keepers: dict[Path, sqlite3.Connection] = {}

    def on_connect(dbapi_connection: object, _record: object) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        path = _database_file(dbapi_connection)
        if path is None or home not in path.parents:
            return
        # WAL before anything is written: Dagster creates a fresh history's tables (one
        # transaction per statement) before it switches the file to WAL itself, and in SQLite's
        # default journal mode each of them syncs the disk several times (~1.5 s of waiting
        # for a new DAGSTER_HOME). The mode stays with the file, as Dagster sets it.
        dbapi_connection.execute("pragma journal_mode = wal")
        dbapi_connection.execute("pragma synchronous = normal")
        if path not in keepers:
            keeper = sqlite3.connect(path, check_same_thread=False)
            # A first read maps the WAL index, so this connection now counts as open.
            keeper.execute("pragma schema_version").fetchall()
            keepers[path] = keeper

    engines: dict[str, Engine] = {}

    @contextlib.contextmanager
    def reused_engine_connect(storage: SqliteEventLogStorage, shard: str) -> Iterator[object]:
        with storage._db_lock:
            url = storage.conn_string_for_shard(shard)
            engine = engines.get(url)
            if engine is None:
                # Dagster's busy timeout; one pooled connection (uses are serialised by the
                # storage's lock, possibly from different threads).
                engine = engines[url] = create_engine(
                    url,
                    poolclass=QueuePool,
                    pool_size=1,
                    connect_args={"timeout": 15, "check_same_thread": False},
                )
            if shard not in storage._initialized_dbs:
                storage._initdb(engine)
                storage._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def remembered_when_true(dagster_check: Callable[..., bool]) -> Callable[..., bool]:
        """`dagster_check(storage, ..., name)`, answered from memory once it has said yes for
        that storage and name (a table, column or migration found stays found during a run);
        a no is asked again."""
        found: set[tuple[str, str]] = set()

        def check(storage: SqliteEventLogStorage, *args: Any) -> bool:
            key = (storage._base_dir, args[-1])
            if key in found:
                return True
            answer = dagster_check(storage, *args)
            if answer:
                found.add(key)
            return answer

        return check

    remembered_has_table = remembered_when_true(SqliteEventLogStorage.has_table)
    remembered_has_column = remembered_when_true(
        SqlEventLogStorage._has_asset_key_col_on_connection
    )
    remembered_has_secondary_index = remembered_when_true(SqlEventLogStorage.has_secondary_index)

    replaced = {
        "_connect": reused_engine_connect,
        "has_table": remembered_has_table,
        "_has_asset_key_col_on_connection": remembered_has_column,
        "has_secondary_index": remembered_has_secondary_index,
    }
    # What SqliteEventLogStorage itself defined (the others are SqlEventLogStorage's, inherited).
    own = {
        name: SqliteEventLogStorage.__dict__[name]
        for name in replaced
        if name in SqliteEventLogStorage.__dict__
    }
    event.listen(Engine, "connect", on_connect)
    for name, replacement in replaced.items():
        setattr(SqliteEventLogStorage, name, replacement)
    try:
        yield
    finally:
        for name in replaced:
            if name in own:
                setattr(SqliteEventLogStorage, name, own[name])
            else:
                delattr(SqliteEventLogStorage, name)
        for engine in engines.values():
            engine.dispose()
        event.remove(Engine, "connect", on_connect)
        for keeper in keepers.values():
            with contextlib.suppress(sqlite3.Error):
                keeper.close()
