"""How sure resolution is: the weakest link inside each person and the best link between
two different people (the inputs of the serial judgment's confidence columns)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.evaluation.resolution_sources import held_out_part
from pipelines.resolution import ResolutionConfig
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
    # it is the weakest joining edge of the evidence (nominal-id edges count 1.0)
    evidence_min = result.evidence.groupby("person_key")["match_probability"].min()
    per_person = clusters.groupby("person_key")["cluster_min_probability"].first()
    assert np.allclose(per_person.loc[evidence_min.index], evidence_min)
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
