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
    # Matched on the keys' codes: the panel has every study cell in every quarter (~13 M rows
    # at national scale, nearly all without a victim), and a match on its two string keys
    # costs seconds where one on integers costs a fraction of one.
    quarter = cells["quarter"].astype("category").cat
    cell = cells["cell_id"].astype("category").cat
    width = np.int64(len(cell.categories))

    def key(quarter_codes: np.ndarray, cell_codes: np.ndarray) -> np.ndarray:
        return quarter_codes.astype(np.int64) * width + cell_codes.astype(np.int64)

    victim_quarter = quarter.categories.get_indexer(victims["quarter"].astype(object))
    victim_cell = cell.categories.get_indexer(victims["cell_id"].astype(object))
    known = (victim_quarter >= 0) & (victim_cell >= 0)
    counts_by_key = pd.Series(
        victims["victims"].to_numpy(np.int64)[known],
        index=key(victim_quarter[known], victim_cell[known]),
    )
    found = counts_by_key.reindex(key(quarter.codes.to_numpy(), cell.codes.to_numpy()))
    # Not `assign`: it copies the whole panel (~5 s of CPU at national scale); the result
    # shares the input's other columns, and adding one to it leaves the input as it was.
    out = cells.copy(deep=False)
    out["victims"] = found.fillna(0).to_numpy(np.int64)
    return out
