"""The metric helpers of pipelines/evaluation/screening.py on hand-made inputs."""

from __future__ import annotations

import pandas as pd

from pipelines.evaluation import screening
from pipelines.evaluation.screening import (
    MISS_BELOW_THRESHOLD,
    MISS_NO_COURSE_RECORD,
    MISS_NO_SUSPECT,
    MISS_NOT_LINKED,
    course_record_counts,
    miss_causes,
    pair_evidence,
    precision_recall,
    record_ceiling,
    threshold_curve,
    true_key_map,
)


def test_precision_recall_counts_hits() -> None:
    result = precision_recall({"a", "b", "c", "d"}, {"a", "b", "e"})
    assert result["true_positives"] == 2
    assert result["precision"] == 0.5
    assert result["recall"] == round(2 / 3, 4)


def test_pair_evidence_counts_each_kind_by_truth_and_flag() -> None:
    evidence = pd.DataFrame(
        {
            "crime_id": ["a", "b", "c"],
            "is_flagged": [True, False, False],
            "has_pair_order": [True, True, True],
            "has_pair_stalking_order": [True, False, False],
            "has_pair_breach": [False, False, True],
        }
    )
    counts = pair_evidence(evidence, hidden={"a", "b"})
    assert counts["has_pair_order"] == {
        "hidden": 2,
        "not_stalking": 1,
        "unflagged_hidden": 1,
        "unflagged_not_stalking": 1,
    }
    assert counts["has_pair_stalking_order"]["hidden"] == 1
    assert counts["has_pair_stalking_order"]["unflagged_hidden"] == 0
    assert counts["has_pair_breach"] == {
        "hidden": 0,
        "not_stalking": 1,
        "unflagged_hidden": 0,
        "unflagged_not_stalking": 1,
    }


def test_threshold_curve_trades_recall_for_precision() -> None:
    scored = pd.DataFrame({"crime_id": ["a", "b", "c", "d"], "score": [1, 2, 3, 3]})
    curve = {row["threshold"]: row for row in threshold_curve(scored, {"c", "d"})}
    assert curve[1]["precision"] == 0.5 and curve[1]["recall"] == 1.0
    assert curve[3]["precision"] == 1.0 and curve[3]["recall"] == 1.0
    assert curve[4]["predicted"] == 0 and curve[4]["recall"] == 0.0


def test_true_key_map_takes_the_majority_person() -> None:
    records = pd.DataFrame(
        {
            "source": ["crime_persons"] * 3,
            "record_key": ["c1|p1", "c2|p2", "c3|p3"],
            "person_key": ["K", "K", "K"],
        }
    )
    mentions = pd.DataFrame(
        {
            "source": ["crime_persons"] * 3,
            "record_key": ["c1|p1", "c2|p2", "c3|p3"],
            "true_person_id": ["T1", "T1", "T2"],
        }
    )
    assert true_key_map(records, mentions).to_dict() == {"K": "T1"}


def _scored(n: int, signal: list[bool], occasions: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "crime_id": [f"c{i}" for i in range(n)],
            "offence_category": ["harassment"] * n,
            "is_high_risk": signal,
            "occasions_in_window": occasions,
        }
    )


def test_record_ceiling_finds_a_separating_signal_and_counts_lone_occasions() -> None:
    n = 150
    hidden = {f"c{i}" for i in range(0, n, 3)}
    signal = [f"c{i}" in hidden for i in range(n)]
    occasions = [1 if i % 6 == 0 else 2 for i in range(n)]  # half the hidden crimes are lone
    ceiling = record_ceiling(_scored(n, signal, occasions), hidden)
    assert ceiling["hidden"] == len(hidden)
    assert ceiling["hidden_with_no_other_pair_occasion"] == len(hidden) // 2
    assert ceiling["classifier_best_recall_at_precision_0_8"] == 1.0
    # a signal unrelated to the truth and no lone occasions: little recall at precision 0.8
    noise = [i % 2 == 0 for i in range(n)]
    blind = record_ceiling(_scored(n, noise, [2] * n), hidden)
    assert blind["classifier_best_recall_at_precision_0_8"] < 0.5


def _write_truth(folder) -> None:
    truth = folder / "truth"
    truth.mkdir(parents=True)
    pd.DataFrame(
        {
            "crime_id": ["a1", "a2", "b1", "c1", "d1", "d2", "late"],
            "course_id": ["A", "A", "B", "C", "D", "D", "C"],
            "is_hidden_stalking": [True, False, True, True, True, True, False],
            "suspect_recorded": [True, True, True, False, True, True, True],
            "reported_date": ["2024-01-01"] * 6 + ["2025-01-01"],
        }
    ).to_csv(truth / "crimes.csv", index=False)
    pd.DataFrame({"intel_id": ["i1", "i2"], "course_id": ["C", "B"]}).to_csv(
        truth / "intelligence.csv", index=False
    )
    # i2 is dated after the cut-off
    pd.DataFrame({"intel_id": ["i1", "i2"], "submitted_date": ["2024-02-01", "2024-12-01"]}).to_csv(
        folder / "intelligence.csv", index=False
    )


def test_course_record_counts_count_loaded_crimes_and_intelligence_up_to_the_cut(
    tmp_path,
) -> None:
    _write_truth(tmp_path)
    loaded = {"a1", "a2", "b1", "c1", "d1", "d2", "late"}
    counts = course_record_counts(tmp_path, loaded, pd.Timestamp("2024-06-30"))
    # "late" and i2 fall after the cut; C counts c1 and i1
    assert counts.to_dict() == {"A": 2, "C": 2, "D": 2, "B": 1}
    # a crime that was not loaded is no record
    assert course_record_counts(tmp_path, loaded - {"a2"}, pd.Timestamp("2024-06-30"))["A"] == 1


def test_miss_causes_name_the_first_reason_that_applies(tmp_path) -> None:
    _write_truth(tmp_path)
    truth = pd.read_csv(tmp_path / "truth" / "crimes.csv", dtype={"crime_id": str})
    counts = course_record_counts(tmp_path, set(truth["crime_id"]), pd.Timestamp("2024-06-30"))
    scored = pd.DataFrame(
        {"crime_id": ["a1", "b1", "c1", "d1", "d2"], "occasions_in_window": [1, 1, 1, 2, 1]}
    )
    causes = miss_causes(scored, truth, flagged={"d2"}, course_records=counts)
    assert causes == {
        MISS_NOT_LINKED: 1,  # a1: its course has a2, but no pair link
        MISS_NO_COURSE_RECORD: 1,  # b1: nothing else of course B by the cut
        MISS_NO_SUSPECT: 1,  # c1
        MISS_BELOW_THRESHOLD: 1,  # d1: linked to d2, not flagged
    }


def test_single_record_signals_reads_only_crimes_whose_course_has_one_record() -> None:
    from pipelines.evaluation.screening import single_record_signals

    # courses A (one record: a1 hidden, sustained), B (one record: b1 not stalking,
    # sustained) and C (two records: c1 hidden, sustained, left out)
    scored = pd.DataFrame(
        {
            "crime_id": ["a1", "b1", "c1"],
            "is_sustained": [True, True, True],
            "offence_category": ["harassment", "harassment", "harassment"],
        }
    )
    truth = pd.DataFrame({"crime_id": ["a1", "b1", "c1"], "course_id": ["A", "B", "C"]})
    records = pd.Series({"A": 1, "B": 1, "C": 2})
    result = single_record_signals(scored, truth, records, {"a1", "c1"}, min_hidden=1)
    assert result["single_record_screened"] == 2
    assert result["single_record_hidden"] == 1
    sustained = next(row for row in result["signals"] if row["signal"] == "is_sustained")
    assert sustained == {"signal": "is_sustained", "flagged": 2, "hidden": 1, "precision": 0.5}


def test_calibration_simulation_moves_to_the_floor_the_reviews_support() -> None:
    """Crimes at flag level 6 and above are all stalking, level 5 none: the simulated reviews
    of earlier quarters move a configured threshold of 8 down to 6 in every evaluated quarter,
    finding every hidden crime at full precision, which the configured threshold does not; the
    oracle is the best fixed threshold on the same crimes."""
    from pipelines.settings import ScreeningCalibrationSettings

    rows = []
    for q in ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]:
        for level in (3, 5, 6, 7, 8, 10, 12):
            for i in range(8):
                rows.append(
                    {
                        "crime_id": f"{q}-{level}-{i}",
                        "reported_quarter": q,
                        "score": level,
                        "score_on_this_victim": level,
                        "has_course_on_this_victim": True,
                    }
                )
    scored = pd.DataFrame(rows)
    hidden = set(scored.loc[scored["score"] >= 6, "crime_id"])
    calibration = ScreeningCalibrationSettings(per_band=8, quarters=2, confidence=0.8)
    figures = screening.calibration_figures(scored, hidden, "2026-Q2", calibration, 8, draws=3)
    assert figures["evaluated_quarters"] == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    assert figures["thresholds_chosen"] == {6: 12}
    assert figures["calibrated_recall"] == {"mean": 1.0, "min": 1.0, "max": 1.0}
    assert figures["calibrated_precision"]["min"] == 1.0
    in_scope = scored[scored["reported_quarter"] >= "2025-Q3"]
    expected = screening.precision_recall(
        set(in_scope.loc[in_scope["score"] >= 8, "crime_id"]), hidden & set(in_scope["crime_id"])
    )
    assert figures["configured"] == {"threshold": 8, **expected}
    assert figures["configured"]["recall"] < 1.0
    assert figures["oracle"]["threshold"] == 6 and figures["oracle"]["recall"] == 1.0
    # five bands drawn (levels 10 and 12 share the open band from 10; level 3 is below them
    # all), per_band each
    assert figures["reviews_per_quarter"] == 40.0


def test_calibration_choice_ranks_on_the_held_in_parts_only(monkeypatch) -> None:
    """The chosen combination is one of the grid's, reaches the target on every part given and
    has the best lower recall among those that do."""
    from pipelines.settings import ScreeningCalibrationSettings

    # a smaller grid and fewer draws: the ranking, not the evaluation's size, is tested
    monkeypatch.setattr(
        screening,
        "CALIBRATION_GRID",
        {"per_band": [2, 8], "quarters": [1, 4], "confidence": [0.5, 0.9]},
    )
    monkeypatch.setattr(screening, "CALIBRATION_GRID_DRAWS", 2)

    rows = []
    for q in ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]:
        for level, hidden_share in ((5, 0), (6, 6), (7, 7), (8, 8), (10, 8)):
            for i in range(8):
                rows.append(
                    {
                        "crime_id": f"{q}-{level}-{i}",
                        "reported_quarter": q,
                        "score": level,
                        "score_on_this_victim": level,
                        "has_course_on_this_victim": True,
                        "hidden": i < hidden_share,
                    }
                )
    scored = pd.DataFrame(rows)
    hidden = set(scored.loc[scored["hidden"], "crime_id"])
    choice = screening.choose_calibration(
        {"a": (scored, hidden)}, "2026-Q3", ScreeningCalibrationSettings(), 8
    )
    chosen = choice["chosen"]
    grid = screening.CALIBRATION_GRID
    assert len(choice["rows"]) == len(grid["per_band"]) * len(grid["quarters"]) * len(
        grid["confidence"]
    )
    eligible = [r for r in choice["rows"] if r["precision"]["a"] >= 0.85]
    assert chosen in eligible
    # ties within 0.002 go to the fewest reviews
    assert chosen["recall"]["a"] >= max(r["recall"]["a"] for r in eligible) - 0.002
