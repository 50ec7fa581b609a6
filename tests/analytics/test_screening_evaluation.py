"""The metric helpers of pipelines/evaluation/screening.py on hand-made inputs."""

from __future__ import annotations

import pandas as pd

from pipelines.evaluation.screening import precision_recall, threshold_curve, true_key_map


def test_precision_recall_counts_hits() -> None:
    result = precision_recall({"a", "b", "c", "d"}, {"a", "b", "e"})
    assert result["true_positives"] == 2
    assert result["precision"] == 0.5
    assert result["recall"] == round(2 / 3, 4)


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
