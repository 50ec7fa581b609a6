"""The force's nominal ids weighed as evidence: a record without an id (an intelligence
subject, an order subject) carries no judgment of who it is, while two ids are the force's
judgment of two people, so EM, on a real run's records, learns that two ids weigh against a
link and a missing id does not."""

from __future__ import annotations

import json
import math

import duckdb

NOMINAL_ID = "nominal_id"


def _level_weights(model: dict) -> dict[str, float]:
    (comparison,) = [c for c in model["comparisons"] if c["output_column_name"] == NOMINAL_ID]
    return {
        level["label_for_charts"]: math.log2(level["m_probability"] / level["u_probability"])
        for level in comparison["comparison_levels"]
    }


def test_two_nominal_ids_weigh_against_a_link_and_a_missing_id_does_not(tiny_profile) -> None:
    with duckdb.connect(str(tiny_profile.warehouse), read_only=True) as con:
        model_json, stats_json = con.execute(
            "select model_json, stats_json from marts.resolution_model"
        ).fetchall()[0]
    stats = json.loads(stats_json)
    # trained by EM, not left at the stand-ins calibrate gives an untrained level
    assert stats["training"]["em_sessions"] == 2
    assert NOMINAL_ID in stats["fields"]
    weights = _level_weights(json.loads(model_json))
    two_ids = weights["All other comparisons"]
    assert two_ids < 0
    assert weights["One record has no nominal id"] > two_ids
    assert weights["Neither record has a nominal id"] > two_ids
    assert weights["Exact match on person_id"] > 0


def test_no_nominal_id_comparison_when_every_record_has_an_id(small_resolution) -> None:
    # every record of the small input has an id: one or two ids would tell nothing apart
    assert NOMINAL_ID not in small_resolution.stats["fields"]
    names = [c["output_column_name"] for c in small_resolution.model["comparisons"]]
    assert NOMINAL_ID not in names


def test_splinks_no_null_level_warning_is_dropped_for_the_nominal_ids_only() -> None:
    import logging

    from pipelines.resolution.resolve import _deliberate_null_levels

    def record(comparison: str) -> logging.LogRecord:
        message = f"Warning: No null level found for comparison {comparison}.\nIn most cases"
        return logging.LogRecord("splink.internals.settings", 30, "", 0, message, None, None)

    assert not _deliberate_null_levels(record(NOMINAL_ID))
    assert _deliberate_null_levels(record("forename"))
