"""The thin vertical slice, end to end through Dagster on the tiny synthetic force:
crimes extract → raw → staging → mart → profile.html, checked against an independent
pandas computation from the delivered CSV."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.cli import DEMO_SEED
from pipelines.contracts.schema import EXTRACTS
from pipelines.paths import DBT_PROJECT_DIR, PROJECT_ROOT
from pipelines.quarters import last_complete_quarter
from pipelines.synthetic.fingerprint import generator_fingerprint
from tests.conftest import LATER_RUN_TIMEOUT, run_at_lower_priority, table_counts

_TRUE = {"true", "y", "1", "yes"}


def _bool(series: pd.Series) -> pd.Series:
    return series.astype(str).str.strip().str.lower().isin(_TRUE)


def expected_counts(extracts: Path) -> pd.DataFrame:
    """Quarterly stalking/harassment counts computed from the CSV alone, minus the rows the
    generator's ground truth says were planted as bad (they are quarantined, not loaded)."""
    crimes = pd.read_csv(extracts / "crimes.csv", dtype=str, keep_default_na=False)
    crimes["_source_row"] = range(1, len(crimes) + 1)
    bad = pd.read_csv(extracts / "truth" / "bad_rows.csv", dtype={"source_row": int})
    bad_crime_rows = set(bad.loc[bad["file"].str.startswith("crimes"), "source_row"])
    crimes = crimes[~crimes["_source_row"].isin(bad_crime_rows)]
    codes = pd.read_csv(DBT_PROJECT_DIR / "seeds" / "offence_codes.csv", dtype=str)
    category = dict(zip(codes["offence_code"], codes["category"], strict=True))
    crimes = crimes.assign(
        offence_category=crimes["offence_code"].str.strip().str.upper().map(category),
        quarter=pd.PeriodIndex(pd.to_datetime(crimes["reported_date"]), freq="Q").strftime(
            "%Y-Q%q"
        ),
        is_domestic_abuse=_bool(crimes["is_domestic_abuse"]),
        is_online=_bool(crimes["is_online"]),
    )
    crimes = crimes[crimes["offence_category"].isin(["stalking", "harassment"])]
    keys = ["quarter", "offence_category", "is_domestic_abuse", "is_online"]
    return crimes.groupby(keys).size().rename("crimes").reset_index().sort_values(keys)


def _mart(warehouse: Path) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frame = con.execute("select * from marts.crime_counts_by_quarter").df()
    keys = ["quarter", "offence_category", "is_domestic_abuse", "is_online"]
    return frame.sort_values(keys)


def test_mart_matches_independent_count(tiny_profile) -> None:
    mart = _mart(tiny_profile.warehouse).reset_index(drop=True)
    expected = expected_counts(tiny_profile.extracts).reset_index(drop=True)
    assert len(mart) > 0
    pd.testing.assert_frame_equal(
        mart[expected.columns].astype({"crimes": "int64"}),
        expected.astype({"crimes": "int64"}),
        check_dtype=False,
    )


def test_report_is_written_with_chart(tiny_profile) -> None:
    report = tiny_profile.quarter_dir / "profile.html"
    assert report.exists()
    html = report.read_text(encoding="utf-8")
    assert "Plotly.newPlot" in html, "the chart is not in the report"
    assert '<script src="http' not in html, "the report must not load scripts from the web"


def test_contract_checks_run_after_every_load_and_before_dbt(tiny_profile) -> None:
    """The order that lets the loading hide GX's import (pipelines/contracts/gx_checks.py):
    every extract loaded, then the five contract checks (one step), then dbt."""
    import dagster as dg

    # The Dagster instance of the run's own DAGSTER_HOME.
    with dg.DagsterInstance.from_config(str(tiny_profile.dagster_home)) as instance:
        runs = instance.get_run_records(dg.RunsFilter(job_name="quarterly_profile"), limit=1)
        assert runs, "no quarterly_profile run in the first run's Dagster instance"
        started = [
            record.event_log_entry.dagster_event.step_key
            for record in instance.get_records_for_run(
                runs[0].dagster_run.run_id, of_type=dg.DagsterEventType.STEP_START
            ).records
        ]
    loads = [started.index(f"raw__{name}") for name in EXTRACTS]
    checks = started.index("raw__contract_checks")  # one step for the five suites
    assert max(loads) < checks
    assert checks < started.index("dbt_staging")


def test_rerunning_a_quarter_replaces_not_duplicates(tiny_rerun) -> None:
    """The same quarter profiled again into the same warehouse: every table holds what it held,
    but for the re-run delivery's one extra (quarantined) row."""
    after = table_counts(tiny_rerun.run.warehouse)
    expected = dict(tiny_rerun.counts_before)
    expected["raw.quarantine"] += 1
    assert after == expected


MAIN_COMMAND = [sys.executable, "-m", "pipelines.cli", "profile"]


def _main_command_env(state: Path, root: Path) -> dict[str, str]:
    """`spp profile` with no extracts, as `tasks.py profile` runs it (own process, own state,
    output and Dagster folders) on a machine without ../shared/data."""
    env = {
        **os.environ,
        "SPP_SHARED_DATA": str(root / "no_shared_data"),
        "SPP_STATE_DIR": str(state),
        "SPP_OUTPUT_DIR": str(root / "output"),
        "DAGSTER_HOME": str(root / "dagster_home"),
    }
    env.pop("SPP_WAREHOUSE", None)
    return env


def _run_main_command(state: Path, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        MAIN_COMMAND,
        cwd=PROJECT_ROOT,
        env=_main_command_env(state, root),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _check_main_command(proc: subprocess.CompletedProcess[str], root: Path) -> str:
    """It profiled the demo force with the stand-in geography and says so. Caught a guard
    refusal on the stand-in caveat once."""
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    # The run ends without the multiprocessing resource tracker's leaked-semaphore warning.
    assert "resource_tracker" not in proc.stderr, proc.stderr[-2000:]
    profiles = list((root / "output").glob("*/profile.html"))
    assert len(profiles) == 1
    html = profiles[0].read_text()
    assert "stand-in grid" in html
    quarter_dir = profiles[0].parent
    assert (quarter_dir / "restricted" / "high_harm_perpetrators.csv").exists()
    assert (quarter_dir / "fms" / "demand.csv").exists()
    return proc.stdout


class MainCommandRun(threading.Thread):
    """The README's main command on a tiny demo force put in the demo cache (as a second run
    finds it), generated as that machine would (no ../shared/data). Two processes, waited for in
    a thread: tests/conftest.py starts it when the session starts, so it runs on the second core
    while the suite goes on, and the test joins it."""

    def __init__(self, root: Path) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.proc: subprocess.CompletedProcess[str] | None = None
        self.error: BaseException | None = None
        self._running: subprocess.Popen[str] | None = None
        self._stopped = False

    def run(self) -> None:
        try:
            self.proc = self._generate_and_profile()
        except BaseException as error:  # re-raised in the test that joins
            self.error = error

    def _process(self, command: list[str], env: dict[str, str]) -> tuple[int, str, str]:
        if self._stopped:
            raise RuntimeError("stopped with the session")
        self._running = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        run_at_lower_priority(self._running)
        out, err = self._running.communicate(timeout=LATER_RUN_TIMEOUT)
        return self._running.returncode, out, err

    def _generate_and_profile(self) -> subprocess.CompletedProcess[str]:
        state = self.root / "state"
        end_quarter = last_complete_quarter(dt.date.today())
        # Where and how demo_extracts caches the demo force (pipelines/cli.py).
        demo = state / "demo" / f"force-seed{DEMO_SEED}-{end_quarter}"
        code, out, err = self._process(
            [
                sys.executable, "-m", "pipelines.cli", "generate", "--scale", "tiny",
                "--seed", str(DEMO_SEED), "--out", str(demo), "--end-quarter", end_quarter,
            ],
            {**os.environ, "SPP_SHARED_DATA": str(self.root / "no_shared_data")},
        )  # fmt: skip
        assert code == 0, f"spp generate failed: {err[-2000:]}"
        (demo / ".complete").write_text(f"{generator_fingerprint()}\n")
        code, out, err = self._process(MAIN_COMMAND, _main_command_env(state, self.root))
        return subprocess.CompletedProcess(MAIN_COMMAND, code, out, err)

    def stop(self) -> None:
        """End the run's process (the session ended before the test joined it)."""
        self._stopped = True
        running = self._running
        if running is not None and running.poll() is None:
            running.kill()
        self.join(timeout=30)

    def console(self) -> str:
        """Wait for the run; its checked console output."""
        self.join()
        if self.error is not None:
            raise self.error
        assert self.proc is not None
        return _check_main_command(self.proc, self.root)


def test_main_command_without_shared_data(tmp_path: Path) -> None:
    """The README's main command, its demo force a tiny one already in the demo cache: the whole
    command path in a fraction of the force's time. The force-scale generation and run on a
    fresh machine is the slow test below."""
    from tests.conftest import started_main_command

    run = started_main_command()
    if run is None:
        run = MainCommandRun(tmp_path)
        run.start()
    console = run.console()
    assert "Generating the demo force" not in console, "the cached tiny force was not used"


@pytest.mark.slow
def test_main_command_on_the_demo_force_without_shared_data(tmp_path: Path) -> None:
    """The README's main command on a fresh machine: no extracts given, so the demo force is
    generated (force scale) and profiled."""
    _check_main_command(_run_main_command(tmp_path / "state", tmp_path), tmp_path)
