"""How sure resolution is: the weakest link inside each person and the best link between
two different people (the inputs of the serial judgment's confidence columns)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from pipelines.evaluation.resolution_sources import held_out_part
from pipelines.resolution import ResolutionConfig
from pipelines.resolution.clustering import spanning_links
from tests.resolution.test_rules import LINK_FLOOR


def test_cluster_min_probability_and_links(resolution) -> None:
    # the rules' resolution (tests/resolution/conftest.py): every rule's case in a background
    # population, links between people kept down to LINK_FLOOR
    config = ResolutionConfig(link_floor=LINK_FLOOR)
    result = resolution
    clusters = result.clusters
    weakest = clusters["cluster_min_probability"]
    assert weakest.between(config.match_probability_threshold, 1.0).all()
    # a person of one record rests on no link
    single = clusters[clusters["cluster_size"] == 1]
    assert (single["cluster_min_probability"] == 1.0).all()
    # it is the weakest link the person rests on (the bottleneck), worked out here apart:
    # adding the person's scored and nominal-id links strongest first, the link that last
    # joins two of its groups of records. A weaker link between records already joined does
    # not lower it.
    per_person = clusters.groupby("person_key")["cluster_min_probability"].first()
    evidence = result.evidence
    scored = evidence[evidence["joined_by"] != "second_id"]
    for person, links in scored.groupby("person_key"):
        expected = _bottleneck(links)
        assert per_person[person] == pytest.approx(expected)
        # the links that hold the person are a spanning forest: one fewer than the records
        # they join per group, and their weakest is the bottleneck
        holding = links[links["holds_person"]]
        assert holding["match_probability"].min() == pytest.approx(expected)
        nodes = set(links["mention_id_l"]) | set(links["mention_id_r"])
        assert len(holding) == len(nodes) - _groups(links, nodes)
    assert evidence.loc[evidence["joined_by"] == "second_id", "holds_person"].all()
    links = result.links
    assert (links["person_key_l"] < links["person_key_r"]).all()
    assert links["match_probability"].ge(config.link_floor).all()
    assert set(links["person_key_l"]) | set(links["person_key_r"]) <= set(clusters["person_key"])
    assert not links.duplicated(["person_key_l", "person_key_r"]).any()
    # the father and son of one name and postcode stay apart: any link between them is weak
    key = clusters.set_index("record_key")["person_key"]
    pair = tuple(sorted((key["T10|N10"], key["T11|N11"])))
    assert pair[0] != pair[1]
    between = links[(links["person_key_l"] == pair[0]) & (links["person_key_r"] == pair[1])]
    assert (between["match_probability"] < config.match_probability_threshold).all()


def test_a_weak_link_between_records_already_joined_is_not_the_weakest_link() -> None:
    # A~B and B~C strong, A~C weak, all kept: the person rests on the strong links; D~E is a
    # second person of one weak link; the edge E~F joins two people and is not theirs
    con = duckdb.connect()
    con.execute(
        """create table edges as select unique_id_l, unique_id_r, p::double as match_probability
        from (values
            ('A', 'B', 0.99), ('B', 'C', 0.97), ('A', 'C', 0.51), ('D', 'E', 0.6),
            ('E', 'F', 0.95)) as t(unique_id_l, unique_id_r, p)"""
    )
    con.execute(
        """create table clusters as select * from (values
            ('A', 'p1'), ('B', 'p1'), ('C', 'p1'), ('D', 'p2'), ('E', 'p2'), ('F', 'p3'))
            as t(unique_id, person_key)"""
    )
    spanning_links(con, "edges", "clusters")
    kept = con.execute(
        "select unique_id_l, unique_id_r, match_probability from _res_spanning_edges order by 1"
    ).fetchall()
    assert kept == [("A", "B", 0.99), ("B", "C", 0.97), ("D", "E", 0.6)]


def test_no_links_unless_asked(small_resolution) -> None:
    # resolved with the default settings (tests/resolution/conftest.py)
    assert small_resolution.links is None


def test_held_out_part_is_a_fixed_share_of_true_people() -> None:
    truth = pd.Series([f"t{i // 3}" for i in range(3000)])
    part = held_out_part("src", truth)
    assert part.equals(held_out_part("src", truth))  # the same split on every run
    # whole people: all records of a true person fall in one part
    assert (part.groupby(truth).nunique() == 1).all()
    share = part.groupby(truth).first().mean()
    assert 0.25 < share < 0.35


def _groups(links: pd.DataFrame, nodes: set[str], floor: float = 0.0) -> int:
    """How many groups the links at or above `floor` join `nodes` into (union-find)."""
    parent = {n: n for n in nodes}

    def root(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b, p in links[["mention_id_l", "mention_id_r", "match_probability"]].itertuples(
        index=False
    ):
        if p >= floor:
            parent[root(a)] = root(b)
    return len({root(n) for n in nodes})


def _bottleneck(links: pd.DataFrame) -> float:
    """The highest probability at which the person's links still join its records into as
    few groups as all its links do."""
    nodes = set(links["mention_id_l"]) | set(links["mention_id_r"])
    fewest = _groups(links, nodes)
    return max(p for p in links["match_probability"].unique() if _groups(links, nodes, p) == fewest)
