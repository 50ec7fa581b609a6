"""A demo force generated on the stand-in geography says so in the published profile."""

from __future__ import annotations

import json
from pathlib import Path

import shapely

from pipelines.report.profile import boundary_caveats
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
