"""Getis-Ord Gi* with conditional-randomisation inference and a false-discovery-rate cut.

Each quarter: the analytic Gi* z (the same formula as esda.G_Local's `Zs`, one sparse
product), the exact randomisation p of each cell's Gi* window with the Benjamini-Hochberg cut,
and - with `inference` - PySAL's Monte-Carlo conditional-permutation p (esda's permutation table
and Gi* statistic, `permutations` draws) as a confirmation of each cell that passed the FDR cut.
The confirmation can only remove cells, so it runs for those cells alone (a few hundred a
quarter even at national scale): the cost of the whole step is then linear in the grid, where
esda's per-cell draw over all cells is quadratic.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future

import esda.crand
import numpy as np
from esda import fdr
from libpysal.weights import W
from scipy import sparse

# Tables drawn or being drawn (a Future), by their arguments: every quarter of a grid shares one.
_TABLES: dict[tuple[int, int, int, int], np.ndarray | Future] = {}


def draw_permutation_table(max_neighbours: int, n: int, permutations: int, seed: int) -> np.ndarray:
    """esda's permutation table exactly as `esda.crand.crand` draws it (permutations x largest
    neighbour count, positions into the other n - 1 cells): each draw shuffles all n cells, so
    it costs ~8 s of CPU on the national grid (~650,000 cells, 999 draws) without numba."""
    return esda.crand.vec_permutations(max_neighbours, n, permutations, seed)


def prefetch_permutation_table(
    executor: Executor, max_neighbours: int, n: int, permutations: int, seed: int
) -> None:
    """Start drawing the table in `executor` (another process): it depends only on its
    arguments, so it can be drawn on the other core while the caller computes what does not
    need it (the density surfaces); `permutation_p` waits for it when it needs it."""
    key = (max_neighbours, n, permutations, seed)
    if key not in _TABLES:
        _remember(key, executor.submit(draw_permutation_table, *key))


def _permutation_table(max_neighbours: int, n: int, permutations: int, seed: int) -> np.ndarray:
    """The table for these arguments: drawn once (here, or by `prefetch_permutation_table`) and
    shared by every quarter of the grid. Read-only, so no caller can alter the shared table."""
    key = (max_neighbours, n, permutations, seed)
    table = _TABLES.get(key)
    if isinstance(table, Future):
        try:
            table = table.result()
        except Exception:  # the drawing process died (e.g. killed): draw the same table here
            table = None
    if table is None:
        table = draw_permutation_table(*key)
    table.setflags(write=False)
    _remember(key, table)
    return table


def _remember(key: tuple[int, int, int, int], table: np.ndarray | Future) -> None:
    if key not in _TABLES and len(_TABLES) >= 4:
        _TABLES.pop(next(iter(_TABLES)))  # the oldest grid's
    _TABLES[key] = table


class GiWeights:
    """A grid's Gi* weights prepared once and reused for every quarter.

    `window` is the binary (n x n) CSR matrix of each cell's Gi* window (its neighbours plus
    itself, the "star": esda's transform "B" with self-weight 1); `cardinality` each window's
    size, self included.
    """

    def __init__(self, neighbours: sparse.csr_matrix):
        n = neighbours.shape[0]
        self.n = n
        self.window = (neighbours + sparse.identity(n, format="csr", dtype=float)).tocsr()
        self.window.data[:] = 1.0
        self.cardinality = np.diff(self.window.indptr).astype(np.int64)  # includes self


def as_gi_weights(weights: GiWeights | W) -> GiWeights:
    if isinstance(weights, GiWeights):
        return weights
    adjacency = weights.sparse.tocsr().astype(float)
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    return GiWeights(adjacency)


def gi_star_z(counts: np.ndarray, weights: GiWeights) -> np.ndarray:
    """Analytic Gi* z under randomisation (Getis & Ord 1992), binary weights with self-weight 1:
    identical to esda.G_Local(y, w, transform="B", star=True).Zs (checked in the tests)."""
    y = np.asarray(counts, float)
    n = len(y)
    total = y.sum()
    mean = total / n
    variance = (y**2).sum() / n - mean**2
    if total == 0 or variance <= 0:
        return np.zeros(n)
    card = weights.cardinality.astype(float)
    statistic = (weights.window @ y) / total
    expected = card / n
    expected_var = card * (n - card) / (n - 1) / n**2 * variance / mean**2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (statistic - expected) / np.sqrt(expected_var)
    return np.nan_to_num(z)


def randomisation_tail_p(
    counts: np.ndarray, weights: GiWeights | W
) -> tuple[np.ndarray, np.ndarray]:
    """Exact upper and lower tail p-values of each cell's Gi* window sum (the cell plus its k
    neighbours) under randomisation: the k+1 counts drawn at random from all cells' counts, as
    the Gi* z's own moments assume. Computed by convolving the count distribution k+1 times.

    Why not PySAL's Monte-Carlo p alone: with P permutations it cannot go below 1/(P+1), while
    Benjamini-Hochberg over ~10,000 cells needs p <= k*q/n; an FDR on Monte-Carlo p switches
    off entirely in any quarter with fewer than n/(q*(P+1)) hot cells (seen on Northumbria
    2020-Q3 at P = 999). And the normal p of the Gi* z is far too small for sparse, skewed
    counts (on spatially random points it flagged false hotspots in 8 of 10 simulations).
    Why the window, not PySAL's conditional randomisation (own count fixed): that tests only
    the neighbours, so the busiest cell of a tight cluster can come out "not significant".
    Draws are with replacement (n is in the thousands, so this matches permutation closely).
    """
    gw = as_gi_weights(weights)
    y = np.rint(np.asarray(counts, float)).astype(np.int64)
    pmf = np.bincount(y) / len(y)
    window_sum = np.rint(gw.window @ y.astype(float)).astype(np.int64)
    k = gw.cardinality
    upper = np.ones(len(y))
    lower = np.ones(len(y))
    dist = np.array([1.0])
    for card in range(1, int(k.max(initial=1)) + 1):
        dist = np.convolve(dist, pmf)
        cells = np.flatnonzero(k == card)
        if len(cells) == 0:
            continue
        sf = np.cumsum(dist[::-1])[::-1]  # P(S >= s)
        cdf = np.cumsum(dist)  # P(S <= s)
        s = window_sum[cells]
        upper[cells] = np.where(s < len(sf), sf[np.minimum(s, len(sf) - 1)], 0.0)
        lower[cells] = np.where(s < len(cdf), cdf[np.minimum(s, len(cdf) - 1)], 1.0)
    return np.clip(upper, 0, 1), np.clip(lower, 0, 1)


def permutation_p(
    counts: np.ndarray,
    weights: GiWeights,
    permutations: int,
    seed: int,
    cells: np.ndarray | None = None,
    z: np.ndarray | None = None,
) -> np.ndarray:
    """PySAL's conditional-permutation pseudo p of Gi* for `cells` (positions; None = all),
    NaN for the others. One-sided in the direction of the cell's Gi* z, with ties counted on
    both sides: counts are mostly zero, and esda's folded p counts ties on one side only,
    which would call every empty neighbourhood "cold".

    The simulation is esda's own: its permutation table (`vec_permutations`, drawn for all n
    cells with the same seed and the largest neighbour count, as `esda.crand.crand` draws it)
    and its Gi* statistic under conditional randomisation (`_g_local_star_crand`). For each
    cell requested, the simulated values are exactly those `G_Local(..., permutations=P,
    seed=seed)` computes for that cell (checked in the tests). Why not G_Local for all cells:
    each cell's draw copies all n counts, so the whole grid costs O(n^2) - 18 minutes of the
    national run for 640,390 cells x 3 quarters - while the decision needs only the few
    hundred cells that pass the exact-randomisation FDR cut.
    """
    y = np.asarray(counts, float)
    n = len(y)
    p_sim = np.full(n, np.nan)
    chosen = np.arange(n) if cells is None else np.asarray(cells, np.int64)
    total = y.sum()
    if len(chosen) == 0 or total == 0:
        return p_sim
    window = weights.window  # binary, self-weight 1 on the diagonal (transform "B", star)
    z = gi_star_z(y, weights) if z is None else z  # the direction each p is taken in
    # crand's table: (permutations x largest neighbour count, self excluded) positions into
    # the other n - 1 cells.
    permuted_ids = _permutation_table(int(weights.cardinality.max()) - 1, n, permutations, seed)
    for i in chosen:
        start, stop = window.indptr[i], window.indptr[i + 1]
        others = np.count_nonzero(window.indices[start:stop] != i)
        # weights_i as crand lays it out: the self-weight first, then the neighbours' weights;
        # a cell without neighbours gets crand's one "fake" neighbour of weight 0.
        weights_i = np.ones(others + 1) if others else np.array([1.0, 0.0])
        simulated = _simulated_g_star(i, y, permuted_ids, weights_i, total)
        observed = window.data[start:stop] @ y[window.indices[start:stop]] / total
        if z[i] > 0:
            p_sim[i] = (np.count_nonzero(simulated >= observed) + 1) / (permutations + 1)
        else:
            p_sim[i] = (np.count_nonzero(simulated <= observed) + 1) / (permutations + 1)
    return p_sim


def _simulated_g_star(
    i: int, y: np.ndarray, permuted_ids: np.ndarray, weights_i: np.ndarray, total: float
) -> np.ndarray:
    """esda's `_g_local_star_crand(i, y, permuted_ids, weights_i, total)`, value for value:
    its `_prepare_univariate` draws the neighbours' counts from the counts without cell i
    (`z_no_i[ids]`), which it builds by copying all n counts for every cell; position `j` of
    that copy is count `j + (j >= i)`, looked up here without the copy (~1.5 ms a cell on the
    national grid, for every cell that passed the FDR cut in every quarter). The arithmetic is
    esda's own, on the same arrays."""
    self_weight = weights_i[0]
    other_weights = weights_i[1:]
    ids = permuted_ids[:, : len(other_weights)]
    simulated = y[ids + (ids >= i)]
    return (simulated @ other_weights + self_weight * y[i]) / total


# Gi* classes (gi_star's gi_class codes index this list), in the order of a categorical's
# sorted categories.
GI_CLASSES = ["cold", "hot", "ns"]
_COLD, _HOT, _NS = (np.int8(GI_CLASSES.index(c)) for c in ("cold", "hot", "ns"))


def gi_star(
    counts: np.ndarray,
    weights: GiWeights | W,
    permutations: int = 999,
    fdr_alpha: float = 0.05,
    seed: int = 0,
    inference: bool = True,
) -> dict[str, np.ndarray]:
    """Gi* per cell: z-score, p-values, FDR decision and hot/cold/ns class, as arrays (one
    entry per cell; `p_cut` one value for all).

    - `gi_z`: the Getis-Ord Gi* z (binary weights, star), for ranking/maps.
    - `p_norm` (kept under that column name for the mart): the exact two-sided
      randomisation p of the Gi* window (`randomisation_tail_p`); Benjamini-Hochberg at
      `fdr_alpha` (`esda.fdr`) over all cells gives `p_cut`.
    - `p_sim` (only with `inference` and `permutations` > 0, else NaN): PySAL's Monte-Carlo
      conditional-permutation pseudo p (`permutation_p`).
    - `gi_class`: codes into GI_CLASSES (int8): the national panel stacks ~640,000 cells x 20
      quarters, where a string per cell cost seconds to build and to match again.
    A cell is significant when p_norm <= p_cut and, where p_sim was computed, the Monte-Carlo
    check agrees (p_sim <= fdr_alpha).
    """
    gw = as_gi_weights(weights)
    y = np.asarray(counts, float)
    n = len(y)
    if n < 3 or y.sum() == 0 or np.all(y == y[0]):
        return {
            "gi_z": np.zeros(n),
            "p_norm": np.ones(n),
            "p_sim": np.ones(n) if inference and permutations else np.full(n, np.nan),
            "p_cut": np.full(n, np.nan),
            "gi_class": np.full(n, _NS),
        }
    upper, lower = randomisation_tail_p(y, gw)
    p_exact = np.minimum(1.0, 2 * np.minimum(upper, lower))
    cut = float(fdr(p_exact, fdr_alpha))
    significant = p_exact <= cut
    z = gi_star_z(y, gw)
    if inference and permutations:
        # The Monte-Carlo check can only remove cells from the FDR set, so it is run for
        # those cells alone: the same decision as running it everywhere, at a fraction of
        # the cost (p_sim stays null where it could not change the class).
        p_sim = permutation_p(y, gw, permutations, seed, cells=np.flatnonzero(significant), z=z)
        significant &= p_sim <= fdr_alpha
    else:
        p_sim = np.full(n, np.nan)
    hot = significant & (upper < lower) & (z > 0)
    cold = significant & (lower < upper) & (z < 0)
    return {
        "gi_z": z,
        "p_norm": p_exact,
        "p_sim": p_sim,
        "p_cut": np.full(n, cut),
        "gi_class": np.where(hot, _HOT, np.where(cold, _COLD, _NS)).astype(np.int8),
    }
