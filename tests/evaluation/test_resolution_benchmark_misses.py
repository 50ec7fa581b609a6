"""The benchmark diagnosis stages each missed pair by what lost it (blocking, score,
clustering), per record pair and per two keys of one person, and classes each field."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.evaluation.resolution_benchmark_misses import (
    BELOW_THRESHOLD,
    LOST_IN_CLUSTERING,
    NEVER_COMPARED,
    attach_scores,
    field_classes,
    fragment_pairs,
    true_pairs,
)

MENTIONS = pd.DataFrame(
    {
        "mention_id": ["0", "1", "2", "3", "4"],
        "forename": ["Ann", "Ann", None, "Lee", "Bob"],
        "surname": ["Lee", "Lea", "Lee", "Ann", "Ray"],
        "date_of_birth": [
            dt.date(1985, 6, 8),
            dt.date(1975, 6, 20),
            dt.date(1985, 6, 8),
            dt.date(1985, 8, 6),
            dt.date(1990, 1, 1),
        ],
    }
)
# records 0-3 are one person in three keys; record 4 another person
TRUTH = pd.Series(["T1", "T1", "T1", "T1", "T2"])
KEYS = pd.Series(["k1", "k1", "k2", "k3", "k4"])
EVERYONE = pd.Series(True, index=TRUTH.index)
# nodes are the records; scored pairs in either order, record 3 never compared
NODES = pd.Series([10, 11, 12, 13, 14])
SCORED = pd.DataFrame(
    {
        "unique_id_l": [10, 12, 12],
        "unique_id_r": [11, 10, 11],
        "match_probability": [0.9, 0.7, 0.2],
    }
)


def _pairs() -> pd.DataFrame:
    return attach_scores(true_pairs(MENTIONS, TRUTH, KEYS, EVERYONE), NODES, SCORED)


def test_missed_pairs_are_staged_by_what_lost_them() -> None:
    pairs = _pairs()
    # T1's four records make six pairs, one found (0, 1 in k1); T2 alone makes none
    assert len(pairs) == 6 and pairs["same_key"].sum() == 1
    missed = pairs[~pairs["same_key"]]
    fragments = fragment_pairs(missed, threshold=0.5).set_index(["k1", "k2"])
    # k1-k2: record 2 scored 0.7 with record 0 yet left apart (clustering)
    assert fragments.loc[("k1", "k2"), "stage"] == LOST_IN_CLUSTERING
    assert fragments.loc[("k1", "k2"), "record_pairs"] == 2
    # record 3 was compared with nothing
    assert fragments.loc[("k1", "k3"), "stage"] == NEVER_COMPARED
    assert fragments.loc[("k2", "k3"), "stage"] == NEVER_COMPARED
    by_records = missed.set_index(["a", "b"])["match_probability"]
    assert by_records[(1, 2)] == 0.2  # found in the other order, below the threshold
    # a fragment pair is staged by its best record pair: alone, (1, 2) is below
    alone = missed[(missed["a"] == 1) & (missed["b"] == 2)]
    assert fragment_pairs(alone, threshold=0.5)["stage"].item() == BELOW_THRESHOLD


def test_fields_are_classed_per_pair() -> None:
    pairs = _pairs()
    classes = field_classes(MENTIONS, pairs).assign(a=pairs["a"], b=pairs["b"])
    row = classes.set_index(["a", "b"])
    assert row.loc[(0, 1), "forename"] == "equal"
    assert row.loc[(0, 1), "surname"] == "typo"
    assert row.loc[(0, 1), "date_of_birth"] == "year mistyped, near day and month"
    assert row.loc[(0, 1), "dob_year_gap"] == 10
    assert row.loc[(0, 2), "forename"] == "one missing"
    assert row.loc[(0, 3), "forename"] == "swapped with the other name"
    assert row.loc[(0, 3), "date_of_birth"] == "day and month swapped"
    assert row.loc[(0, 2), "date_of_birth"] == "equal"
