"""The missed-pair attribution sorts pairs by the evidence that joins them, and its oracle
moves only intelligence subjects whose linked crime records their true person."""

from __future__ import annotations

import pandas as pd

from pipelines.evaluation.resolution_misses import linked_crime_ceiling, missed_pairs


def _record(source: str, person_id, side: str, crime, event: str, fore="Ann") -> dict:
    return {
        "mention_id": f"{source}:{event}|{person_id}",
        "source": source,
        "person_id": person_id,
        "forename": fore,
        "surname": "Lee",
        "date_of_birth": None,
        "role_side": side,
        "crime_id": crime,
        "event_key": event,
    }


MENTIONS = pd.DataFrame(
    [
        # 0, 1: suspect and victim of crime C1
        _record("crime_persons", "N1", "perpetrator", "C1", "C1"),
        _record("crime_persons", "N2", "victim", "C1", "C1", fore="Bea"),
        # 2: an intelligence subject on report I1, linked to C1 (true person of 0)
        _record("intelligence_subject", None, "perpetrator", "C1", "I1"),
        # 3, 4: report I2, no crime link, about victim N2 (subject: true person of 0)
        _record("intelligence_subject", None, "perpetrator", None, "I2"),
        _record("intelligence_victim", "N2", "victim", None, "I2", fore="Bea"),
        # 5: a second record of the suspect, sharing nothing but details
        _record("crime_persons", "N9", "perpetrator", "C2", "C2"),
    ]
)
TRUTH = pd.Series(["T1", "T2", "T1", "T1", "T2", "T1"])
KEYS = pd.Series(["k1", "k2", "k3", "k4", "k2", "k5"])
EVERYONE = pd.Series(True, index=TRUTH.index)


def test_missed_pairs_are_sorted_by_evidence() -> None:
    missed = missed_pairs(MENTIONS, KEYS, TRUTH, EVERYONE)
    # true person T1 has four records (0, 2, 3, 5) in four keys: six missed pairs; T2 is in
    # one key
    assert len(missed) == 6
    evidence = missed["evidence"].value_counts().to_dict()
    # every pair with record 2 (linked to C1, where T1 is the suspect) is reachable that way
    assert evidence["intelligence subject's linked crime"] == 3
    # records 0 and 3 share the counterpart N2 (crime C1 and report I2)
    assert evidence["shared counterpart"] == 1
    assert evidence["details only"] == 2
    assert missed["intelligence_subject"].sum() == 5


def test_oracle_moves_only_subjects_reachable_through_their_linked_crime() -> None:
    ceiling = linked_crime_ceiling(MENTIONS, KEYS, TRUTH, EVERYONE)
    assert ceiling["subjects_reachable"] == 1
    assert ceiling["subjects_already_in_key"] == 0
    # seven true pairs: T2's (1, 4) was found before, the oracle adds (0, 2) of T1's six
    assert ceiling["precision"] == 1.0
    assert round(ceiling["recall"], 4) == round(2 / 7, 4)
