"""A demo force generated on the stand-in geography says so in the published profile."""

from __future__ import annotations

import json
from pathlib import Path

import shapely

from pipelines.places.outlines import boundary_caveats
from pipelines.synthetic.geography import STAND_IN_CAVEAT, boundary_geojson


def _write(tmp_path: Path, stand_in: bool) -> Path:
    path = tmp_path / "force_area.geojson"
    path.write_text(boundary_geojson([shapely.box(-1.2, 54.0, -1.0, 54.1)], stand_in=stand_in))
    return path


def test_stand_in_geography_is_a_caveat_in_the_profile(tmp_path: Path) -> None:
    assert boundary_caveats(_write(tmp_path, stand_in=True)) == [STAND_IN_CAVEAT]


def test_real_geography_and_real_force_areas_add_no_caveat(tmp_path: Path) -> None:
    assert boundary_caveats(_write(tmp_path, stand_in=False)) == []
    plain = tmp_path / "plain.geojson"
    plain.write_text(
        json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]})
    )
    assert boundary_caveats(plain) == []
    assert boundary_caveats(None) == []


def test_a_surname_in_the_caveat_does_not_block_the_profile_but_a_full_name_does(
    fixture_db_copy: Path, tmp_path: Path
) -> None:
    """The stand-in caveat says "North Yorkshire": a force with a person surnamed North must
    still publish (seen on the demo force without ../shared/data), and "Jane North" must not."""
    import duckdb

    from pipelines.disclosure import load_sensitive_values, scan_text
    from pipelines.disclosure.guard import guard_vocabulary
    from pipelines.publish import publish_profile
    from pipelines.report.profile import plotly_library

    boundary = _write(tmp_path, stand_in=True)
    with duckdb.connect(str(fixture_db_copy)) as con:
        con.execute(
            "update raw.crime_persons set forename = 'Jane', surname = 'North' where rowid = 0"
        )
        assert "north" in load_sensitive_values(con).lookup()[0]
        result = publish_profile(con, "2025-Q4", tmp_path / "2025-Q4", boundary=boundary)
        html = result.path.read_text()
        assert "North Yorkshire" in html
        sensitive = load_sensitive_values(con)
        # Without the caveat's words the same profile would be refused: the test can fail.
        assert not scan_text(
            html, sensitive, allowed_words=guard_vocabulary(con), library=plotly_library()
        ).ok
        allowed = guard_vocabulary(con, boundary=boundary)
        # The embedded plotly.js is a pinned library, not report text (as the publish guard).
        assert scan_text(html, sensitive, allowed_words=allowed, library=plotly_library()).ok
        planted = html.replace("North Yorkshire", "Jane North Yorkshire", 1)
        planted_report = scan_text(
            planted, sensitive, allowed_words=allowed, library=plotly_library()
        )
        assert planted_report.hits.get("name", 0) >= 1
