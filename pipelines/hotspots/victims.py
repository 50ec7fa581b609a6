"""Distinct victims per grid cell and quarter: the count location disclosure is decided on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.hotspots.core import add_cells, located
from pipelines.hotspots.grid import cell_ids


def distinct_victims_by_cell(victimisations: pd.DataFrame, cell_size_m: int) -> pd.DataFrame:
    """victimisations: quarter, latitude, longitude, victim_key (one row per located crime and
    victim; a crime with no resolved victim has a null key and adds no victim). Returns
    quarter, cell_id, victims."""
    if victimisations.empty:
        return pd.DataFrame(
            {
                "quarter": pd.Series([], dtype=object),
                "cell_id": pd.Series([], dtype=object),
                "victims": pd.Series([], dtype="int64"),
            }
        )
    points = add_cells(located(victimisations), cell_size_m)
    points = points.assign(
        quarter=points["quarter"].astype(str),
        cell_id=cell_ids(points["col"].to_numpy(), points["row"].to_numpy(), cell_size_m),
    )
    counts = points.groupby(["quarter", "cell_id"])["victim_key"].nunique().rename("victims")
    return counts.reset_index()


def with_victims(cells: pd.DataFrame, victims: pd.DataFrame) -> pd.DataFrame:
    """The hotspot cells with their `victims` count (0 where none)."""
    keys = ["quarter", "cell_id"]
    counts = np.zeros(len(cells), np.int64)
    # Only the rows of cells that hold a victim in some quarter are joined: the panel has every
    # study cell in every quarter (~13 M rows at national scale, nearly all without a victim),
    # and a join on its two string keys costs seconds where this filter costs a hash lookup.
    holding = cells["cell_id"].isin(victims["cell_id"]).to_numpy()
    if holding.any():
        # An empty frame's key columns may carry any dtype (no rows to infer it from).
        found = (
            cells.loc[holding, keys]
            .astype(object)
            .merge(victims.astype({k: object for k in keys}), on=keys, how="left")["victims"]
        )
        counts[holding] = found.fillna(0).astype("int64").to_numpy()
    # Not `assign`: it copies the whole panel (~5 s of CPU at national scale); the result
    # shares the input's other columns, and adding one to it leaves the input as it was.
    out = cells.astype({k: object for k in keys}, copy=False)
    out["victims"] = counts
    return out
