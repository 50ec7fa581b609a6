"""The missed-pair attribution sorts pairs by the evidence that joins them, and its oracle
moves only intelligence subjects whose linked crime records their true person."""

from __future__ import annotations

import pandas as pd

from pipelines.evaluation.resolution_misses import (
    ID_ONLY_ALL,
    ID_ONLY_IN_KEY,
    ID_ONLY_ONE_RIGHT,
    ID_ONLY_ONE_WRONG,
    NAMES_DIFFER,
    NAMES_EQUAL,
    NO_DETAILS,
    ONE_NAME,
    calibration,
    details_class,
    id_only_reach,
    linked_crime_ceiling,
    missed_pairs,
)


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


def test_missed_pairs_say_what_the_records_own_details_leave() -> None:
    records = pd.DataFrame(
        [
            {"forename": "Ann", "surname": "Lee", "date_of_birth": None},
            {"forename": "Anne", "surname": "Lee", "date_of_birth": None},
            {"forename": None, "surname": "Lee", "date_of_birth": None},
            {"forename": None, "surname": None, "date_of_birth": "1970-01-01"},
            {"forename": "ANN", "surname": "lee", "date_of_birth": "1990-02-03"},
        ]
    )
    first = records.loc[0]
    assert details_class(first, records.loc[1]) == NAMES_DIFFER
    assert details_class(first, records.loc[2]) == ONE_NAME
    # a placeholder date of birth is no detail
    assert details_class(first, records.loc[3]) == NO_DETAILS
    assert details_class(first, records.loc[4]) == NAMES_EQUAL


def test_calibration_counts_scored_pairs_inside_the_part_by_band() -> None:
    clusters = pd.DataFrame({"node_id": [1, 2, 3, 4, 5], "person_key": ["a", "a", "b", "c", "d"]})
    truth = pd.Series(["T1", "T1", "T1", "T2", "T3"])
    pairs = pd.DataFrame(
        {
            "unique_id_l": [1, 1, 3, 4],
            "unique_id_r": [2, 3, 4, 5],
            "match_probability": [0.95, 0.35, 0.32, 0.5],
        }
    )
    in_part = pd.Series([True, True, True, True, False])
    rows = {row["band"]: row for row in calibration(pairs, clusters, truth, in_part)}
    # (4, 5) has a record outside the part: not counted
    assert set(rows) == {"0.3-0.4", "0.9-0.99"}
    assert rows["0.9-0.99"] == {
        "band": "0.9-0.99",
        "pairs": 1,
        "true_share": 1.0,
        "linked_share": 1.0,
    }
    # (1, 3) is one true person in two keys, (3, 4) two people apart
    assert rows["0.3-0.4"]["pairs"] == 2
    assert rows["0.3-0.4"]["true_share"] == 0.5
    assert rows["0.3-0.4"]["linked_share"] == 0.0


def test_id_only_records_are_counted_by_the_keys_their_counterpart_reaches() -> None:
    bare = {"forename": None, "surname": None}
    mentions = pd.DataFrame(
        [
            _record("crime_persons", "N1", "perpetrator", "C1", "C1"),
            _record("crime_persons", "N2", "victim", "C1", "C1", fore="Bea"),
            # report I2 about the suspect N1: its victim recorded under a second id, no details
            _record("intelligence_subject", "N1", "perpetrator", None, "I2"),
            {**_record("intelligence_victim", "N3", "victim", None, "I2"), **bare},
            # report I3 about N1 and another victim, no details either
            _record("intelligence_subject", "N1", "perpetrator", None, "I3"),
            {**_record("intelligence_victim", "N4", "victim", None, "I3"), **bare},
        ]
    )
    truth = pd.Series(["T1", "T2", "T1", "T2", "T1", "T3"])
    # resolution put both second ids into N2's person: N3 rightly (its true person), N4 wrongly
    keys = pd.Series(["k1", "k2", "k1", "k2", "k1", "k2"])
    reach = id_only_reach(mentions, keys, truth, pd.Series(True, index=truth.index))
    # N3 and N4 share the counterpart N1 with N2, the only victim with details
    assert reach == {
        ID_ONLY_ALL: 2,
        ID_ONLY_ONE_RIGHT: 1,
        ID_ONLY_ONE_WRONG: 1,
        ID_ONLY_IN_KEY: "1 / 1",
    }
    # left in keys of their own, neither is counted as in that key
    apart = pd.Series(["k1", "k2", "k1", "k3", "k1", "k4"])
    assert (
        id_only_reach(mentions, apart, truth, pd.Series(True, index=truth.index))[ID_ONLY_IN_KEY]
        == "0 / 0"
    )


def test_lone_name_records_are_out_of_reach_only_without_any_other_evidence() -> None:
    from pipelines.evaluation.resolution_misses import ceilings, lone_name_records

    lone = {"source": "intelligence_subject", "person_id": None, "date_of_birth": None}
    mentions = pd.DataFrame(
        [
            # 0, 1: one person's crime records (full names, one nominal id)
            _record("crime_persons", "N1", "perpetrator", None, "C1"),
            _record("crime_persons", "N1", "perpetrator", None, "C2"),
            # 2: a surname alone, nothing else: lone
            {**_record("intelligence_subject", None, "perpetrator", None, "I1"), "forename": None},
            # 3: a surname alone with a placeholder date of birth: lone all the same
            {
                **_record("intelligence_subject", None, "perpetrator", None, "I2"),
                **lone,
                "forename": None,
                "date_of_birth": "1970-01-01",
            },
            # 4: a surname alone on a report linked to a crime: not lone
            {**_record("intelligence_subject", None, "perpetrator", "C1", "I3"), "forename": None},
        ]
    )
    assert lone_name_records(mentions).tolist() == [False, False, True, True, False]
    truth = pd.Series(["T1"] * 5)
    found = ceilings(mentions, truth, pd.Series(True, index=truth.index), precision=1.0)
    # 10 pairs: all reachable as computed; with 2 and 3 out of reach only the 3 pairs among
    # 0, 1 and 4 remain
    assert found["as_computed"]["recall"] == 1.0
    assert found["lone_names_out_of_reach"]["recall"] == round(3 / 10, 4)
    assert found["lone_name_records"] == 2
