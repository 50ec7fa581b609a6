"""The hotspot step's computation in one call, so that it can run in a worker of the fork server
(pipelines/fork_server.py), which imported this package (esda, libpysal: ~1-2 s of CPU) on the
other core while the run was busy with ingest and dbt; the Dagster step only reads the warehouse
and writes the tables (pipelines/assets/spatial.py)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipelines import fork_server
from pipelines.hotspots.core import HotspotParams, hotspot_outputs, published_quarters
from pipelines.hotspots.victims import distinct_victims_by_cell, with_victims
from pipelines.settings import HotspotSettings


def hotspot_tables(
    points: pd.DataFrame,
    victimisations: pd.DataFrame,
    settings: HotspotSettings,
    quarter: str,
) -> dict[str, Any]:
    """Every quarter up to `quarter` on one grid (points: quarter, latitude, longitude), the
    density surfaces of the quarters the profile publishes, the method back-test, and each
    cell's distinct victims (victimisations: quarter, latitude, longitude, victim_key).
    A dict of frames and plain values: the caller unpickles it without importing this
    package. `cells`, `density`, `methods`: marts.hotspots, .hotspot_density,
    .hotspot_method_backtest."""
    params = HotspotParams.from_settings(settings)
    published = published_quarters(quarter)
    # One more process for the permutation table, forked from this one (a worker of the fork
    # server, itself without threads): the step is single-threaded, so the other core is idle.
    with fork_server.pool(1, ["pipelines.hotspots.gistar"]) as executor:
        out = hotspot_outputs(points, params, density_quarters=published, executor=executor)
    cells = with_victims(out.hotspots, distinct_victims_by_cell(victimisations, params.cell_size_m))
    return {
        "cells": _as_codes(cells, ("cell_id", "gi_class")),
        "density": _as_codes(out.density, ("cell_id",)),
        "methods": out.method_backtest.assign(quarter=quarter),
        "density_quarters": published,
        "cell_size_m": params.cell_size_m,
    }


def _as_codes(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """`frame` with `columns` (strings, one Python object per row) as categoricals: the frames
    go back to the step through a pipe, and pickling a column of ~13 M distinct string objects
    (the national grid's cell ids in every quarter) costs ~4 s each way where its codes cost
    a fraction of a second. The same values: the tables cast them back to their declared
    types when written."""
    out = frame.copy(deep=False)  # the other columns are not copied
    for column in columns:
        out[column] = frame[column].astype("category")
    return out
