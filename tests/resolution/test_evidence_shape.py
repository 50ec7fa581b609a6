"""The match evidence has one shape whatever the delivery recorded: a field nobody recorded
(no postcode, no sex anywhere) is not compared, and its weight column is there, empty (the
subject pages read it; a delivery without postcodes used to crash their model)."""

from __future__ import annotations

import pandas as pd

from pipelines.resolution import resolve_mentions
from pipelines.resolution.resolve import EVIDENCE_FIELDS


def test_fields_nobody_recorded_keep_their_weight_columns(small_rows: pd.DataFrame) -> None:
    rows = small_rows.copy()
    rows["postcode"] = None
    rows["sex"] = None
    result = resolve_mentions(rows)
    evidence = result.evidence
    assert len(evidence) > 0
    for field in EVIDENCE_FIELDS:
        assert f"mw_{field}" in evidence.columns, field
    assert evidence[["mw_postcode", "mw_sex"]].isna().all().all()
    # the fields still compared keep their weights
    assert evidence.loc[evidence["joined_by"] == "splink", "mw_surname"].notna().any()
