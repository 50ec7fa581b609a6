"""Property: for any mixture of good and bad rows, every row read is loaded or quarantined
(the counts reconcile), every bad row is quarantined with its rule and no good row is."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contracts.delivery import Delivery

# Defects of a crimes row (column changes, the rule expected). None = a good row.
DEFECTS: list[tuple[dict[str, str], str] | None] = [
    None,
    ({"reported_date": "2024-02-30"}, "unparseable_date"),
    ({"offence_start": "soon"}, "unparseable_date"),
    ({"latitude": "5x.1"}, "unparseable_number"),
    ({"offence_code": ""}, "null_required"),
    ({"is_online": " "}, "null_required"),
    ({"offence_code": "000/00"}, "unknown_code"),
    ({"outcome_code": "0"}, "unknown_code"),
    ({"longitude": ""}, "lat_without_lon"),
    ({"latitude": "50.1", "longitude": "-4.0"}, "outside_force_area"),
    ({"offence_end": "2023-01-01 00:00:00"}, "end_before_start"),
    ({"risk_level": "extreme"}, "not_allowed_value"),
    ({"is_domestic_abuse": "yes please"}, "not_allowed_value"),
]
# Harmless variations a good row may carry (never a reason to quarantine).
NOISE: list[dict[str, str]] = [
    {},
    {"is_online": "N"},
    {"is_domestic_abuse": "1"},
    {"risk_level": " MEDIUM "},
    {"offence_description": 'with "quotes", commas\nand a newline'},
    {"latitude": "", "longitude": ""},
    {"offence_start": "", "offence_end": ""},
]

PAIRS = {"latitude": "longitude", "longitude": "latitude", "offence_start": "offence_end",
         "offence_end": "offence_start"}  # fmt: skip


def _touched(change: dict[str, str]) -> set[str]:
    """The columns a change touches, with their rule partners (lat/lon, start/end)."""
    return set(change) | {PAIRS[c] for c in change if c in PAIRS}


row_plan = st.tuples(
    st.sampled_from(range(len(DEFECTS))),
    st.sampled_from(range(len(NOISE))),
    st.booleans(),  # re-use an earlier crime id (a duplicate key)
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# at least one crime: a header-only crimes file is a structural stop (test_catalogue)
@given(st.lists(row_plan, min_size=1, max_size=30))
def test_reconciliation_holds_and_no_good_row_is_quarantined(plan: list) -> None:
    with tempfile.TemporaryDirectory() as folder:
        d = Delivery(Path(folder))
        base = d.rows["crimes"][0]
        crimes, expected, first_seen = [], set(), set()
        for n, (defect_index, noise_index, reuse) in enumerate(plan, start=1):
            crime_id = f"K{n}"
            if reuse and first_seen:
                crime_id = sorted(first_seen)[n % len(first_seen)]
            defect = DEFECTS[defect_index]
            noise = NOISE[noise_index]
            if defect and _touched(noise) & _touched(defect[0]):
                noise = {}  # the noise would mask or undo the defect
            row = {**base, "crime_id": crime_id, **noise}
            if defect:
                row.update(defect[0])
            if crime_id in first_seen:
                # A later row with a used key is a duplicate, whatever else it breaks, unless a
                # rule earlier in the suite order catches it first.
                expected.add((n, defect[1] if defect else "duplicate_key"))
            elif defect:
                expected.add((n, defect[1]))
            first_seen.add(crime_id)
            crimes.append(row)
        d.rows["crimes"] = crimes
        # Children reference crimes that are not in this delivery: keep them out of the way.
        d.rows["crime_persons"] = []
        d.rows["orders"] = [{**o, "crime_id": ""} for o in d.rows["orders"]]
        con = duckdb.connect()
        # (one row: a header-only crime_persons beside crimes is a structural stop)
        d.raw["crime_persons"] = b"crime_id,person_id,role\nK1,P1,victim\n"
        # crimes alone: the property is about crimes, first in the load order
        results = d.load(con, only="crimes")
        crimes_result = results["crimes"]
        assert crimes_result.read == len(plan)
        assert crimes_result.read == crimes_result.loaded + crimes_result.quarantined
        got = {(row, rule) for extract, row, rule in d.quarantine() if extract == "crimes"}
        assert got == expected
