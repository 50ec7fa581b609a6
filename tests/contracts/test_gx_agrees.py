"""The two executors of one contract agree: what the SQL quarantine loads passes the Great
Expectations suites, and a row slipped past the quarantine is caught by GX under the same rule."""

from __future__ import annotations

import pytest

from pipelines.contracts import geo, gx_checks
from pipelines.contracts.gx_checks import run_suite
from tests.contracts.delivery import TODAY, Delivery
from tests.contracts.test_catalogue import QUARANTINE

EXTRACTS = ("crimes", "crime_persons", "intelligence", "orders", "breaches")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Delivery:
    """One delivery with many catalogue defects at once (those that do not touch one row twice)."""
    d = Delivery(tmp_path_factory.mktemp("gx") / "in")
    d.rows["crimes"] += [dict(r, crime_id=f"X{n}") for n, r in enumerate(d.rows["crimes"] * 3)]
    expected: set = set()
    for case in ("unknown_offence_code", "dob_in_future", "breach_before_grant", "sex_not_allowed",
                 "lon_without_lat", "order_type_not_allowed", "duplicate_key"):  # fmt: skip
        expected |= QUARANTINE[case](d)
    d.load()
    assert d.quarantine() == expected
    return d


def _failures(d: Delivery) -> dict[str, set[str]]:
    area = geo.resolve_force_area(d.folder)
    return {
        e: {o.rule for o in run_suite(d.con, e, TODAY, area).critical_failures} for e in EXTRACTS
    }


def test_loaded_tables_pass_every_critical_expectation(loaded: Delivery) -> None:
    assert _failures(loaded) == {e: set() for e in EXTRACTS}


def test_the_warm_up_registers_the_suites_the_checks_then_use(loaded: Delivery) -> None:
    """GX imported and the suites registered in the background (while a run's extracts load):
    the checks afterwards find them registered and give the same outcomes."""
    gx_checks.start_warm_up(EXTRACTS)
    gx_checks._wait_for_warm_up()
    registered = gx_checks._validation_for.cache_info().currsize
    assert registered >= len(EXTRACTS)
    assert _failures(loaded) == {e: set() for e in EXTRACTS}
    assert gx_checks._validation_for.cache_info().currsize == registered


def test_rows_slipped_past_the_quarantine_fail_under_the_same_rule(loaded: Delivery) -> None:
    con = loaded.con
    con.execute("create table raw._copy as select * from raw.crimes")  # keep a pristine copy
    con.execute(
        "insert into raw.crimes by name select * replace ('999/99' as offence_code) "
        "from raw._copy where crime_id = 'C1'"  # duplicate key + unknown code
    )
    con.execute(
        "insert into raw.crimes by name select * replace ('X-new' as crime_id, "
        "51.5 as latitude, -0.1 as longitude, 'dwelling' as location_type, "
        "offence_start - interval 2 day as offence_end) from raw._copy where crime_id = 'C2'"
    )
    con.execute(
        "insert into raw.crime_persons by name select * replace ('C404' as crime_id, "
        "date '2030-01-01' as date_of_birth, 'witness' as role) from raw.crime_persons limit 1"
    )
    con.execute(
        "insert into raw.breaches by name select * replace ('B-new' as breach_id, "
        "date '2020-01-01' as breach_date) from raw.breaches limit 1"
    )
    con.execute(
        "insert into raw.intelligence by name select * "
        "replace ('I-new' as intel_id, 54.0 as latitude) "
        "from raw.intelligence where latitude is null limit 1"
    )
    assert _failures(loaded) == {
        "crimes": {"duplicate_key", "unknown_code", "outside_force_area", "end_before_start"},
        "crime_persons": {"missing_reference", "dob_in_future", "not_allowed_value"},
        "intelligence": {"lat_without_lon"},
        "orders": set(),
        "breaches": {"breach_before_grant"},
    }


def test_large_tables_are_checked_on_a_reproducible_sample(loaded: Delivery) -> None:
    area = geo.resolve_force_area(loaded.folder)
    total = loaded.con.execute("select count(*) from raw.crimes").fetchone()[0]
    cap = total // 2
    assert cap >= 1
    full = run_suite(loaded.con, "crimes", TODAY, area)
    first = run_suite(loaded.con, "crimes", TODAY, area, max_rows=cap)
    again = run_suite(loaded.con, "crimes", TODAY, area, max_rows=cap)
    assert full.rows == full.rows_in_table == total
    assert first.rows_in_table == total
    assert first.rows == cap
    assert [o.unexpected_count for o in first.outcomes] == [
        o.unexpected_count for o in again.outcomes
    ]
