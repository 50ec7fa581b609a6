"""The recall ceiling of the cross-source evaluation counts as reachable exactly what the
resolution can reach: a record with details, or a record without any linked to a crime on
whose side a record with details sits."""

from __future__ import annotations

import pandas as pd

from pipelines.evaluation.resolution_sources import recall_ceiling


def _record(person_id, fore, crime, side: str) -> dict:
    return {
        "person_id": person_id,
        "forename": fore,
        "surname": "Lee" if fore else None,
        "date_of_birth": None,
        "crime_id": crime,
        "role_side": side,
    }


def test_a_bare_record_is_reachable_only_through_a_crime_side_with_details() -> None:
    mentions = pd.DataFrame(
        [
            # one person: a named victim of C1 and a bare protected person linked to C1
            _record("V1", "Ann", "C1", "victim"),
            _record("V2", None, "C1", "victim"),
            # another: a named victim of C2 and a bare record linked to C3, where nobody
            # with details is recorded on the victim side
            _record("W1", "Bea", "C2", "victim"),
            _record("W2", None, "C3", "victim"),
        ]
    )
    truth = pd.Series(["A", "A", "B", "B"])
    everything = pd.Series(True, index=truth.index)
    # A's pair is reachable, B's is not
    assert recall_ceiling(mentions, truth, everything) == 0.5
    # without crime links neither bare record can be reached
    unlinked = mentions.drop(columns=["crime_id", "role_side"])
    assert recall_ceiling(unlinked, truth, everything) == 0.0
