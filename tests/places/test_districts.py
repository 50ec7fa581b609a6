"""Districts from polygons: dissolve by name, place points (borders, outside, missing), and
on the real tiny run every located stalking crime lands in a district of the generated file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import shapely

from pipelines.places import (
    assign_districts,
    district_labels,
    load_csp_lookup,
    load_districts,
    resolve_districts_file,
)


def _write(path: Path, features: list[tuple[str | None, shapely.Geometry]]) -> Path:
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"LAD_name": name} if name else {},
                        "geometry": json.loads(shapely.to_geojson(geom)),
                    }
                    for name, geom in features
                ],
            }
        )
    )
    return path


def test_dissolves_and_places_points(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "d.geojson",
        [
            ("West", shapely.box(0, 0, 1, 1)),
            ("West", shapely.box(0, 1, 1, 2)),  # a second LSOA of the same district
            ("East", shapely.box(1, 0, 2, 2)),
            (None, shapely.box(5, 5, 6, 6)),  # no name: skipped
        ],
    )
    districts = load_districts(path, "LAD_name")
    assert [d.name for d in districts] == ["East", "West"]
    assert districts[1].geometry.area == 2.0
    lon = np.array([0.5, 0.5, 1.5, 1.0, 9.0, np.nan, 2.005])
    lat = np.array([0.5, 1.5, 0.5, 0.5, 9.0, np.nan, 1.0])
    names = assign_districts(lon, lat, districts)
    # on the shared border (1.0, 0.5) the first by name wins; outside and missing are None
    assert list(names) == ["West", "West", "East", "East", None, None, None]
    snapped = assign_districts(lon, lat, districts, snap_degrees=0.01)
    assert snapped[-1] == "East" and snapped[4] is None
    labels = district_labels(districts)
    assert all(
        d.geometry.contains(shapely.Point(x, y))
        for d, (_, x, y) in zip(districts, labels, strict=True)
    )


def test_missing_or_bad_files_give_no_districts(tmp_path: Path) -> None:
    assert load_districts(None, "LAD_name") == []
    assert load_districts(tmp_path / "absent.geojson", "LAD_name") == []
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    assert load_districts(bad, "LAD_name") == []
    assert list(assign_districts(np.array([0.5]), np.array([0.5]), [])) == [None]
    assert load_csp_lookup("") == {}
    lookup = tmp_path / "csp.csv"
    lookup.write_text("district,csp\nWest,West CSP\nEast,\n")
    assert load_csp_lookup(str(lookup)) == {"West": "West CSP"}
    extracts = tmp_path / "extracts"
    extracts.mkdir()
    assert resolve_districts_file(extracts, str(bad)) == bad
    _write(extracts / "districts.geojson", [("A", shapely.box(0, 0, 1, 1))])
    assert resolve_districts_file(extracts, str(bad)) == extracts / "districts.geojson"


def test_generated_force_places_every_located_crime(tiny_force: Path, tiny_profile) -> None:
    districts = load_districts(tiny_force / "districts.geojson", "LAD_name")
    assert districts  # the tiny preset is one local authority
    with duckdb.connect(str(tiny_profile.warehouse), read_only=True) as con:
        located, placed = con.execute(
            "select count(*), count(d.district) from marts.stalking_crimes c "
            "left join marts.crime_districts d using (crime_id) where c.latitude is not null"
        ).fetchone()
        by_district, universe = con.execute(
            "select (select sum(crimes) from reporting.rpt_places_by_district), "
            "(select count(*) from marts.stalking_crimes)"
        ).fetchone()
    assert located > 0 and placed == located
    assert by_district == universe


def test_generator_records_current_partner_stalking(tiny_force: Path) -> None:
    """The relationship "partner" occurs on stalking courses (it was never generated for
    them, so the profile's Partner row was always 0)."""
    import pandas as pd

    courses = pd.read_csv(tiny_force / "truth" / "courses.csv")
    stalking = courses[courses["is_stalking"].astype(str).str.lower().isin(["true", "1"])]
    assert (stalking["relationship"] == "partner").any()


def test_a_file_loaded_again_gives_the_same_districts_and_a_changed_file_is_read_again(
    tmp_path: Path,
) -> None:
    """The districts are loaded once per version of the file (the places step and the
    profile's map both read it): the same districts again, a list of the caller's own, and
    the new districts once the file changes."""
    path = _write(tmp_path / "d.geojson", [("Aston", shapely.box(0, 50, 1, 51))])
    first = load_districts(path, "LAD_name")
    first.clear()  # the caller's own list
    again = load_districts(path, "LAD_name")
    assert [d.name for d in again] == ["Aston"]
    _write(path, [("Barford", shapely.box(0, 50, 1, 51)), ("Colby", shapely.box(1, 50, 2, 51))])
    assert [d.name for d in load_districts(path, "LAD_name")] == ["Barford", "Colby"]
    assert [d.name for d in load_districts(path, "other_property")] == []
