"""Hotspot assets: marts.stalking_crimes -> marts.hotspots, marts.hotspot_density, GIS layer.

Wiring only: the logic is pipelines.hotspots (grid, Gi*, KDE, change classes). Every quarter
up to the run's is recomputed on one grid, so the report can compare quarters and the change
classes see the history. Every quarter gets the same decision (exact-randomisation FDR
confirmed by PySAL's permutations, `p_sim`, for the cells that passed it); only the quarters the
profile publishes (the run's quarter, the one before and the one a year earlier) get a KDE
surface.
"""

import time

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.partitions import quarterly_partitions
from pipelines.resources import ProfileRun
from pipelines.settings import load_settings

STALKING_CRIMES = dg.AssetKey(["marts", "stalking_crimes"])
HOTSPOTS = dg.AssetKey(["marts", "hotspots"])
HOTSPOT_DENSITY = dg.AssetKey(["marts", "hotspot_density"])
HOTSPOT_METHOD_BACKTEST = dg.AssetKey(["marts", "hotspot_method_backtest"])

HOTSPOTS_SQL = """
create or replace table marts.hotspots as
select
    quarter::varchar as quarter,
    cell_id::varchar as cell_id,
    latitude::double as latitude,
    longitude::double as longitude,
    easting::double as easting,
    northing::double as northing,
    cell_size_m::integer as cell_size_m,
    crimes::bigint as crimes,
    victims::bigint as victims,
    gi_z::double as gi_z,
    p_norm::double as p_norm,
    p_sim::double as p_sim,
    p_fdr_cut::double as p_fdr_cut,
    gi_class::varchar as gi_class,
    is_significant::boolean as is_significant,
    is_hotspot::boolean as is_hotspot,
    prediction_method::varchar as prediction_method,
    prediction_score::double as prediction_score,
    change_class::varchar as change_class
from _hot_cells
order by quarter, cell_id
"""

METHOD_BACKTEST_SQL = """
create or replace table marts.hotspot_method_backtest as
select
    quarter::varchar as quarter,
    method::varchar as method,
    folds::integer as folds,
    mean_pai::double as mean_pai,
    mean_hit_rate::double as mean_hit_rate,
    area_share::double as area_share,
    is_chosen::boolean as is_chosen,
    naive_pai::double as naive_pai
from _hot_methods
order by method
"""

DENSITY_SQL = """
create or replace table marts.hotspot_density as
select
    quarter::varchar as quarter,
    cell_id::varchar as cell_id,
    latitude::double as latitude,
    longitude::double as longitude,
    density_per_km2::double as density_per_km2,
    bandwidth_m::double as bandwidth_m
from _hot_density
order by quarter, cell_id
"""


@dg.multi_asset(
    outs={
        "hotspots": dg.AssetOut(
            key=HOTSPOTS,
            description="Predicted hot cells (is_hotspot: the method that won the force's own "
            "back-test), Gi* significance (is_significant, hot/cold, p_sim for the cells that "
            "passed the FDR cut) and change classes, for every quarter.",
            kinds={"duckdb", "python"},
        ),
        "hotspot_method_backtest": dg.AssetOut(
            key=HOTSPOT_METHOD_BACKTEST,
            description="Back-test of every hotspot-prediction method on the force's own "
            "quarters at equal area: mean PAI, hit rate, naive PAI, the chosen one.",
            kinds={"duckdb", "python"},
        ),
        "hotspot_density": dg.AssetOut(
            key=HOTSPOT_DENSITY,
            description="Kernel-density surface at the cell centres: the run's quarter, the "
            "previous one and the one a year earlier.",
            kinds={"duckdb", "python"},
        ),
    },
    deps=[STALKING_CRIMES, dg.AssetKey(["intermediate", "int_victimisations"])],
    group_name="spatial",
    partitions_def=quarterly_partitions,
    can_subset=False,
)
def hotspots(context: dg.AssetExecutionContext, duckdb: DuckDBResource, profile_run: ProfileRun):
    quarter = context.partition_key
    # Imported here, not at module level: esda/libpysal are this step's cost, not every
    # process that loads the definitions (CLI, UI, sensors).
    from pipelines.hotspots import (
        HotspotParams,
        hotspot_outputs,
        published_quarters,
        write_geojson,
    )
    from pipelines.hotspots.victims import distinct_victims_by_cell, with_victims

    params = HotspotParams.from_settings()
    started = time.perf_counter()
    with duckdb.get_connection() as con:
        points = con.execute(
            "select quarter, latitude, longitude from marts.stalking_crimes "
            "where latitude is not null and longitude is not null and quarter <= ?",
            [quarter],
        ).df()
        # Distinct victims per cell decide whether a cell's location may be published.
        victimisations = con.execute(
            "select c.quarter, c.latitude, c.longitude, v.person_key as victim_key "
            "from marts.stalking_crimes c left join intermediate.int_victimisations v "
            "on v.crime_id = c.crime_id "
            "where c.latitude is not null and c.longitude is not null and c.quarter <= ?",
            [quarter],
        ).df()
    published = published_quarters(quarter)
    out = hotspot_outputs(points, params, density_quarters=published)
    cells, density, methods = out.hotspots, out.density, out.method_backtest
    methods = methods.assign(quarter=quarter)
    cells = with_victims(cells, distinct_victims_by_cell(victimisations, params.cell_size_m))
    with duckdb.get_connection() as con:
        con.execute("create schema if not exists marts")
        con.register("_hot_cells", cells)
        con.register("_hot_density", density)
        con.register("_hot_methods", methods)
        con.execute(HOTSPOTS_SQL)
        con.execute(DENSITY_SQL)
        con.execute(METHOD_BACKTEST_SQL)
        con.unregister("_hot_cells")
        con.unregister("_hot_density")
        con.unregister("_hot_methods")
    this = cells[cells["quarter"] == quarter]
    min_victims = load_settings().disclosure.min_count
    layer = write_geojson(
        this, profile_run.quarter_dir(quarter) / "gis" / "hotspots.geojson", min_victims
    )
    metadata = {
        "located_crimes": len(points),
        "quarters": int(cells["quarter"].nunique()) if len(cells) else 0,
        "density_quarters": ", ".join(published),
        "cells": int(len(this)),
        "hot_cells": int((this["gi_class"] == "hot").sum()),
        "significant_cells": int(this["is_significant"].sum()) if len(this) else 0,
        "prediction_method": str(methods.loc[methods["is_chosen"], "method"].iloc[0])
        if methods["is_chosen"].any()
        else "",
        "publishable_cells": int((this["victims"] >= min_victims).sum()),
        "is_hotspot_cells": int(this["is_hotspot"].sum()),
        "cell_size_m": params.cell_size_m,
        "seconds": round(time.perf_counter() - started, 2),
        "gis_layer": dg.MetadataValue.path(str(layer)),
    }
    yield dg.MaterializeResult(asset_key=HOTSPOTS, metadata=metadata)
    yield dg.MaterializeResult(
        asset_key=HOTSPOT_METHOD_BACKTEST, metadata={"methods": len(methods)}
    )
    yield dg.MaterializeResult(asset_key=HOTSPOT_DENSITY, metadata={"rows": len(density)})
