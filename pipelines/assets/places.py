"""Places asset: the district (and community safety partnership) of every located
stalking-universe crime and of every hotspot cell -> marts.crime_districts,
marts.cell_districts. Wiring only: the logic is pipelines.places."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.assets.spatial import HOTSPOTS, STALKING_CRIMES
from pipelines.partitions import quarterly_partitions
from pipelines.resources import ProfileRun
from pipelines.warehouse_tables import replace_table

CRIME_DISTRICTS = dg.AssetKey(["marts", "crime_districts"])
CELL_DISTRICTS = dg.AssetKey(["marts", "cell_districts"])

CELL_SNAP_DEGREES = 0.01


@dg.multi_asset(
    outs={
        "crime_districts": dg.AssetOut(
            key=CRIME_DISTRICTS,
            description="District (and community safety partnership where a lookup is "
            "configured) of every located stalking-universe crime, from boundary polygons "
            "read at run time (null outside every district).",
            kinds={"duckdb", "python"},
        ),
        "cell_districts": dg.AssetOut(
            key=CELL_DISTRICTS,
            description="District of each hotspot grid cell's centre.",
            kinds={"duckdb", "python"},
        ),
    },
    deps=[STALKING_CRIMES, HOTSPOTS],
    group_name="spatial",
    partitions_def=quarterly_partitions,
    can_subset=False,
)
def crime_places(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, profile_run: ProfileRun
):
    import pandas as pd  # imported in the step: not at start-up

    from pipelines.places import (
        assign_districts,
        load_csp_lookup,
        load_districts,
        resolve_districts_file,
    )

    settings = profile_run.settings().places
    extracts = Path(profile_run.extracts_dir) if profile_run.extracts_dir else None
    path = resolve_districts_file(extracts, settings.districts_geojson)
    districts = load_districts(path, settings.district_property)
    csp = load_csp_lookup(settings.csp_lookup_csv)
    with duckdb.get_connection() as con:
        crimes = con.execute(
            "select crime_id, longitude, latitude from marts.stalking_crimes "
            "where latitude is not null and longitude is not null"
        ).df()
        cells = con.execute("select distinct cell_id, longitude, latitude from marts.hotspots").df()
    frames = {}
    for name, points in (("marts.crime_districts", crimes), ("marts.cell_districts", cells)):
        is_cell = name == "marts.cell_districts"
        # a cell centre may fall just outside the area its crimes are in: up to ~1 km snaps
        snap = CELL_SNAP_DEGREES if is_cell else 0.0
        named = assign_districts(points["longitude"], points["latitude"], districts, snap)
        key = "cell_id" if is_cell else "crime_id"
        frames[name] = pd.DataFrame(
            {
                key: points[key].astype(str),
                "district": pd.Series(named, dtype="object"),
                "csp": pd.Series([csp.get(d) if d else None for d in named], dtype="object"),
            }
        )
    with duckdb.get_connection() as con:
        for name, frame in frames.items():
            replace_table(con, name, frame)
    placed = int(frames["marts.crime_districts"]["district"].notna().sum())
    yield dg.MaterializeResult(
        asset_key=CRIME_DISTRICTS,
        metadata={
            "districts": len(districts),
            "located_crimes": len(crimes),
            "crimes_in_a_district": placed,
            "csp_lookup": bool(csp),
        },
    )
    yield dg.MaterializeResult(asset_key=CELL_DISTRICTS, metadata={"cells": len(cells)})
