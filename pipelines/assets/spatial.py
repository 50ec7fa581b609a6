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

from pipelines import fork_server
from pipelines.partitions import quarterly_partitions
from pipelines.resources import ProfileRun
from pipelines.warehouse_tables import replace_table

STALKING_CRIMES = dg.AssetKey(["marts", "stalking_crimes"])
HOTSPOTS = dg.AssetKey(["marts", "hotspots"])
HOTSPOT_DENSITY = dg.AssetKey(["marts", "hotspot_density"])
HOTSPOT_METHOD_BACKTEST = dg.AssetKey(["marts", "hotspot_method_backtest"])
# What the step computes, by name (pipelines/hotspots/step.py); the CLI's fork server imports it.
HOTSPOT_TABLES = "pipelines.hotspots.step:hotspot_tables"
# The package of the publish steps (profile_report, tasking_pack), which run later in this process.
PUBLISH_PACKAGE = ("pipelines.publish",)


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
    # Computed in a worker of the fork server, which `spp profile` started with the hotspot
    # package imported (esda, libpysal: ~1-2 s of CPU) on the other core while ingest and dbt
    # ran: this step no longer imports it. The same function, inputs and results as in this
    # process (without the CLI the worker imports the package itself).
    tables = fork_server.call(
        HOTSPOT_TABLES,
        points,
        victimisations,
        profile_run.settings().hotspots,
        quarter,
        # While the worker computes (~1 s at the force preset, on one core), this process
        # imports the publish package the last two steps need (plotly, openpyxl, Jinja: ~0.4 s
        # of CPU they paid themselves). Not in the forecast step: its fits use both cores.
        import_meanwhile=PUBLISH_PACKAGE,
        # The panel (~13 M rows nationally, ~1.5 GB of arrays) comes back through a file
        # this process maps, not pickled through the pipe.
        large_result=True,
    )
    cells, density, methods = tables["cells"], tables["density"], tables["methods"]
    published = tables["density_quarters"]
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
        "cell_size_m": tables["cell_size_m"],
        "seconds": round(time.perf_counter() - started, 2),
    }
    yield dg.MaterializeResult(asset_key=HOTSPOTS, metadata=metadata)
    yield dg.MaterializeResult(
        asset_key=HOTSPOT_METHOD_BACKTEST, metadata={"methods": len(methods)}
    )
    yield dg.MaterializeResult(asset_key=HOTSPOT_DENSITY, metadata={"rows": len(density)})
