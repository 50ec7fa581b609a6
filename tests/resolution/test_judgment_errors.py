"""The serial evaluation's error breakdown: each wrong person-quarter gets the cause that
explains it (screening pulled a crime in or left one out, resolution split or joined records,
or the judgment rule)."""

from __future__ import annotations

import pandas as pd

from pipelines.evaluation.serial import (
    RESOLUTION,
    RULE,
    SCREENING_ADDED,
    SCREENING_MISSED,
    error_causes,
)

Q = "2025-Q4"


def _records(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """(crime, suspect key, victim key) reported in the quarter."""
    return pd.DataFrame(
        {
            "crime_id": [r[0] for r in rows],
            "reported_date": pd.Timestamp("2025-11-01"),
            "suspect_person_key": [r[1] for r in rows],
            "victim_person_key": [r[2] for r in rows],
        }
    )


def _truth(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """(crime, true perpetrator, true victim) of true stalking courses."""
    return pd.DataFrame(
        {
            "crime_id": [r[0] for r in rows],
            "reported_date": pd.Timestamp("2025-11-01"),
            "perpetrator_true_person_id": [r[1] for r in rows],
            "victim_true_person_id": [r[2] for r in rows],
        }
    )


def _causes(predicted, truth_set, records, truth, key_map, **split) -> dict:
    return error_causes(
        predicted,
        truth_set,
        records=records,
        truth_records=truth,
        key_map=pd.Series(key_map),
        months=36,
        count_key="victim_person_key",
        count_true="victim_true_person_id",
        person_key="suspect_person_key",
        person_true="perpetrator_true_person_id",
        **split,
    )


def test_serial_false_positives_by_cause() -> None:
    key_map = {"KA": "A", "KB": "B", "V1": "X", "V2": "Y", "V3": "Z", "V3b": "Z"}
    records = _records(
        [
            # A: one true victim, plus a screened crime against another that is not stalking
            ("c1", "KA", "V1"),
            ("c2", "KA", "V2"),
            # B: one true victim split over two keys
            ("c3", "KB", "V3"),
            ("c4", "KB", "V3b"),
        ]
    )
    truth = _truth([("c1", "A", "X"), ("c3", "B", "Z"), ("c4", "B", "Z")])
    found = _causes({(Q, "A"): ["KA"], (Q, "B"): ["KB"]}, set(), records, truth, key_map)
    assert found["false_positives"] == {SCREENING_ADDED: 1, RESOLUTION: 1}
    assert found["false_negatives"] == {}


def test_serial_false_negatives_by_cause() -> None:
    key_map = {"KC": "C", "KD1": "D", "KD2": "D", "KE": "E", "W1": "P", "W2": "Q"}
    records = _records(
        [
            # C: only one of the two true victims' crimes is in the universe
            ("d1", "KC", "W1"),
            # D: the two victims' crimes sit on two keys of the same suspect
            ("d3", "KD1", "W1"),
            ("d4", "KD2", "W2"),
            # E: both victims under one key, yet not judged serial (the rule's call)
            ("d5", "KE", "W1"),
            ("d6", "KE", "W2"),
        ]
    )
    truth = _truth(
        [
            ("d1", "C", "P"),
            ("d2", "C", "Q"),
            ("d3", "D", "P"),
            ("d4", "D", "Q"),
            ("d5", "E", "P"),
            ("d6", "E", "Q"),
        ]
    )
    truth_set = {(Q, "C"), (Q, "D"), (Q, "E")}
    found = _causes({}, truth_set, records, truth, key_map)
    assert found["false_negatives"] == {SCREENING_MISSED: 1, RESOLUTION: 1, RULE: 1}


def test_record_visible_keeps_recorded_stalking_and_courses_with_another_record() -> None:
    from pipelines.evaluation.serial import record_visible

    crimes = pd.DataFrame(
        {
            "crime_id": ["recorded", "in_course", "lone", "lone_recorded"],
            "course_id": ["A", "B", "C", "D"],
            "identified_route": ["principal", "none", "none", "included"],
        }
    )
    course_records = pd.Series({"A": 1, "B": 2, "C": 1, "D": 1})
    kept = record_visible(crimes, course_records)
    assert list(kept["crime_id"]) == ["recorded", "in_course", "lone_recorded"]


def test_screening_errors_split_from_recording_and_what_no_record_shows() -> None:
    from pipelines.evaluation.serial import (
        BOTH_ADDED,
        INVISIBLE_MISSED,
        RECORDED_ADDED,
        SCREENED_ADDED,
        SCREENING_MISSED_VISIBLE,
    )

    key_map = {"KA": "A", "KB": "B", "KC": "C", "KE": "E", "V1": "X", "V2": "Y"}
    records = _records(
        [
            # A: a true victim and a screened crime against another that is not stalking
            ("a1", "KA", "V1"),
            ("a2", "KA", "V2"),
            # B: a true victim and a crime recorded as stalking against another that is not
            ("b1", "KB", "V1"),
            ("b2", "KB", "V2"),
            # E: no true victim: a screened crime against one, a recorded one against the other
            ("e1", "KE", "V1"),
            ("e2", "KE", "V2"),
            # C: one of its two true victims' crimes in the universe
            ("c1", "KC", "V1"),
        ]
    )
    truth = _truth(
        [
            ("a1", "A", "X"),
            ("b1", "B", "X"),
            ("c1", "C", "X"),
            ("c2", "C", "Y"),
            ("d1", "D", "X"),
            ("d2", "D", "Y"),
        ]
    )
    predicted = {(Q, "A"): ["KA"], (Q, "B"): ["KB"], (Q, "E"): ["KE"]}
    # D's crimes are in no universe and only d1's course shows in the records: no screening
    # could make D serial; C's missing crime c2 shows, so screening left it out
    found = _causes(
        predicted,
        {(Q, "C"), (Q, "D")},
        records,
        truth,
        key_map,
        screened={"a2", "e1"},
        visible={Q: {"c2", "d1"}},
    )
    assert found["false_positives"] == {SCREENED_ADDED: 1, RECORDED_ADDED: 1, BOTH_ADDED: 1}
    assert found["false_negatives"] == {SCREENING_MISSED_VISIBLE: 1, INVISIBLE_MISSED: 1}
