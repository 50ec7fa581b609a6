"""Shared fixtures: a tiny synthetic force and ONE end-to-end profile run on it per session,
so every test that reads real pipeline outputs shares the same (slow-ish) materialisation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.report.test_tasking_lineage import LineageRuns
    from tests.safety.test_run_safety import KilledRuns
    from tests.test_end_to_end import MainCommandRun

# Dagster and dbt state of the test session stay out of the project's .state/ folder.
_SESSION_STATE = Path(tempfile.mkdtemp(prefix="spp-tests-"))
os.environ["SPP_STATE_DIR"] = str(_SESSION_STATE)
os.environ["DAGSTER_HOME"] = str(_SESSION_STATE / "dagster_home")
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"

TINY_SEED = 7
TINY_END_QUARTER = "2025-Q4"
TINY_RUN_DATE = "2026-01-15"


@dataclass(frozen=True)
class ProfileRunOutputs:
    extracts: Path
    out: Path
    warehouse: Path
    quarter: str

    @property
    def quarter_dir(self) -> Path:
        return self.out / self.quarter


@pytest.fixture(scope="session")
def tiny_force(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny synthetic force's extracts (with ground truth in truth/)."""
    from pipelines.synthetic import generate_force

    folder = tmp_path_factory.mktemp("tiny_force")
    generate_force(
        scale="tiny", seed=TINY_SEED, out_dir=folder, end_quarter=TINY_END_QUARTER, years=5
    )
    return folder


@pytest.fixture(scope="session")
def tiny_profile(tiny_force: Path, tmp_path_factory: pytest.TempPathFactory) -> ProfileRunOutputs:
    """The whole quarterly job run once through Dagster on the tiny force, via the CLI."""
    from pipelines.cli import main

    root = tmp_path_factory.mktemp("tiny_profile")
    outputs = ProfileRunOutputs(
        extracts=tiny_force,
        out=root / "out",
        warehouse=root / "warehouse.duckdb",
        quarter=TINY_END_QUARTER,
    )
    code = main(
        [
            "profile",
            "--extracts", str(outputs.extracts),
            "--quarter", outputs.quarter,
            "--out", str(outputs.out),
            "--warehouse", str(outputs.warehouse),
            "--run-date", TINY_RUN_DATE,
        ]
    )  # fmt: skip
    assert code == 0, "spp profile failed on the tiny force"
    if _RERUN_WANTED:
        # The re-run is a process of its own: it runs on the second core while the tests that
        # read this run's outputs go on in this one (the suite is mostly one busy core).
        _start_rerun(outputs, tmp_path_factory)
    if _KILLED_RUN_STEPS:
        from tests.safety.test_run_safety import KilledRuns

        runs = KilledRuns(outputs, tmp_path_factory.mktemp("killed_runs"), list(_KILLED_RUN_STEPS))
        runs.start()
        _KILLED_RUNS["runs"] = runs
    if _LINEAGE_WANTED:
        start_lineage_runs(tiny_force, tmp_path_factory)
    return outputs


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


# Whether any collected test asks for tiny_rerun (set at collection): only then does tiny_profile
# start it in the background.
_RERUN_WANTED = False
# The background re-run: its outputs, the process and its console file.
_RERUN: dict[str, object] = {}


# The killed-run tests' steps selected (tests/safety/test_run_safety.py): tiny_profile starts
# them in the background, one after another, once its run is done.
KILLED_RUN_TEST = "test_a_killed_run_leaves_the_previous_quarter_as_it_was"
_KILLED_RUN_STEPS: list[str] = []
_KILLED_RUNS: dict[str, KilledRuns] = {}
# The README's main command (tests/test_end_to_end.py), started with the session when collected.
MAIN_COMMAND_TEST = "test_main_command_without_shared_data"
_MAIN_COMMAND: dict[str, MainCommandRun] = {}
# The tasking lineage's two consecutive runs (tests/report/test_tasking_lineage.py): started in
# the background by tiny_profile when a collected test asks for them, else by their fixture.
LINEAGE_FIXTURE = "two_runs"
_LINEAGE_WANTED = False
_LINEAGE: dict[str, LineageRuns] = {}


# After -m / -k have deselected: only the tests that will run count.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    global _RERUN_WANTED, _LINEAGE_WANTED
    if config.option.collectonly:
        return
    _RERUN_WANTED = any("tiny_rerun" in getattr(item, "fixturenames", ()) for item in items)
    _LINEAGE_WANTED = any(LINEAGE_FIXTURE in getattr(item, "fixturenames", ()) for item in items)
    _KILLED_RUN_STEPS[:] = [
        item.callspec.params["kill_at"]
        for item in items
        if getattr(item, "originalname", None) == KILLED_RUN_TEST and hasattr(item, "callspec")
    ]
    if any(getattr(item, "originalname", item.name) == MAIN_COMMAND_TEST for item in items):
        # Two processes of its own (generate, then profile), waited for in a thread: they run
        # on the second core while the suite goes on; the test joins them.
        from tests.test_end_to_end import MainCommandRun

        run = MainCommandRun(Path(tempfile.mkdtemp(prefix="main-command-", dir=_SESSION_STATE)))
        run.start()
        _MAIN_COMMAND["run"] = run


def started_killed_runs() -> KilledRuns | None:
    """The killed runs started when tiny_profile was done, if they were."""
    return _KILLED_RUNS.get("runs")


def start_lineage_runs(tiny_force: Path, tmp_path_factory: pytest.TempPathFactory) -> LineageRuns:
    """The lineage's two runs, started once per session (here, if tiny_profile did not)."""
    if "runs" not in _LINEAGE:
        from tests.report.test_tasking_lineage import LineageRuns

        runs = LineageRuns(tiny_force, tmp_path_factory.mktemp("tasking_two_runs"))
        runs.start()
        _LINEAGE["runs"] = runs
    return _LINEAGE["runs"]


def started_main_command() -> MainCommandRun | None:
    """The main command's run started with the session, if it was."""
    return _MAIN_COMMAND.get("run")


def pytest_sessionfinish() -> None:
    # A background run nobody waited for (the session stopped early) does not outlive it.
    process = _RERUN.get("process")
    if isinstance(process, subprocess.Popen) and process.poll() is None:
        process.kill()
        process.wait()
    killed_runs = _KILLED_RUNS.get("runs")
    if killed_runs is not None:
        killed_runs.stop()
    main_command = _MAIN_COMMAND.get("run")
    if main_command is not None:
        main_command.stop()
    lineage_runs = _LINEAGE.get("runs")
    if lineage_runs is not None:
        lineage_runs.stop()


def _start_rerun(first: ProfileRunOutputs, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Copy the first run's warehouse and outputs, plant the identity row in a copy of its
    delivery, and start `spp profile` on them in its own process with its own state."""
    root = tmp_path_factory.mktemp("tiny_rerun")
    extracts = root / "in"
    shutil.copytree(first.extracts, extracts, ignore=shutil.ignore_patterns("truth"))
    plant_identity_row(extracts)
    run = ProfileRunOutputs(
        extracts=extracts,
        out=root / "out",
        warehouse=root / "wh" / "warehouse.duckdb",
        quarter=first.quarter,
    )
    shutil.copytree(first.out, run.out)
    run.warehouse.parent.mkdir()
    shutil.copyfile(first.warehouse, run.warehouse)
    counts_before = table_counts(run.warehouse)
    state = root / "state"
    env = {**os.environ, "SPP_STATE_DIR": str(state), "DAGSTER_HOME": str(state / "dagster")}
    console = root / "console.txt"
    with console.open("wb") as console_file:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "spp"),
                "profile",
                "--extracts", str(run.extracts),
                "--quarter", run.quarter,
                "--out", str(run.out),
                "--warehouse", str(run.warehouse),
                "--run-date", TINY_RUN_DATE,
            ],
            stdin=subprocess.DEVNULL,
            stdout=console_file,
            stderr=subprocess.STDOUT,
            env=env,
        )  # fmt: skip
    _RERUN.update(
        outputs=RerunOutputs(run=run, counts_before=counts_before, console=console, state=state),
        process=process,
    )


@pytest.fixture(scope="session")
def tiny_rerun(
    tiny_profile: ProfileRunOutputs, tmp_path_factory: pytest.TempPathFactory
) -> RerunOutputs:
    """One whole run shared by the tests of re-running a quarter (replaces, never duplicates)
    and of planted personal values (they never leave the warehouse): each used to pay a whole
    run of its own. Started by tiny_profile as soon as that run is done (here if it was not)."""
    if "process" not in _RERUN:
        _start_rerun(tiny_profile, tmp_path_factory)
    process = _RERUN["process"]
    outputs = _RERUN["outputs"]
    assert isinstance(process, subprocess.Popen) and isinstance(outputs, RerunOutputs)
    returncode = process.wait()
    assert returncode == 0, outputs.console.read_text(errors="replace")[-2000:]
    return outputs
