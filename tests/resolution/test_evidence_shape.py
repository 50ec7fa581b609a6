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


def test_no_name_or_date_of_birth_anywhere_resolves_by_nominal_id(
    small_rows: pd.DataFrame,
) -> None:
    """A delivery that leaves the optional name, date-of-birth, sex and postcode columns out:
    nothing to train a model on, so records join by nominal id only (it used to fail to bind
    the field weights of the unscored pairs)."""
    rows = small_rows.copy()
    for column in ("forename", "surname", "date_of_birth", "sex", "postcode"):
        rows[column] = None
    result = resolve_mentions(rows)
    keys = result.clusters.groupby("person_id")["person_key"].nunique()
    assert (keys == 1).all()
    assert result.clusters["person_key"].nunique() == rows["person_id"].nunique()
    assert set(result.evidence["joined_by"]) <= {"nominal_id"}
    for field in EVIDENCE_FIELDS:
        assert f"mw_{field}" in result.evidence.columns, field
