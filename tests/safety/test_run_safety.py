"""A whole profile run attacked: personal values planted in the delivery never leave the
warehouse; stores are owner-only; a second run is refused; a killed run changes nothing."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from dagster_duckdb import DuckDBResource

from pipelines import run_safety
from pipelines.cli import main
from pipelines.resources import Warehouse
from tests.conftest import (
    LATER_RUN_NICENESS,
    LATER_RUN_TIMEOUT,
    PLANTED,
    PLANTED_DOB,
    TINY_END_QUARTER,
    TINY_RUN_DATE,
    ProfileRunOutputs,
    RerunOutputs,
    fork_profile,
    plant_identity_row,
    started_killed_runs,
)
from tests.run_server import ForkedRun

NEEDLES = [v.lower().encode() for v in (*PLANTED.values(), PLANTED_DOB, "1977-07-17")]


def _files_holding_needles(*roots: Path) -> list[str]:
    found = []
    for root in roots:
        for path in [root] if root.is_file() else root.rglob("*"):
            if path.is_file():
                data = path.read_bytes().lower()
                found += [f"{path}: {n.decode()}" for n in NEEDLES if n in data]
    return found


def _profile_args(extracts: Path, out: Path, warehouse: Path) -> list[str]:
    return [
        "profile",
        "--extracts", str(extracts),
        "--quarter", TINY_END_QUARTER,
        "--out", str(out),
        "--warehouse", str(warehouse),
        "--run-date", TINY_RUN_DATE,
    ]  # fmt: skip


def test_planted_personal_values_never_leave_the_warehouse(tiny_rerun: RerunOutputs) -> None:
    """A whole run (`spp profile` in its own process) on a delivery holding a planted identity."""
    import duckdb

    # The planted row did reach the system (else the scan proves nothing) ...
    with duckdb.connect(str(tiny_rerun.run.warehouse), read_only=True) as con:
        held = con.execute(
            "select rule from raw.quarantine where cast(original_row as varchar) like ?",
            [f"%{PLANTED['surname']}%"],
        ).fetchall()
    assert held == [("unparseable_date",)], "the planted row should be in raw.quarantine"
    # ... and nothing outside the warehouse holds any of its values.
    roots = (tiny_rerun.console, tiny_rerun.state / "dagster", tiny_rerun.run.out)
    assert _files_holding_needles(*roots) == []


def test_malformed_row_through_dagster_keeps_values_out_of_its_storage(
    tiny_force: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The Dagster UI path (no CLI gate): the structural error stored by Dagster names file,
    column and row, and its storage never holds the row."""
    from pipelines.assets.ingest import ingest_assets
    from pipelines.resources import ProfileRun

    extracts = tmp_path / "in"
    shutil.copytree(tiny_force, extracts, ignore=shutil.ignore_patterns("truth"))
    plant_identity_row(extracts, malformed=True)
    home = tmp_path / "dagster"
    home.mkdir()
    with dg.DagsterInstance.local_temp(str(home)) as instance:
        result = dg.materialize(
            ingest_assets,
            partition_key=TINY_END_QUARTER,
            instance=instance,
            resources={
                "duckdb": DuckDBResource(database=str(tmp_path / "wh.duckdb")),
                "profile_run": ProfileRun(
                    extracts_dir=str(extracts), output_dir=str(tmp_path / "out")
                ),
            },
            raise_on_error=False,
        )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "crime_persons.csv: wrong number of fields" in str(failure.step_failure_data.error)
    logs = tmp_path / "captured.txt"
    captured = capfd.readouterr()
    logs.write_text(captured.out + captured.err)
    assert _files_holding_needles(home, logs) == []


# --------------------------------------------------------------------------- permissions
def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_stores_are_owner_only_and_the_quarter_is_published(
    tiny_profile: ProfileRunOutputs,
) -> None:
    assert _mode(tiny_profile.warehouse) == 0o600
    # The run's own state folder and Dagster home (its SPP_STATE_DIR and DAGSTER_HOME).
    state = tiny_profile.state
    assert _mode(state) == 0o700 and _mode(tiny_profile.dagster_home) == 0o700
    quarter = tiny_profile.quarter_dir
    assert _mode(quarter) == 0o755 and _mode(quarter / "profile.html") == 0o644
    assert _mode(quarter / "data_quality.json") == 0o644
    restricted = quarter / "restricted"
    assert _mode(restricted) == 0o700
    assert all(_mode(p) == 0o600 for p in restricted.rglob("*") if p.is_file())
    assert not list(tiny_profile.out.glob(".staging-*")), "the staging folder is gone"
    assert not run_safety.lock_path(tiny_profile.warehouse).exists(), "the lock is released"


# --------------------------------------------------------------------------- single writer
def test_a_second_run_on_the_same_warehouse_is_refused(
    tiny_force: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with run_safety.warehouse_lock(warehouse) as holder:
        code = main(_profile_args(tiny_force, tmp_path / "out", warehouse))
    err = capsys.readouterr().err.strip()
    assert code != 0 and "\n" not in err
    assert f"another run is using this warehouse (pid {holder.pid}" in err
    assert not warehouse.exists() and not (tmp_path / "out").exists()


def test_a_dagster_run_holds_the_warehouse_for_its_whole_length(tmp_path: Path) -> None:
    """A run started from the Dagster UI works on the warehouse itself: it takes the lock at
    its start, holds it while its steps run, and releases it at the end."""
    warehouse = tmp_path / "warehouse.duckdb"

    @dg.asset
    def first(duckdb: Warehouse) -> bool:
        return run_safety.lock_path(Path(duckdb.database)).exists()

    @dg.asset
    def second(first: bool, duckdb: Warehouse) -> bool:
        return first and run_safety.lock_path(Path(duckdb.database)).exists()

    result = dg.materialize(
        [first, second], resources={"duckdb": Warehouse(database=str(warehouse))}
    )
    assert result.success and result.output_for_node("second") is True
    assert not run_safety.lock_path(warehouse).exists(), "the lock is released"


def test_a_dagster_run_on_a_warehouse_in_use_is_refused_before_any_step(
    tiny_force: Path, tmp_path: Path
) -> None:
    """The UI path meets the same lock as `spp profile`: refused at once, naming the holder,
    and nothing is written."""
    from pipelines.definitions import build_definitions

    warehouse = tmp_path / "warehouse.duckdb"
    out = tmp_path / "out"
    defs = build_definitions(tiny_force, out, warehouse, TINY_RUN_DATE)
    job = defs.resolve_job_def("quarterly_profile")
    home = tmp_path / "dagster"
    home.mkdir()
    from pipelines.event_log_sqlite import fast_commits

    # The CLI's SQLite settings (no disk sync per event): the run stores some 600 "planned"
    # events before it is refused, which synced one by one took most of this test's time.
    with (
        run_safety.warehouse_lock(warehouse) as holder,
        fast_commits(home),
        dg.DagsterInstance.local_temp(str(home)) as instance,
    ):
        result = job.execute_in_process(
            partition_key=TINY_END_QUARTER, instance=instance, raise_on_error=False
        )
    assert not result.success
    events = [e.event_type_value for e in result.all_events]
    assert "STEP_START" not in events, "no step may run while another run holds the warehouse"
    failures = " ".join(str(e.event_specific_data) for e in result.all_events if e.is_failure)
    assert f"another run is using this warehouse (pid {holder.pid}" in failures
    assert not warehouse.exists() and not list(out.rglob("*.html"))


@pytest.mark.parametrize("unusable", ["out_is_a_file", "warehouse_is_a_folder"])
def test_an_unusable_output_or_warehouse_path_is_named_in_one_line(
    tmp_path: Path, unusable: str
) -> None:
    """An --out that is a file or a --warehouse that is a folder ended the run in a traceback
    (NotADirectoryError, IsADirectoryError); both are named before the first step now."""
    out, warehouse = tmp_path / "out", tmp_path / "warehouse.duckdb"
    if unusable == "out_is_a_file":
        out.write_text("")
        named = out / f".staging-{TINY_END_QUARTER}"
    else:
        warehouse.mkdir()
        named = warehouse
    with pytest.raises(run_safety.RunPathUnusable) as raised:
        run_safety.stage_run(warehouse, out, TINY_END_QUARTER)
    message = str(raised.value)
    assert message.startswith(f"{named}: ") and "\n" not in message


def test_a_stale_lock_is_taken_over(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run_safety.lock_path(warehouse).write_text(
        f'{{"pid": {dead.pid}, "host": "{os.uname().nodename}", "started": "earlier"}}'
    )
    with run_safety.warehouse_lock(warehouse) as holder:
        assert holder.pid == os.getpid()
    assert not run_safety.lock_path(warehouse).exists()


# --------------------------------------------------------------------------- killed runs
def _digest(*roots: Path) -> dict[str, str]:
    digests = {}
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            if not path.name.startswith("."):
                digests[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


@dataclass
class KilledRun:
    """A copy of the first run's outputs and warehouse, digested before and after `spp profile`
    on them was sent SIGTERM as the step `kill_at` started."""

    warehouse: Path
    before: dict[str, str]
    after: dict[str, str]
    returncode: int | None


class KilledRuns(threading.Thread):
    """The killed runs, one after another, in processes waited for by this thread:
    tests/conftest.py starts it as soon as tiny_profile is done, so they run on the second core
    while the suite goes on; each test joins it for its own step."""

    def __init__(self, first: ProfileRunOutputs, root: Path, steps: list[str]) -> None:
        super().__init__(daemon=True)
        self.first, self.root, self.steps = first, root, steps
        self.outcomes: dict[str, KilledRun | BaseException] = {}
        self._finished = {step: threading.Event() for step in steps}
        self._running: ForkedRun | None = None
        self._stopped = False

    def run(self) -> None:
        for step in self.steps:
            try:
                self.outcomes[step] = self._killed_at(step)
            except BaseException as error:  # re-raised in the test that asks for this step
                self.outcomes[step] = error
            self._finished[step].set()

    def _killed_at(self, kill_at: str) -> KilledRun:
        if self._stopped:
            raise RuntimeError("stopped with the session")
        tmp = self.root / kill_at
        out, warehouse = tmp / "out", tmp / "wh" / "warehouse.duckdb"
        shutil.copytree(self.first.out, out)
        warehouse.parent.mkdir(parents=True)
        shutil.copyfile(self.first.warehouse, warehouse)
        before = _digest(out / TINY_END_QUARTER, warehouse)
        run = ProfileRunOutputs(
            self.first.extracts, out, warehouse, TINY_END_QUARTER, state=tmp / "state"
        )
        self._running = process = fork_profile(run, tmp / "console.txt", LATER_RUN_NICENESS)
        for line in process.console_lines():
            if f"▶ {kill_at}".encode() in line:
                process.send_signal(signal.SIGTERM)
                break
        process.wait(timeout=LATER_RUN_TIMEOUT)
        return KilledRun(
            warehouse, before, _digest(out / TINY_END_QUARTER, warehouse), process.returncode
        )

    def outcome(self, step: str) -> KilledRun:
        """Wait for this step's run (not the ones after it)."""
        self._finished[step].wait()
        outcome = self.outcomes[step]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def stop(self) -> None:
        """End the running process (the session ended before the tests joined)."""
        self._stopped = True
        running = self._running
        if running is not None and running.poll() is None:
            running.kill()
        self.join(timeout=30)


# Killed at the first step and at the last (the publish step, after every table is built);
# a kill in the middle is the same mechanism and runs with the slow tests (the CI budget).
KILLED_RUN_TEST = "test_a_killed_run_leaves_the_previous_quarter_as_it_was"


@pytest.mark.parametrize(
    "kill_at",
    ["dbt_staging", pytest.param("hotspots", marks=pytest.mark.slow), "profile_report"],
)
def test_a_killed_run_leaves_the_previous_quarter_as_it_was(
    tiny_profile: ProfileRunOutputs, tmp_path: Path, kill_at: str
) -> None:
    """SIGTERM when a step starts: the published quarter and the warehouse are byte for byte
    the previous run's."""
    runs = started_killed_runs()
    if runs is None or kill_at not in runs.steps:
        runs = KilledRuns(tiny_profile, tmp_path, [kill_at])
        runs.start()
    outcome = runs.outcome(kill_at)
    assert outcome.returncode != 0, f"the run ended before {kill_at} started"
    assert outcome.after == outcome.before
    # The next run is not blocked by the dead run's lock and leftovers.
    with run_safety.warehouse_lock(outcome.warehouse):
        pass


def test_the_python_steps_of_a_run_share_one_open_warehouse(tmp_path: Path) -> None:
    """Within a run the steps' connections are sessions of one open database: what a step
    commits the next one reads; a memory limit a step sets for itself does not reach the
    next; the file is held between steps, and `release` (before a dbt step opens the file in
    an instance of its own) and the run's end let go of it."""
    import duckdb as duckdb_lib

    from pipelines.resources import release_warehouse

    warehouse = tmp_path / "warehouse.duckdb"

    def opens_elsewhere() -> bool:
        """Whether another DuckDB instance of this process can open the file, as dbt's does."""
        try:
            with duckdb_lib.connect(":memory:") as other:
                other.execute(f"attach '{warehouse}' as elsewhere")
        except duckdb_lib.Error:
            return False
        return True

    @dg.asset
    def writes(duckdb: Warehouse) -> dict[str, object]:
        with duckdb.get_connection() as con:
            limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
            con.execute("set memory_limit = '123MB'")
            con.execute("create table t as select 42 as x")
        return {"limit": limit, "held": not opens_elsewhere()}

    @dg.asset
    def reads(writes: dict[str, object], duckdb: Warehouse) -> dict[str, object]:
        with duckdb.get_connection() as con:
            x = con.execute("select x from t").fetchone()[0]
            limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
        held = not opens_elsewhere()
        release_warehouse(duckdb)
        return {"x": x, "limit": limit, "held": held, "released": opens_elsewhere()}

    result = dg.materialize(
        [writes, reads],
        resources={
            "duckdb": Warehouse(database=str(warehouse), connection_config={"memory_limit": "1GB"})
        },
    )
    assert result.success
    first, second = result.output_for_node("writes"), result.output_for_node("reads")
    assert first["held"] and second["held"], "the database stays open between steps"
    assert second["x"] == 42
    assert second["limit"] == first["limit"], "the next step has the configured limit"
    assert second["released"], "release lets another instance open the file"
    assert opens_elsewhere(), "the run's end closes it"
    with duckdb_lib.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select x from t").fetchone()[0] == 42
