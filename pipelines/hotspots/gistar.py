"""Getis-Ord Gi* with conditional-randomisation inference and a false-discovery-rate cut.

Two levels of cost (issue 9):
- `gi_star(..., inference=False)`: the analytic Gi* z (the same formula as esda.G_Local's
  `Zs`, computed with one sparse product) and the exact randomisation p of each cell's Gi*
  window with the Benjamini-Hochberg cut. Milliseconds per quarter; used for history quarters,
  which only feed the emerging-hotspot change classes (a trend in z, hot or not).
- `gi_star(..., inference=True)`: adds PySAL's Monte-Carlo conditional-permutation p
  (`esda.G_Local`, `permutations` draws) as a confirmation of each FDR-passing cell. Seconds
  per quarter at `large` scale; used for the quarters the profile publishes.
"""

from __future__ import annotations

import functools
import warnings

import esda.crand
import numpy as np
import pandas as pd
from esda import fdr
from esda.getisord import G_Local, _g_local_crand, _g_local_star_crand
from libpysal.weights import W
from scipy import sparse


def _reused_permutations(draw):
    """esda draws the same permutation table (permutations x max neighbours, from the same
    seed and cell count) on every G_Local call, in pure Python when numba is absent: ~0.7 s per
    quarter at force scale. Reusing it gives identical results (issue 9). Read-only, so nothing
    can alter the shared table."""

    @functools.lru_cache(maxsize=8)
    def cached(max_card: int, n: int, k_replications: int, seed: int) -> np.ndarray:
        table = draw(max_card, n, k_replications, seed)
        table.setflags(write=False)
        return table

    def permutations(max_card, n, k_replications, seed):
        return cached(int(max_card), int(n), int(k_replications), int(seed))

    permutations.__wrapped__ = draw
    return permutations


if not hasattr(esda.crand.vec_permutations, "__wrapped__"):
    esda.crand.vec_permutations = _reused_permutations(esda.crand.vec_permutations)


class GiWeights:
    """A grid's Gi* weights prepared once and reused for every quarter.

    `window` is the binary (n x n) CSR matrix of each cell's Gi* window (its neighbours plus
    itself, the "star"); `star_w` the same as a libpysal W with the self-weight already on
    the diagonal and transform "B", so esda neither copies it (fill_diagonal) nor re-weights it
    on each call: those two steps cost ~4 s per quarter on 80,000 cells.
    """

    def __init__(self, neighbours: sparse.csr_matrix):
        n = neighbours.shape[0]
        self.n = n
        self.window = (neighbours + sparse.identity(n, format="csr", dtype=float)).tocsr()
        self.window.data[:] = 1.0
        self.cardinality = np.diff(self.window.indptr).astype(np.int64)  # includes self
        self._star_w: W | None = None

    @property
    def star_w(self) -> W:
        if self._star_w is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # libpysal warns about disconnected islands
                w = W.from_sparse(self.window)
                w.transform = "B"
            self._star_w = w
        # esda's conditional randomisation zeroes the diagonal of `w.sparse` in place (it
        # is W's cached matrix), which would turn the next quarter's Gi* into Gi: hand it a
        # fresh copy of the star matrix on every use.
        fresh = self.window.copy()
        self._star_w._sparse = fresh
        self._star_w._cache["sparse"] = fresh
        return self._star_w


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
    counts: np.ndarray, weights: GiWeights, permutations: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(gi_z, p_sim) from esda.G_Local with conditional permutations. p_sim is one-sided in
    the direction of z, with ties counted on both sides: counts are mostly zero, and esda's
    folded p counts ties on one side only, which would call every empty neighbourhood "cold".
    """
    y = np.asarray(counts, float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # G_Local without permutations gives the observed G* and the weights as it transforms
        # them; the randomisation is then esda's own `crand`, called exactly as G_Local calls it.
        # Why not G_Local(permutations=...): with keep_simulations it also derives the mean and
        # standard deviation of the simulations, a full-size temporary (5 GB at national scale,
        # the run's peak), and without it returns only its folded p (see above).
        g = G_Local(y, weights.star_w, transform="B", star=None, permutations=0)
        _, sims = esda.crand.crand(
            y,
            g.w,
            g.Gs,
            permutations,
            True,  # keep the simulations: the one-sided p below needs them
            1,  # n_jobs
            _g_local_star_crand if g.star else _g_local_crand,
            scaling=y.sum(),
            seed=seed,
            island_weight=0,
        )
    z = np.nan_to_num(np.asarray(g.Zs, float))
    sims = np.asarray(sims)  # (cells, permutations) of simulated G*
    observed = np.asarray(g.Gs)[:, None]
    p_sim = np.where(
        z > 0,
        ((sims >= observed).sum(axis=1) + 1) / (permutations + 1),
        ((sims <= observed).sum(axis=1) + 1) / (permutations + 1),
    )
    return z, p_sim


def gi_star(
    counts: np.ndarray,
    weights: GiWeights | W,
    permutations: int = 999,
    fdr_alpha: float = 0.05,
    seed: int = 0,
    inference: bool = True,
) -> pd.DataFrame:
    """Gi* per cell: z-score, p-values, FDR decision and hot/cold/ns class.

    - `gi_z`: the Getis-Ord Gi* z (binary weights, star), for ranking/maps.
    - `p_norm` (kept under that column name for the mart): the exact two-sided
      randomisation p of the Gi* window (`randomisation_tail_p`); Benjamini-Hochberg at
      `fdr_alpha` (`esda.fdr`) over all cells gives `p_cut`.
    - `p_sim` (only with `inference` and `permutations` > 0, else NaN): PySAL's Monte-Carlo
      conditional-permutation pseudo p (`permutation_p`).
    A cell is significant when p_norm <= p_cut and, where p_sim was computed, the Monte-Carlo
    check agrees (p_sim <= fdr_alpha).
    """
    gw = as_gi_weights(weights)
    y = np.asarray(counts, float)
    n = len(y)
    if n < 3 or y.sum() == 0 or np.all(y == y[0]):
        return pd.DataFrame(
            {
                "gi_z": np.zeros(n),
                "p_norm": np.ones(n),
                "p_sim": np.ones(n) if inference and permutations else np.full(n, np.nan),
                "p_cut": np.nan,
                "gi_class": "ns",
            }
        )
    upper, lower = randomisation_tail_p(y, gw)
    p_exact = np.minimum(1.0, 2 * np.minimum(upper, lower))
    cut = float(fdr(p_exact, fdr_alpha))
    significant = p_exact <= cut
    if inference and permutations:
        z, p_sim = permutation_p(y, gw, permutations, seed)
        significant &= p_sim <= fdr_alpha
    else:
        z, p_sim = gi_star_z(y, gw), np.full(n, np.nan)
    hot = significant & (upper < lower) & (z > 0)
    cold = significant & (lower < upper) & (z < 0)
    gi_class = np.where(hot, "hot", np.where(cold, "cold", "ns"))
    return pd.DataFrame(
        {"gi_z": z, "p_norm": p_exact, "p_sim": p_sim, "p_cut": cut, "gi_class": gi_class}
    )
