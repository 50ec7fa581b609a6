"""Equal-area British National Grid cells (EPSG:27700) and their neighbour weights.

Cells are squares of `cell_size_m` metres aligned to the BNG origin, so a cell id is stable
across quarters, runs and forces: `{size}m_E{easting}_N{northing}` of the cell's south-west
corner.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

# Re-exported for the hotspot modules; the publish stage imports pipelines.bng itself (light).
from pipelines.bng import bng_to_lonlat, lonlat_to_bng  # noqa: F401
from pipelines.hotspots.gistar import GiWeights


def cell_index(x: np.ndarray, y: np.ndarray, cell_size_m: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer column/row of the cell holding each BNG point."""
    return (
        np.floor(np.asarray(x) / cell_size_m).astype(np.int64),
        np.floor(np.asarray(y) / cell_size_m).astype(np.int64),
    )


def cell_ids(col: np.ndarray, row: np.ndarray, cell_size_m: int) -> np.ndarray:
    e = (np.asarray(col) * cell_size_m).astype(str)
    n = (np.asarray(row) * cell_size_m).astype(str)
    return np.char.add(np.char.add(np.char.add(f"{cell_size_m}m_E", e), "_N"), n)


def study_cells(col: np.ndarray, row: np.ndarray, buffer_cells: int) -> pd.DataFrame:
    """The cells analysed: every cell holding a point plus `buffer_cells` rings around it.

    Why not the whole bounding box: at force scale most of a rectangular grid is moor, sea or
    another force, and thousands of structurally empty cells both swamp the false-discovery
    correction and make every occupied cell look "hot". Cells near recorded crime are the area
    at risk; with a force boundary available the caller can pass those cells instead.
    """
    occupied = pd.DataFrame({"col": col, "row": row}).drop_duplicates()
    offsets = np.arange(-buffer_cells, buffer_cells + 1)
    dc, dr = np.meshgrid(offsets, offsets)
    cols = (occupied["col"].to_numpy()[:, None] + dc.ravel()[None, :]).ravel()
    rows = (occupied["row"].to_numpy()[:, None] + dr.ravel()[None, :]).ravel()
    cells = pd.DataFrame({"col": cols, "row": rows}).drop_duplicates()
    return cells.sort_values(["row", "col"], ignore_index=True)


def grid_weights(cells: pd.DataFrame, neighbour_rings: int = 1) -> GiWeights:
    """Binary contiguity weights: each cell's neighbours are the cells within `neighbour_rings`
    rings (1 = queen contiguity, the 3x3 block). Gi* adds the cell itself (star).

    Vectorised: cells are looked up by a sorted integer key once per offset, instead
    of a Python dict walk per cell; built once per grid and reused for every quarter."""
    col = cells["col"].to_numpy(np.int64)
    row = cells["row"].to_numpy(np.int64)
    n = len(col)
    if n == 0:
        return GiWeights(sparse.csr_matrix((0, 0)))
    # Integer key per cell with a margin of `neighbour_rings` on every side, so that an
    # offset never wraps onto the next row.
    span = int(col.max() - col.min()) + 2 * neighbour_rings + 1
    c0, r0 = col.min() - neighbour_rings, row.min() - neighbour_rings
    key = (row - r0) * span + (col - c0)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    sources, targets = [], []
    for dc in range(-neighbour_rings, neighbour_rings + 1):
        for dr in range(-neighbour_rings, neighbour_rings + 1):
            if (dc, dr) == (0, 0):
                continue
            wanted = key + dr * span + dc
            at = np.minimum(np.searchsorted(sorted_key, wanted), n - 1)
            found = sorted_key[at] == wanted
            sources.append(np.flatnonzero(found))
            targets.append(order[at[found]])
    i, j = np.concatenate(sources), np.concatenate(targets)
    adjacency = sparse.csr_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    return GiWeights(adjacency)


def cell_centres_wgs84(
    cells: pd.DataFrame, cell_size_m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(latitude, longitude, easting, northing) of each cell centre."""
    x = (cells["col"].to_numpy() + 0.5) * cell_size_m
    y = (cells["row"].to_numpy() + 0.5) * cell_size_m
    lon, lat = bng_to_lonlat(x, y)
    return lat, lon, x, y
