"""Section 9's orders tables split orders by the domestic-abuse flag of their crime: an order
with no crime the warehouse holds (none recorded, as for many civil non-molestation orders and
injunctions, or one the crimes extract lacks) is in its own group, "No crime linked". Counting it
not domestic abuse put 301 of the demo force's 430 non-molestation orders granted on that side."""

from __future__ import annotations

from html import unescape
from pathlib import Path

import duckdb
import pytest

from tests.report.conftest import QUARTER
from tests.report.html_tables import parse

GRANTS_BY_GROUP = """
    select
        case
            when crimes.crime_id is null then 'no_crime'
            when crimes.is_domestic_abuse then 'domestic_abuse'
            else 'not_domestic_abuse'
        end as da_group,
        count(*) as orders
    from intermediate.int_orders_resolved as orders
    left join intermediate.int_crimes_classified as crimes on orders.crime_id = crimes.crime_id
    where year(orders.granted_date) || '-Q' || quarter(orders.granted_date) between ? and ?
    group by all
"""


@pytest.fixture(scope="module")
def con(fixture_db: Path):
    with duckdb.connect(str(fixture_db), read_only=True) as connection:
        yield connection


def test_each_cohort_group_holds_exactly_its_orders(con: duckdb.DuckDBPyConnection) -> None:
    cohorts = con.execute(
        "select followup_months, any_value(cohort_first_quarter), any_value(cohort_last_quarter), "
        "map(list(da_group), list(orders_granted)) from reporting.rpt_orders_effectiveness "
        "where quarter = ? and order_type = 'ALL' group by followup_months",
        [QUARTER],
    ).fetchall()
    assert len(cohorts) == 3
    without_crime = 0
    for months, first, last, published in cohorts:
        counted = dict(con.execute(GRANTS_BY_GROUP, [first, last]).fetchall())
        expected = {group: counted.get(group, 0) for group in published if group != "all"}
        assert {g: n for g, n in published.items() if g != "all"} == expected, months
        assert published["all"] == sum(counted.values()), months
        without_crime += expected["no_crime"]
    assert without_crime > 0  # the fixture has orders without a crime: the test can fail


def _table(html: str, caption_start: str) -> list[list[str]]:
    tables = parse(html).tables
    return next(
        rows for caption, rows in tables.items() if caption.strip().startswith(caption_start)
    )


def test_the_profile_prints_orders_without_a_crime_apart_and_says_why(rendered) -> None:
    html = rendered.path.read_text(encoding="utf-8")
    effectiveness = _table(html, "Orders granted and breached")
    assert {row[1] for row in effectiveness[1:]} == {
        "All",
        "Domestic abuse",
        "Not domestic abuse",
        "No crime linked",
    }
    assert _table(html, "Action after a breach")[0][1:] == [
        "Domestic abuse",
        "Not domestic abuse",
        "No crime linked",
        "All",
    ]
    text = " ".join(unescape(html).split())
    assert "counted as not domestic abuse" not in text
    assert 'shown apart as "No crime linked", on neither side' in text
