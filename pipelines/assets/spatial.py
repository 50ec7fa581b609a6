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
from pipelines.warehouse_tables import replace_table

STALKING_CRIMES = dg.AssetKey(["marts", "stalking_crimes"])
HOTSPOTS = dg.AssetKey(["marts", "hotspots"])
HOTSPOT_DENSITY = dg.AssetKey(["marts", "hotspot_density"])
HOTSPOT_METHOD_BACKTEST = dg.AssetKey(["marts", "hotspot_method_backtest"])


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
    )
    from pipelines.hotspots.victims import distinct_victims_by_cell, with_victims

    params = HotspotParams.from_settings(profile_run.settings().hotspots)
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
        replace_table(con, "marts.hotspots", cells)
        replace_table(con, "marts.hotspot_density", density)
        replace_table(con, "marts.hotspot_method_backtest", methods)
    this = cells[cells["quarter"] == quarter]
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
        "is_hotspot_cells": int(this["is_hotspot"].sum()),
        "cell_size_m": params.cell_size_m,
        "seconds": round(time.perf_counter() - started, 2),
    }
    yield dg.MaterializeResult(asset_key=HOTSPOTS, metadata=metadata)
    yield dg.MaterializeResult(
        asset_key=HOTSPOT_METHOD_BACKTEST, metadata={"methods": len(methods)}
    )
    yield dg.MaterializeResult(asset_key=HOTSPOT_DENSITY, metadata={"rows": len(density)})
