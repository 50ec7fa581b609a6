"""The domestic-abuse and online splits' protective orders: split by the flag of the order's
crime, so an order with no linked crime (none recorded, mostly a civil non-molestation order or
an injunction, or one not in the crimes extract) is on neither side, and the profile says so:
on the demo force the two sides held 101 of the quarter's 138 orders granted with nothing to
say why they fell short of section 9."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.report.conftest import QUARTER
from tests.report.html_tables import number, parse, table_rows

NEITHER_SIDE = "orders with no linked crime"


@pytest.fixture(scope="module")
def html(rendered) -> str:
    return rendered.path.read_text(encoding="utf-8")


def _granted(con: duckdb.DuckDBPyConnection, linked_only: bool) -> int:
    linked = "and crime_id in (select crime_id from intermediate.int_crimes_classified)"
    return con.execute(
        "select count(*) from intermediate.int_orders_resolved where granted_date is not null "
        "and year(granted_date) || '-Q' || quarter(granted_date) = ? "
        + (linked if linked_only else ""),
        [QUARTER],
    ).fetchone()[0]


def test_the_split_orders_are_those_with_a_crime_and_the_profile_says_so(
    html: str, fixture_db: Path
) -> None:
    with duckdb.connect(str(fixture_db), read_only=True) as con:
        linked, granted = _granted(con, linked_only=True), _granted(con, linked_only=False)
    for caption in ("Domestic abuse split", "Online split"):
        row = table_rows(parse(html), caption)["Protective orders granted"]
        flagged, not_flagged = number(row[1]), number(row[3])  # this quarter, each side
        if flagged is not None and not_flagged is not None:
            assert flagged + not_flagged == linked, (caption, row, linked, granted)
    assert NEITHER_SIDE in " ".join(html.split())
