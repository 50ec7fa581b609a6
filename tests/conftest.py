"""Shared fixtures: a tiny synthetic force and ONE end-to-end profile run on it per session,
so every test that reads real pipeline outputs shares the same (slow-ish) materialisation.

The suite is one busy core on a 2-core machine; the whole runs (`spp profile` in processes of
their own) fill the other, every run but the first at a lower priority than the suite's own
process. When the session starts (before the collection when it collects the whole of tests/,
else after it) the tiny force is generated and profiled in the background, with the other runs
that need only the force; the runs that start from the first run's outputs follow as soon as it
is done. The tests are ordered so that those reading no run go first, then those reading the
first run, then those waiting for the later runs: a test seldom waits for a run.

The whole runs are processes forked from one that imported what a run imports once per session
(tests/run_server.py), not fresh processes each paying that start-up; the README's main command
alone runs as a process of its own, as CI's machine would start it."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import pytest

from tests.run_server import ForkedRun, RunServer

if TYPE_CHECKING:
    from tests.report.test_tasking_lineage import LineageRuns
    from tests.safety.test_run_safety import KilledRuns
    from tests.test_end_to_end import MainCommandRun
    from tests.test_shapes import ShapeRuns

# Dagster and dbt state of the test session stay out of the project's .state/ folder.
_SESSION_STATE = Path(tempfile.mkdtemp(prefix="spp-tests-"))
os.environ["SPP_STATE_DIR"] = str(_SESSION_STATE)
os.environ["DAGSTER_HOME"] = str(_SESSION_STATE / "dagster_home")
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
# The background runs' inputs and outputs: apart from the session's state folder, which a run in
# this process makes owner-only all through (the runs' published files keep their own modes).
_SESSION_RUNS = Path(tempfile.mkdtemp(prefix="spp-test-runs-"))

TINY_SEED = 7
TINY_END_QUARTER = "2025-Q4"
TINY_RUN_DATE = "2026-01-15"
SPP = Path(sys.executable).parent / "spp"
T = TypeVar("T")

# The suite's own process runs one test at a time and is most of the session's critical path;
# the first run comes next (most tests read it). Every other whole run is started at a lower
# priority, so that it takes the CPU those two leave (of CI's 2 cores) instead of slowing them:
# at equal priority five processes shared the cores and the suite's process got under half of one.
LATER_RUN_NICENESS = 5  # above the suite's own
# How long a test waits for such a run: on a machine shared with other work (load ~25) a run at
# lower priority took over 600 s; the limit is there to end a hung run, not to time a slow one.
LATER_RUN_TIMEOUT = 1800  # seconds


def run_at_lower_priority(process: subprocess.Popen) -> None:
    """Lower a whole run's priority just after it started (before it starts processes of its
    own, which inherit it). Settable from any thread, unlike Popen's preexec_fn."""
    # A run that has ended already has nothing to lower.
    if hasattr(os, "setpriority"):
        niceness = min(19, os.getpriority(os.PRIO_PROCESS, 0) + LATER_RUN_NICENESS)
        with contextlib.suppress(ProcessLookupError):
            os.setpriority(os.PRIO_PROCESS, process.pid, niceness)


@dataclass(frozen=True)
class ProfileRunOutputs:
    extracts: Path
    out: Path
    warehouse: Path
    quarter: str
    # The run's SPP_STATE_DIR; its Dagster home is dagster/ in it.
    state: Path | None = None

    @property
    def quarter_dir(self) -> Path:
        return self.out / self.quarter

    @property
    def dagster_home(self) -> Path:
        assert self.state is not None, "a run without a state folder of its own"
        return self.state / "dagster"


def profile_command(run: ProfileRunOutputs) -> list[str]:
    """`spp profile` on a run's delivery, quarter, output folder and warehouse."""
    return [
        str(SPP),
        "profile",
        "--extracts", str(run.extracts),
        "--quarter", run.quarter,
        "--out", str(run.out),
        "--warehouse", str(run.warehouse),
        "--run-date", TINY_RUN_DATE,
    ]  # fmt: skip


# The session's run server (tests/run_server.py), started with the session or by the first run.
_RUN_SERVER: dict[str, RunServer] = {}


def fork_run(
    target: str, argv: list[str], env: dict[str, str], console: Path, niceness: int = 0
) -> ForkedRun:
    """A whole run of `target` ("module:function" or a module run as __main__) in a process
    forked from the session's run server, its stdout and stderr in `console`; `niceness` above
    the suite's own priority."""
    if "server" not in _RUN_SERVER:
        _RUN_SERVER["server"] = RunServer()
    return _RUN_SERVER["server"].start(target, argv, env, console, niceness)


def fork_profile(
    run: ProfileRunOutputs, console: Path, niceness: int = 0, env: dict[str, str] | None = None
) -> ForkedRun:
    """`spp profile` (its console script's function) on a run's delivery, quarter, output folder
    and warehouse, with the run's own state, forked from the run server."""
    assert run.state is not None, "a run without a state folder of its own"
    argv = profile_command(run)[1:]
    return fork_run("pipelines.cli:entry", argv, env or run_env(run.state), console, niceness)


def run_env(state: Path) -> dict[str, str]:
    """The environment of a run in its own process with its own state (as an analyst runs)."""
    return {**os.environ, "SPP_STATE_DIR": str(state), "DAGSTER_HOME": str(state / "dagster")}


def generate_tiny_force(folder: Path) -> Path:
    """The tiny synthetic force's extracts (with ground truth in truth/): well under a second."""
    from pipelines.synthetic import generate_force

    generate_force(
        scale="tiny", seed=TINY_SEED, out_dir=folder, end_quarter=TINY_END_QUARTER, years=5
    )
    return folder


class BackgroundRuns(threading.Thread, Generic[T]):
    """Whole runs in processes of their own, waited for by this thread, so that they go on the
    second core while the suite goes on. `work` puts every process it starts in `running` (a
    session stopping early kills them); `outputs()` waits, then returns what it returned or
    raises what it raised."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.running: list[subprocess.Popen | ForkedRun] = []
        self._result: T | None = None
        self._error: BaseException | None = None

    def work(self) -> T:
        raise NotImplementedError

    def run(self) -> None:
        try:
            self._result = self.work()
        except BaseException as error:  # re-raised in the fixture that waits
            self._error = error

    def stop(self) -> None:
        """Kill a run still going (the session stopped before a test waited for it)."""
        for process in self.running:
            if process.poll() is None:
                process.kill()
                process.wait()

    def outputs(self) -> T:
        self.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


class FirstRun(BackgroundRuns[ProfileRunOutputs]):
    """The tiny force's quarter profiled by `spp profile`, started with the session; when it is
    done (and the collection has said which runs the session needs) it starts the runs that
    begin from its outputs (`follow_ups()`)."""

    def __init__(
        self,
        run: ProfileRunOutputs,
        follow_ups: Callable[[], list[Callable[[ProfileRunOutputs], None]]],
    ):
        super().__init__()
        self.run_outputs, self.follow_ups = run, follow_ups
        self.console = run.out.parent / "first_run_console.txt"
        self._stopped = False

    def work(self) -> ProfileRunOutputs:
        process = fork_profile(self.run_outputs, self.console)
        self.running.append(process)
        code = process.wait()
        assert code == 0, (
            "spp profile failed on the tiny force:\n"
            + self.console.read_text(errors="replace")[-3000:]
        )
        _COLLECTED.wait()
        for start in self.follow_ups():
            if not self._stopped:
                start(self.run_outputs)
        return self.run_outputs

    def stop(self) -> None:
        # Waited for, so that the runs it starts are started (and stopped next) or never are.
        self._stopped = True
        _COLLECTED.set()
        super().stop()
        self.join(timeout=30)


class MartsFixture(BackgroundRuns[Path]):
    """The marts tests' warehouse (tests/analytics/force_fixture.py: a hand-made force through
    `dbt build`, ~10 s of CPU) built in a process of its own (forked from the run server)
    started with the session, so that it goes on the second core; returns its folder."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def work(self) -> Path:
        console = self.folder / "console.txt"
        process = fork_run(
            "tests.analytics.force_fixture", [str(self.folder)], dict(os.environ), console
        )
        self.running.append(process)
        assert process.wait() == 0, console.read_text(errors="replace")[-3000:]
        return self.folder


# The session's tiny force and its first run, made when the session starts (collection hook).
_TINY: dict[str, Path] = {}
_FIRST_RUN: dict[str, FirstRun] = {}


@pytest.fixture(scope="session")
def tiny_force() -> Path:
    """The tiny synthetic force's extracts (with ground truth in truth/)."""
    if "force" not in _TINY:
        _TINY["force"] = generate_tiny_force(_SESSION_RUNS / "tiny_force")
    return _TINY["force"]


@pytest.fixture(scope="session")
def tiny_profile(tiny_force: Path) -> ProfileRunOutputs:
    """The whole quarterly job run once through Dagster on the tiny force, by `spp profile` in
    its own process (started with the session, here if it was not)."""
    if "run" not in _FIRST_RUN:
        _start_first_run(tiny_force)
    return _FIRST_RUN["run"].outputs()


def _start_first_run(tiny_force: Path) -> None:
    root = Path(tempfile.mkdtemp(prefix="tiny_profile-", dir=_SESSION_RUNS))
    run = ProfileRunOutputs(
        extracts=tiny_force,
        out=root / "out",
        warehouse=root / "warehouse.duckdb",
        quarter=TINY_END_QUARTER,
        state=root / "state",
    )
    first = FirstRun(run, _follow_ups)
    first.start()
    _FIRST_RUN["run"] = first


def _follow_ups() -> list[Callable[[ProfileRunOutputs], None]]:
    """The runs that start from the first run's outputs, those the collected tests ask for."""
    then: list[Callable[[ProfileRunOutputs], None]] = []
    if _RERUN_WANTED:
        then.append(_start_rerun)
    if _KILLED_RUN_STEPS:
        then.append(_start_killed_runs)
    if _SHAPES_WANTED:
        then.append(lambda first: start_shape_runs(first.extracts))
    return then


# A full made-up identity that the re-run's delivery carries in one extra crime_persons row; its
# date of birth is not ISO, so the contract quarantines the row (unparseable_date).
PLANTED = {
    "forename": "Zebedee",
    "surname": "Quillfeather",
    "person_id": "PZQ777001",
    "postcode": "ZZ1 9QQ",
}
PLANTED_DOB = "17/07/1977"


def plant_identity_row(extracts: Path, malformed: bool = False) -> None:
    """Append a crime_persons row holding the PLANTED identity (quarantined, or with one field
    too many: a structural error)."""
    import csv

    path = extracts / "crime_persons.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    with (extracts / "crimes.csv").open(encoding="utf-8", newline="") as handle:
        first_crime = list(next(csv.DictReader(handle)).values())[0]
    values = dict.fromkeys(header, "")
    values.update(PLANTED, crime_id=first_crime, role="victim")
    values["date_of_birth"] = PLANTED_DOB
    row = ",".join(values[c] for c in header) + (",surplus" if malformed else "")
    with path.open("a", encoding="utf-8") as handle:
        handle.write(row + "\n")


def table_counts(warehouse: Path) -> dict[str, int]:
    """Rows of every base table of a warehouse, by schema.table."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE'"
        ).fetchall()
        return {
            f"{schema}.{name}": con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[
                0
            ]
            for schema, name in tables
        }


@dataclass(frozen=True)
class RerunOutputs:
    """The tiny force's quarter profiled AGAIN into a copy of tiny_profile's warehouse and
    output folder, by `spp profile` in its own process with its own state (as an analyst re-runs
    a quarter), on the same delivery plus one planted identity row that the contract
    quarantines."""

    run: ProfileRunOutputs
    counts_before: dict[str, int]  # every table's rows after the first run
    console: Path  # the re-run's stdout and stderr
    state: Path  # its SPP_STATE_DIR (Dagster's storage under dagster/)


# Whether any collected test asks for tiny_rerun (set at collection): only then does the first
# run start it in the background when it is done.
_RERUN_WANTED = False
# The background re-run: its outputs, the process and its console file.
_RERUN: dict[str, object] = {}


# The killed-run tests' steps selected (tests/safety/test_run_safety.py): started in the
# background, one after another, once the first run is done.
KILLED_RUN_TEST = "test_a_killed_run_leaves_the_previous_quarter_as_it_was"
_KILLED_RUN_STEPS: list[str] = []
_KILLED_RUNS: dict[str, KilledRuns] = {}
# The README's main command (tests/test_end_to_end.py), started with the session when collected.
MAIN_COMMAND_TEST = "test_main_command_without_shared_data"
_MAIN_COMMAND: dict[str, MainCommandRun] = {}
# The tasking lineage's two consecutive runs (tests/report/test_tasking_lineage.py): started
# with the session (they need the force only) when a collected test asks for them, else by
# their fixture.
LINEAGE_FIXTURE = "two_runs"
_LINEAGE: dict[str, LineageRuns] = {}
# The unusual deliveries run in every CI run (tests/test_shapes.py): started in the background
# once the first run is done. (The shapes' test asks for its runs by name, as each shape's runs
# are CI's or -m slow's.)
SHAPES_TEST = "test_unusual_delivery_gives_a_profile"
_SHAPES_WANTED = False
_SHAPES: dict[str, ShapeRuns] = {}

# The marts tests' warehouse (tests/analytics/test_profile_marts.py), built in the background
# when a collected test asks for it; its module goes with those reading the first run.
MARTS_FIXTURE = "built"
_MARTS: dict[str, MartsFixture] = {}

# Where a test module goes in the session, by the runs its tests read: none first, then the
# first run's outputs (it is started with the session), then the later background runs. A
# module moves as a whole so that its module-scoped fixtures are made once.
FIRST_RUN_FIXTURES = {"tiny_profile"}
LATER_RUN_FIXTURES = {"tiny_rerun", LINEAGE_FIXTURE}
LATER_RUN_TESTS = {KILLED_RUN_TEST, MAIN_COMMAND_TEST, SHAPES_TEST}


def _runs_read(item: pytest.Item) -> int:
    """0: no run of the pipeline, 1: the session's first run, 2: a run started after it."""
    names = set(getattr(item, "fixturenames", ()))
    if names & LATER_RUN_FIXTURES or getattr(item, "originalname", None) in LATER_RUN_TESTS:
        return 2
    return 1 if names & FIRST_RUN_FIXTURES else 0


def _by_runs_read(items: list[pytest.Item]) -> list[pytest.Item]:
    """The items, modules in order of the runs they read (stable within each group); a module
    reading the marts warehouse built in the background goes with the first run's readers."""
    module_rank: dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::")[0]
        rank = _runs_read(item) or int(MARTS_FIXTURE in getattr(item, "fixturenames", ()))
        module_rank[module] = max(module_rank.get(module, 0), rank)
    return sorted(items, key=lambda item: module_rank[item.nodeid.split("::")[0]])


def _wanted(items: list[pytest.Item], fixture: str) -> bool:
    return any(fixture in getattr(item, "fixturenames", ()) for item in items)


# Set once the collection has said which runs the session needs (the first run waits for it
# before it starts the runs that follow it).
_COLLECTED = threading.Event()


def _runs_every_test_module(config: pytest.Config) -> bool:
    """Whether the session collects the whole of tests/ (CI's and `make test`'s command)."""
    tests_root = Path(__file__).resolve().parent
    folders = {(config.invocation_params.dir / arg).resolve() for arg in config.args}
    return (
        folders == {tests_root}
        and not config.option.keyword
        and not config.option.collectonly
        # --lf / --sw run a few tests (their options exist only with the cache plugin).
        and not getattr(config.option, "lf", False)
        and not getattr(config.option, "stepwise", False)
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    # The whole suite reads every run: the runs that need only the force start before the
    # collection (10-15 s of imports on one core), which leaves the second core idle otherwise.
    # A run the collected tests turn out not to need is stopped when they are known.
    if _runs_every_test_module(session.config):
        # Its imports (~10 s of CPU) go on the second core while this process collects.
        _RUN_SERVER["server"] = RunServer()
        _start_session_runs(main_command=True, first_run=True, lineage=True, marts=True)


def _start_session_runs(main_command: bool, first_run: bool, lineage: bool, marts: bool) -> None:
    """Start the runs asked for that start with the session (each once): the README's main
    command, the marts tests' warehouse, the tiny force's first run and the lineage's two runs
    (the force generated here)."""
    if main_command and "run" not in _MAIN_COMMAND:
        # Two processes of its own (generate, then profile), waited for in a thread: they run
        # on the second core while the suite goes on; the test joins them.
        from tests.test_end_to_end import MainCommandRun

        run = MainCommandRun(Path(tempfile.mkdtemp(prefix="main-command-", dir=_SESSION_STATE)))
        run.start()
        _MAIN_COMMAND["run"] = run
    if marts and "run" not in _MARTS:
        build = MartsFixture(Path(tempfile.mkdtemp(prefix="marts-", dir=_SESSION_RUNS)))
        build.start()
        _MARTS["run"] = build
    if not (first_run or lineage):
        return
    if "force" not in _TINY:
        _TINY["force"] = generate_tiny_force(_SESSION_RUNS / "tiny_force")
    if first_run and "run" not in _FIRST_RUN:
        _start_first_run(_TINY["force"])
    if lineage:
        start_lineage_runs(_TINY["force"])


# After -m / -k have deselected: only the tests that will run count.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    global _RERUN_WANTED, _SHAPES_WANTED
    if config.option.collectonly:
        _COLLECTED.set()
        return
    items[:] = _by_runs_read(items)
    _RERUN_WANTED = _wanted(items, "tiny_rerun")
    _SHAPES_WANTED = any(
        getattr(item, "originalname", None) == SHAPES_TEST and not item.get_closest_marker("slow")
        for item in items
    )
    _KILLED_RUN_STEPS[:] = [
        item.callspec.params["kill_at"]
        for item in items
        if getattr(item, "originalname", None) == KILLED_RUN_TEST and hasattr(item, "callspec")
    ]
    main_command = any(
        getattr(item, "originalname", item.name) == MAIN_COMMAND_TEST for item in items
    )
    reads_a_run = any(_runs_read(item) for item in items)
    lineage = reads_a_run and _wanted(items, LINEAGE_FIXTURE)
    marts = _wanted(items, MARTS_FIXTURE)
    # Started before the collection but not wanted (e.g. -m deselected their tests): stopped.
    for wanted, started in (
        (main_command, _MAIN_COMMAND),
        (marts, _MARTS),
        (reads_a_run, _FIRST_RUN),
        (lineage, _LINEAGE),
    ):
        if not wanted and started:
            started.pop(next(iter(started))).stop()
    _COLLECTED.set()
    # The first run and the runs that start from the force alone begin now (if they did not
    # before the collection); the runs that start from the first run's outputs follow it.
    _start_session_runs(main_command, first_run=reads_a_run, lineage=lineage, marts=marts)


def started_killed_runs() -> KilledRuns | None:
    """The killed runs started when the first run was done, if they were."""
    return _KILLED_RUNS.get("runs")


def _start_killed_runs(first: ProfileRunOutputs) -> None:
    from tests.safety.test_run_safety import KilledRuns

    runs = KilledRuns(first, _SESSION_RUNS / "killed_runs", list(_KILLED_RUN_STEPS))
    runs.start()
    _KILLED_RUNS["runs"] = runs


def start_lineage_runs(tiny_force: Path) -> LineageRuns:
    """The lineage's two runs, started once per session (at its start, or by their fixture)."""
    if "runs" not in _LINEAGE:
        from tests.report.test_tasking_lineage import LineageRuns

        root = Path(tempfile.mkdtemp(prefix="tasking_two_runs-", dir=_SESSION_RUNS))
        runs = LineageRuns(tiny_force, root)
        runs.start()
        _LINEAGE["runs"] = runs
    return _LINEAGE["runs"]


def start_shape_runs(tiny_force: Path) -> ShapeRuns:
    """The CI shapes' runs, started once per session (by the first run, or by their fixture)."""
    if "runs" not in _SHAPES:
        from tests.test_shapes import CI_SHAPES, ShapeRuns

        runs = ShapeRuns(list(CI_SHAPES), tiny_force, _SESSION_RUNS / "shapes")
        runs.start()
        _SHAPES["runs"] = runs
    return _SHAPES["runs"]


def started_marts_fixture() -> MartsFixture | None:
    """The marts tests' warehouse build started with the session, if it was."""
    return _MARTS.get("run")


def started_main_command() -> MainCommandRun | None:
    """The main command's run started with the session, if it was."""
    return _MAIN_COMMAND.get("run")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A background run nobody waited for (the session stopped early) does not outlive it.
    first = _FIRST_RUN.get("run")
    if first is not None:
        first.stop()
    process = _RERUN.get("process")
    if isinstance(process, ForkedRun) and process.poll() is None:
        process.kill()
        process.wait()
    for started in (_KILLED_RUNS, _MAIN_COMMAND, _LINEAGE, _SHAPES, _MARTS):
        runs = started.get("runs", started.get("run"))
        if runs is not None:
            runs.stop()
    # Once every run it forked has been stopped (it kills any left when its input closes).
    server = _RUN_SERVER.pop("server", None)
    if server is not None:
        server.stop()
    # The runs' folders (~300 MB a session) are kept only when a test failed, to look into.
    if exitstatus == 0:
        shutil.rmtree(_SESSION_RUNS, ignore_errors=True)
    else:
        print(f"\nThe background runs' folders are kept in {_SESSION_RUNS}", file=sys.stderr)


def _start_rerun(first: ProfileRunOutputs) -> None:
    """Copy the first run's warehouse and outputs, plant the identity row in a copy of its
    delivery, and start `spp profile` on them in its own process with its own state."""
    root = _SESSION_RUNS / "tiny_rerun"
    root.mkdir()
    extracts = root / "in"
    shutil.copytree(first.extracts, extracts, ignore=shutil.ignore_patterns("truth"))
    plant_identity_row(extracts)
    state = root / "state"
    run = ProfileRunOutputs(
        extracts=extracts,
        out=root / "out",
        warehouse=root / "wh" / "warehouse.duckdb",
        quarter=first.quarter,
        state=state,
    )
    shutil.copytree(first.out, run.out)
    run.warehouse.parent.mkdir()
    shutil.copyfile(first.warehouse, run.warehouse)
    counts_before = table_counts(run.warehouse)
    console = root / "console.txt"
    process = fork_profile(run, console, niceness=LATER_RUN_NICENESS)
    _RERUN.update(
        outputs=RerunOutputs(run=run, counts_before=counts_before, console=console, state=state),
        process=process,
    )


@pytest.fixture(scope="session")
def tiny_rerun(tiny_profile: ProfileRunOutputs) -> RerunOutputs:
    """One whole run shared by the tests of re-running a quarter (replaces, never duplicates)
    and of planted personal values (they never leave the warehouse): each used to pay a whole
    run of its own. Started by the first run as soon as it is done (here if it was not)."""
    if "process" not in _RERUN:
        _start_rerun(tiny_profile)
    process = _RERUN["process"]
    outputs = _RERUN["outputs"]
    assert isinstance(process, ForkedRun) and isinstance(outputs, RerunOutputs)
    returncode = process.wait()
    assert returncode == 0, outputs.console.read_text(errors="replace")[-2000:]
    return outputs
