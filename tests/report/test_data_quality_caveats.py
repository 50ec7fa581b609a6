"""The caveats under the scope and data-quality table (reporting.rpt_data_quality_caveats) on the
tiny run: the profile prints them in order, they follow rpt_data_scope and rpt_data_quality, and
a delivery that does not reconcile or has unjoinable references says so. The models are rebuilt
by dbt on a copy whose load log is changed."""

from __future__ import annotations

import html
import json
from pathlib import Path

import duckdb

from pipelines.disclosure.suppression import percent_text
from tests.analytics.force_fixture import run_dbt
from tests.report.conftest import QUARTER

CAVEATS_SQL = (
    "select caveat from reporting.rpt_data_quality_caveats "
    "where quarter = ? or quarter is null order by caveat_order"
)


def test_profile_prints_the_caveats_in_order(tiny_profile) -> None:
    with duckdb.connect(str(tiny_profile.warehouse), read_only=True) as con:
        caveats = [row[0] for row in con.execute(CAVEATS_SQL, [tiny_profile.quarter]).fetchall()]
        (share,) = con.execute(
            "select share_without_location from reporting.rpt_data_scope where quarter = ?",
            [tiny_profile.quarter],
        ).fetchone()
        reconciles = con.execute(
            "select bool_and(reconciles) from reporting.rpt_data_quality"
        ).fetchone()[0]
    profile = html.unescape((tiny_profile.quarter_dir / "profile.html").read_text())
    at = [profile.find(f"<p>{caveat}</p>") for caveat in caveats]
    assert caveats and -1 not in at and at == sorted(at)  # each a paragraph, in the model's order
    if share is not None:
        assert caveats[0].startswith(f"{percent_text(share)} of this quarter's stalking crimes")
    assert ("(the counts reconcile)" in " ".join(caveats)) == bool(reconciles)


def test_unreconciled_delivery_and_unlinked_references_are_said(fixture_db_copy: Path) -> None:
    detail = {"crime_id->crimes.crime_id": 1234, "zero->crimes.crime_id": 0, "odd->x.y": 1.5}
    with duckdb.connect(str(fixture_db_copy)) as con:
        con.execute(
            "update raw.load_log set rows_read = rows_read + 1, unlinked_detail = ? "
            "where extract = 'orders'",
            [json.dumps(detail)],
        )
        con.execute("update raw.load_log set unlinked_detail = '{}' where extract <> 'orders'")
    select = ["build", "--select", "rpt_data_quality rpt_data_quality_caveats"]
    result = run_dbt(fixture_db_copy, QUARTER, select)
    assert result.returncode == 0, result.stdout[-2000:]
    with duckdb.connect(str(fixture_db_copy), read_only=True) as con:
        delivery = con.execute(
            "select caveat from reporting.rpt_data_quality_caveats where quarter is null "
            "order by caveat_order"
        ).fetchall()
    assert [row[0] for row in delivery] == [
        "Warning: the loaded and quarantined counts do not add up to the rows read.",
        "1,234 references in orders crime_id point to crimes not in the crimes extract; those "
        "records are kept but cannot be joined to a crime.",
    ]
