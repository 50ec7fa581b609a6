"""Training: how the model is estimated must not change what it is."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd
import pytest

from pipelines.resolution import ResolutionConfig, resolve_mentions
from pipelines.resolution import model as resolution_model


def _without_run_id(model: dict[str, Any]) -> dict[str, Any]:
    # Splink names each linker at random; nothing reads the name
    return {key: value for key, value in model.items() if key != "linker_uid"}


def test_u_estimated_in_lanes_is_the_model_of_one_linker(
    small_rows: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    lanes_started: list[int] = []

    class CountingPool(ThreadPoolExecutor):
        def __init__(self, max_workers: int) -> None:
            lanes_started.append(max_workers)
            super().__init__(max_workers=max_workers)

    monkeypatch.setattr(resolution_model, "ThreadPoolExecutor", CountingPool)
    one = resolve_mentions(small_rows.copy(), ResolutionConfig(u_estimation_lanes=1))
    assert lanes_started == []
    three = resolve_mentions(small_rows.copy(), ResolutionConfig(u_estimation_lanes=3))
    assert lanes_started == [3]

    # every parameter to the last bit (u, then the m that EM and lambda built on it)
    assert _without_run_id(three.model) == _without_run_id(one.model)
    comparisons = one.model["comparisons"]
    assert len(comparisons) > 3  # each lane had more than one comparison
    assert any("u_probability" in level for c in comparisons for level in c["comparison_levels"])
    pd.testing.assert_frame_equal(three.clusters, one.clusters)


def test_u_estimation_lanes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="u_estimation_lanes"):
        ResolutionConfig(u_estimation_lanes=0)
