"""The density surface depends on the points, not on the order they arrive in: the warehouse
returns a quarter's points in no fixed order, and the same delivery must give the same table."""

from __future__ import annotations

import numpy as np

from pipelines.hotspots.kde import kde_at


def test_the_surface_is_the_same_bit_for_bit_whatever_the_points_order() -> None:
    rng = np.random.default_rng(1)
    points = rng.normal(0, 3000, (20_000, 2)).round(0)  # rounded: some points repeat
    grid = np.arange(-9000, 9000, 250.0)
    centres = np.stack(np.meshgrid(grid, grid), -1).reshape(-1, 2)
    weights = rng.uniform(0.5, 2.0, len(points))
    shuffled = rng.permutation(len(points))
    for w in (None, weights):
        first = kde_at(points, centres, 500.0, 1e-4, weights=w)
        again = kde_at(
            points[shuffled], centres, 500.0, 1e-4, weights=None if w is None else w[shuffled]
        )
        assert np.array_equal(first, again)
        assert first.max() > 0
