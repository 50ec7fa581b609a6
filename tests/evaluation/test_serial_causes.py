"""serial_causes names the victim a wrong serial judgment rests on (hand-made frames)."""

from __future__ import annotations

import pandas as pd

from pipelines.evaluation.bench_analysis import NOTES_MARKER
from pipelines.evaluation.serial import (
    MEASURES,
    SERIAL_FN_LINKED,
    SERIAL_FN_NOT_ESTABLISHED,
    SERIAL_FN_NOT_IN_UNIVERSE,
    SERIAL_FN_SCREENED_OUT_COURSE,
    SERIAL_FN_SCREENED_OUT_ONCE,
    SERIAL_FN_SHARED_HOME,
    SERIAL_FP_RECORDED,
    SERIAL_FP_SCREENED,
    SERIAL_FP_VICTIM_SPLIT,
    pooled,
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


def test_a_false_serial_on_two_untrue_victims_names_the_recorded_one_whatever_the_row_order() -> (
    None
):
    key_map = pd.Series({"s1": "P1", "a": "A", "b": "B"})
    truth_records = pd.DataFrame(
        {
            "crime_id": ["k9"],
            "perpetrator_true_person_id": ["P9"],
            "victim_true_person_id": ["Z"],
            "reported_date": pd.Timestamp("2025-06-01"),
        }
    )
    pairs = _pairs([("x1", "s1", "a"), ("x2", "s1", "b")])
    # neither victim's crime is truly stalking: "a" established by a screened course, listed
    # first; "b" recorded as stalking
    victims = _victims([("s1", "a", False, True, True), ("s1", "b", True, True, True)])
    causes = serial_causes({(Q, "P1"): ["s1"]}, set(), victims, pairs, truth_records, key_map, 36)
    assert causes["false_positives"] == {SERIAL_FP_RECORDED: 1}


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


def _measure(hits: int, predicted: int, true: int) -> dict[str, int]:
    return {"true_positives": hits, "predicted": predicted, "true": true}


def test_missed_serials_say_what_screening_saw_of_the_missing_victim_and_the_shared_home() -> None:
    key_map = pd.Series({"s1": "P1", "s2": "P2", "s3": "P3", "s4": "P4"})
    truth_records = pd.DataFrame(
        {
            "crime_id": ["m1", "m2", "m3", "n1", "n2", "o1", "o2", "p1", "p2"],
            "perpetrator_true_person_id": ["P1", "P1", "P1", "P2", "P2", "P3", "P3", "P4", "P4"],
            "victim_true_person_id": ["A", "B", "B", "C", "D", "E", "F", "G", "H"],
            "reported_date": pd.Timestamp("2025-06-01"),
        }
    )
    # P1's second victim has two crimes screened out with a course of the pair; P2's one
    # crime screened out; P3's second crime was never scored; P4's two victims share a home
    pairs = _pairs([("m1", "s1", "a"), ("n1", "s2", "c"), ("o1", "s3", "e")])
    pairs = pd.concat([pairs, _pairs([("p1", "s4", "g"), ("p2", "s4", "h")])])
    victims = _victims(
        [
            ("s1", "a", True, True, True),
            ("s2", "c", True, True, True),
            ("s3", "e", True, True, True),
            ("s4", "g", True, True, True),
            ("s4", "h", True, True, False),
        ]
    ).assign(shares_home_postcode=[False, False, False, True, True])
    screened_out = pd.DataFrame(
        {"crime_id": ["m2", "m3", "n2"], "has_course_on_this_victim": [False, True, False]}
    )
    truth = {(Q, "P1"), (Q, "P2"), (Q, "P3"), (Q, "P4")}
    causes = serial_causes({}, truth, victims, pairs, truth_records, key_map, 36, screened_out)
    assert causes["false_negatives"] == {
        SERIAL_FN_SCREENED_OUT_COURSE: 1,
        SERIAL_FN_SCREENED_OUT_ONCE: 1,
        SERIAL_FN_NOT_IN_UNIVERSE: 1,
        SERIAL_FN_SHARED_HOME: 1,
    }


def test_pooled_keeps_held_in_parts_apart_from_held_out_draws() -> None:
    results = [
        {"part": "default", "held_out": False, "serial": _measure(9, 10, 10)},
        {"part": "heavy", "held_out": True, "serial": _measure(1, 1, 100)},
        {"part": "held_out", "held_out": True, "serial": _measure(3, 4, 6)},
        {"part": "held_out_s11", "held_out": True, "serial": _measure(1, 2, 2)},
        {"part": "diag13", "held_out": False, "serial": _measure(1, 2, 2)},
        {"part": "independent_held_in", "held_out": False, "serial": _measure(2, 4, 8)},
        {"part": "independent_held_in_s3", "held_out": False, "serial": _measure(3, 4, 10)},
        {"part": "independent", "held_out": True, "serial": _measure(5, 50, 50)},
    ]
    # held-in: default + diag13 + the independent force's two held-in draws; held-out: the draws
    # of the held-out settings; heavy and the independent force held out whole in neither
    assert pooled(results, "serial", held_out=False) == "0.7500 / 0.5000 (15 of 30, 4 parts)"
    assert pooled(results, "serial") == "0.6667 / 0.5000 (4 of 8, 2 parts)"


def test_the_independent_force_is_held_in_at_seeds_2_and_3_and_held_out_whole_at_seed_1() -> None:
    from pipelines.evaluation import serial
    from pipelines.evaluation.screening import INDEPENDENT_HELD_IN

    held_in, held_out = serial.PARTS["independent_held_in"], serial.PARTS["independent"]
    second = serial.PARTS["independent_held_in_s3"]
    assert held_in["independent"] and second["independent"] and held_out["independent"]
    assert held_in["seed"] == INDEPENDENT_HELD_IN["seed"] != held_out["seed"]
    assert len({held_in["seed"], second["seed"], held_out["seed"]}) == 3
    assert not held_in["held_out"] and not second["held_out"] and held_out["held_out"]


def test_the_hand_note_below_the_marker_survives_a_rerun(tmp_path, monkeypatch) -> None:
    from pipelines.evaluation import serial

    result = {
        "part": "default",
        "seed": 42,
        "rates": {},
        "held_out": False,
        "record_visible": {k: _measure(1, 1, 1) for k in ("serial", "repeat", "repeat_victims")},
        "error_causes": {},
        "serial_causes": {},
        **{key: {**_measure(1, 1, 1), "precision": 1.0, "recall": 1.0} for key, _ in MEASURES},
    }
    for key in result["record_visible"]:
        result["record_visible"][key].update(precision=1.0, recall=1.0)
    monkeypatch.setattr(serial, "PARTS", {"default": serial.PARTS["default"]})
    monkeypatch.setattr(serial, "evaluate_part", lambda *args: result)
    (tmp_path / "serial.md").write_text(f"old tables\n{NOTES_MARKER}\nwhy the rule changed\n")
    assert serial.main(["--parts", "default", "--work", str(tmp_path), "--out", str(tmp_path)]) == 0
    text = (tmp_path / "serial.md").read_text()
    assert "old tables" not in text
    assert text.index("| serial (is_serial") < text.index(NOTES_MARKER)
    assert text.split(NOTES_MARKER, 1)[1].strip() == "why the rule changed"
