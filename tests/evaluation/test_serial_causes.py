"""serial_causes names the victim a wrong serial judgment rests on (hand-made frames)."""

from __future__ import annotations

import pandas as pd

from pipelines.evaluation.serial import (
    SERIAL_FN_LINKED,
    SERIAL_FN_NOT_ESTABLISHED,
    SERIAL_FN_NOT_IN_UNIVERSE,
    SERIAL_FP_SCREENED,
    SERIAL_FP_VICTIM_SPLIT,
    serial_causes,
)

Q = "2025-Q4"


def _pairs(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["crime_id", "suspect_person_key", "victim_person_key"])
    return frame.assign(reported_date=pd.Timestamp("2025-06-01"))


def _victims(rows: list[tuple[str, str, bool, bool, bool]]) -> pd.DataFrame:
    columns = ["person_key", "victim_person_key", "is_recorded", "is_established"]
    columns.append("is_distinct_established")
    return pd.DataFrame(rows, columns=columns).assign(quarter=Q)


def test_false_serials_name_the_screened_victim_and_the_split_victim() -> None:
    key_map = pd.Series({"s1": "P1", "s2": "P2", "a": "A", "b": "B", "c1": "C", "c2": "C"})
    truth_records = pd.DataFrame(
        {
            "crime_id": ["k1", "k3", "k4"],
            "perpetrator_true_person_id": ["P1", "P2", "P2"],
            "victim_true_person_id": ["A", "C", "C"],
            "reported_date": pd.Timestamp("2025-06-01"),
        }
    )
    pairs = _pairs([("k1", "s1", "a"), ("x2", "s1", "b"), ("k3", "s2", "c1"), ("k4", "s2", "c2")])
    victims = _victims(
        [
            ("s1", "a", True, True, True),
            ("s1", "b", False, True, True),  # screened course, not truly stalking
            ("s2", "c1", True, True, True),
            ("s2", "c2", True, True, True),  # the same true victim under a second key
        ]
    )
    predicted = {(Q, "P1"): ["s1"], (Q, "P2"): ["s2"]}
    causes = serial_causes(predicted, set(), victims, pairs, truth_records, key_map, 36)
    assert causes["false_positives"] == {SERIAL_FP_SCREENED: 1, SERIAL_FP_VICTIM_SPLIT: 1}
    assert causes["false_negatives"] == {}


def test_missed_serials_name_what_the_universe_or_the_rule_lacked() -> None:
    key_map = pd.Series({"s1": "P1", "s2": "P2", "s3": "P3"})
    truth_records = pd.DataFrame(
        {
            "crime_id": ["m1", "m2", "n1", "n2", "o1", "o2"],
            "perpetrator_true_person_id": ["P1", "P1", "P2", "P2", "P3", "P3"],
            "victim_true_person_id": ["A", "B", "C", "D", "E", "F"],
            "reported_date": pd.Timestamp("2025-06-01"),
        }
    )
    # P1's second crime is not in the universe; P2's second victim is not established;
    # P3's two victims are established but linked
    pairs = _pairs([("m1", "s1", "a"), ("n1", "s2", "c"), ("n2", "s2", "d")])
    pairs = pd.concat([pairs, _pairs([("o1", "s3", "e"), ("o2", "s3", "f")])])
    victims = _victims(
        [
            ("s1", "a", True, True, True),
            ("s2", "c", True, True, True),
            ("s2", "d", False, False, False),
            ("s3", "e", True, True, True),
            ("s3", "f", True, True, False),
        ]
    )
    truth = {(Q, "P1"), (Q, "P2"), (Q, "P3")}
    causes = serial_causes({}, truth, victims, pairs, truth_records, key_map, 36)
    assert causes["false_negatives"] == {
        SERIAL_FN_NOT_IN_UNIVERSE: 1,
        SERIAL_FN_NOT_ESTABLISHED: 1,
        SERIAL_FN_LINKED: 1,
    }
