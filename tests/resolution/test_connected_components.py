"""Connected components of resolution (`component_representatives`, NumPy/SciPy) give every node
the cluster id Splink's own connected components gives it: the smallest id of its component."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from splink import DuckDBAPI
from splink.clustering import cluster_pairwise_predictions_at_threshold

from pipelines.resolution.clustering import component_representatives


def _splink_clusters(nodes: np.ndarray, left: np.ndarray, right: np.ndarray) -> dict[int, int]:
    con = duckdb.connect()
    con.register("nodes_view", pd.DataFrame({"unique_id": nodes}))
    con.register("edges_view", pd.DataFrame({"unique_id_l": left, "unique_id_r": right}))
    con.execute("create table nodes as select * from nodes_view")
    con.execute("create table edges as select * from edges_view")
    clusters = cluster_pairwise_predictions_at_threshold(
        con.table("nodes"),
        con.table("edges"),
        db_api=DuckDBAPI(con),
        node_id_column_name="unique_id",
    ).as_pandas_dataframe()
    con.close()
    return dict(zip(clusters["unique_id"].tolist(), clusters["cluster_id"].tolist(), strict=True))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_same_clusters_as_splinks_connected_components(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # ids as resolution's nodes have them: large signed 64-bit numbers in no order, chains
    # and stars of edges, self-loops, duplicate edges in both directions, and lone nodes
    nodes = rng.choice(np.arange(-(2**62), 2**62, 2**40, dtype=np.int64), 3000, replace=False)
    picks = rng.integers(0, 2000, size=(2500, 2))
    left, right = nodes[picks[:, 0]], nodes[picks[:, 1]]
    left = np.concatenate([left, right[:50], nodes[:20]])
    right = np.concatenate([right, left[:50], nodes[:20]])

    ids, cluster_ids = component_representatives(nodes, left, right)

    ours = dict(zip(ids.tolist(), cluster_ids.tolist(), strict=True))
    assert ours == _splink_clusters(nodes, left, right)
    assert len(ours) == len(nodes)
    # the lone nodes (never in an edge) are their own clusters, and some component is large
    lone = set(nodes[2000:].tolist()) - set(left.tolist()) - set(right.tolist())
    assert lone and all(ours[n] == n for n in lone)
    assert max(np.unique(cluster_ids, return_counts=True)[1]) > 100


def test_no_nodes_and_no_edges() -> None:
    ids, cluster_ids = component_representatives(
        np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    )
    assert len(ids) == 0 and len(cluster_ids) == 0
    ids, cluster_ids = component_representatives(
        np.array([5, 3], dtype=np.int64), np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    )
    assert ids.tolist() == [3, 5] and cluster_ids.tolist() == [3, 5]


def test_an_edge_to_a_node_not_in_the_nodes_stops() -> None:
    with pytest.raises(ValueError, match="not in nodes"):
        component_representatives(
            np.array([1, 2, 3], dtype=np.int64),
            np.array([1], dtype=np.int64),
            np.array([4], dtype=np.int64),
        )
    with pytest.raises(ValueError, match="not in nodes"):
        component_representatives(
            np.array([1, 3], dtype=np.int64),
            np.array([2], dtype=np.int64),
            np.array([3], dtype=np.int64),
        )
