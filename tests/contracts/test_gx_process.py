"""The contract checks give the same outcome in the validation process (what `spp profile`
uses, pipelines/contracts/gx_process.py) as in the calling process, and fall back to the
calling process when that one fails."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict

import pytest

from pipelines.contracts import geo, gx_process
from pipelines.contracts.gx_checks import run_suite, run_suites, submit_suite
from tests.contracts.delivery import TODAY, Delivery

EXTRACTS = ("crimes", "crime_persons", "intelligence", "orders", "breaches")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Delivery:
    """A delivery whose loaded crimes carry a row the quarantine would have stopped, so one
    expectation fails and the outcome is not all passes."""
    d = Delivery(tmp_path_factory.mktemp("gx_process") / "in")
    d.load()
    d.con.execute(
        "insert into raw.crimes by name select * replace ('999/99' as offence_code) "
        "from raw.crimes where crime_id = 'C1'"
    )
    return d


@pytest.fixture
def no_process_left() -> Iterator[None]:
    yield
    gx_process.stop()


def _outcomes(d: Delivery) -> dict[str, dict]:
    """One suite at a time (run_suite)."""
    area = geo.resolve_force_area(d.folder)
    return {e: asdict(run_suite(d.con, e, TODAY, area)) for e in EXTRACTS}


def _outcomes_together(d: Delivery) -> dict[str, dict]:
    """The five suites as the contract-check step runs them: each batch sent as soon as it
    is built (run_suites)."""
    area = geo.resolve_force_area(d.folder)
    return {e: asdict(o) for e, o in run_suites(d.con, EXTRACTS, TODAY, area).items()}


def _outcomes_submitted_as_loaded(d: Delivery) -> dict[str, dict]:
    """As a `spp profile` run checks them: each batch handed over as its extract is loaded
    (submit_suite), the outcomes collected by the contract-check step (run_suites)."""
    area = geo.resolve_force_area(d.folder)
    submitted = [submit_suite(d.con, e, TODAY, area) for e in EXTRACTS]
    # Handed over exactly when there is a process to take them.
    assert submitted == [gx_process.is_running()] * len(EXTRACTS)
    return {e: asdict(o) for e, o in run_suites(d.con, EXTRACTS, TODAY, area).items()}


CHECKED = pytest.mark.parametrize(
    "checked", [_outcomes, _outcomes_together, _outcomes_submitted_as_loaded]
)


@pytest.fixture(scope="module")
def here(loaded: Delivery) -> dict[str, dict]:
    """The outcomes checked one suite at a time in this process, with no validation process:
    what every way of checking must give (computed once: the delivery does not change)."""
    assert not gx_process.is_running()
    return _outcomes(loaded)


@CHECKED
def test_the_validation_process_gives_the_same_outcomes(
    loaded: Delivery,
    here: dict[str, dict],
    no_process_left,
    checked: Callable[[Delivery], dict[str, dict]],
) -> None:
    assert here["crimes"]["outcomes"] and any(
        not o["success"] for o in here["crimes"]["outcomes"]
    ), "the planted row should fail an expectation"
    assert checked(loaded) == here  # no process: every suite checked in this one
    gx_process.start(EXTRACTS)
    process = gx_process._process
    assert process is not None
    elsewhere = checked(loaded)
    assert elsewhere == here
    # Every extract checked there once, it has ended and let go of its memory.
    assert not gx_process.is_running()
    assert process.process.poll() is not None


@CHECKED
def test_a_failed_validation_process_falls_back_to_this_one(
    loaded: Delivery,
    here: dict[str, dict],
    no_process_left,
    checked: Callable[[Delivery], dict[str, dict]],
) -> None:
    gx_process.start(EXTRACTS)
    process = gx_process._process
    assert process is not None
    process.process.kill()
    process.process.wait()
    assert checked(loaded) == here
    assert not gx_process.is_running()
