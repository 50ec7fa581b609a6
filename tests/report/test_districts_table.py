"""The profile's district table, and the note that takes its place when no located crime lies
inside a district (no boundaries, or boundaries of another area: an independently generated
force, whose towns are not in the shipped districts, printed a table of nothing but "Outside
the districts" under "Every located crime is placed in its district")."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.analytics.force_fixture import run_dbt
from tests.report.conftest import QUARTER

CAPTION = "Stalking crimes and victims by district"
NOTE = "No located stalking crime lies inside a district boundary"


def test_a_force_with_districts_prints_the_district_table(rendered) -> None:
    html = rendered.path.read_text(encoding="utf-8")
    assert CAPTION in html
    assert NOTE not in html


def test_no_crime_inside_a_district_prints_the_note_not_the_table(
    fixture_db_copy: Path, tmp_path: Path
) -> None:
    from pipelines.publish import publish_profile

    with duckdb.connect(str(fixture_db_copy)) as con:
        placed = con.execute(
            "select count(*) from marts.crime_districts where district is not null"
        ).fetchone()[0]
        assert placed > 0  # the fixture's crimes do lie in districts: the change below matters
        con.execute("update marts.crime_districts set district = null, csp = null")
    models = ["rpt_places_by_district", "rpt_profile_districts", "rpt_profile_section_values"]
    result = run_dbt(fixture_db_copy, QUARTER, ["run", "--select", *models])
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(fixture_db_copy), read_only=True) as con:
        html = publish_profile(con, QUARTER, tmp_path / QUARTER).path.read_text(encoding="utf-8")
    assert NOTE in html
    assert CAPTION not in html
    assert "Outside the districts" not in html


def test_no_publishable_cell_says_the_rule_it_is_held_to(
    fixture_db_copy: Path, tmp_path: Path
) -> None:
    """A cell is published with 5 or more different victims, not 5 or more crimes: the empty
    busiest-cells table said "No cell had 5 or more crimes" (an independent force's profile)."""
    from pipelines.publish import publish_profile
    from pipelines.settings import load_settings

    k = load_settings().disclosure.min_count
    with duckdb.connect(str(fixture_db_copy)) as con:
        con.execute(
            "update reporting.rpt_hotspot_cells set victims = least(victims, ?), "
            "crimes = greatest(crimes, ?) where quarter = ?",
            [k - 1, k, QUARTER],
        )
        html = publish_profile(con, QUARTER, tmp_path / QUARTER).path.read_text(encoding="utf-8")
    assert f"No cell had {k} or more different victims this quarter." in " ".join(html.split())
