"""Plain Splink with a tutorial configuration: the reference the project's resolution is
compared with (`pipelines.evaluation.resolution_sources`).

Fields: forename, surname, date of birth, sex, postcode (those the source has; and email and
city where the source has them, as in the Splink tutorial on the fake_* files). Blocking on
the name pair, surname + dob, forename + dob, postcode + names; comparisons NameComparison /
DateOfBirthComparison / PostcodeComparison (and ExactMatch on sex) from
splink.comparison_library (Splink 5 API); lambda from a deterministic rule, u by random
sampling, m by EM blocked on dob and on names; clusters at a fixed match probability
(the tutorial's 0.95 unless given). No term-frequency adjustments, no nicknames, no
constraints: what an analyst following the Splink tutorial would run.

Input: a DataFrame with unique_id, forename, surname, date_of_birth (date or ISO string) and
optionally sex, postcode. Output: a Series of cluster ids indexed by unique_id.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

TUTORIAL_THRESHOLD = 0.95
FIELDS = ("forename", "surname", "date_of_birth", "sex", "postcode")


def _prepare(mentions: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame({"unique_id": mentions["unique_id"].astype(str)})
    for name in ("forename", "surname", "sex", "postcode", "email", "city"):
        values = mentions[name] if name in mentions.columns else None
        if values is None:
            frame[name] = None
            continue
        text = values.astype("string").str.strip().str.lower()
        frame[name] = text.where(text != "", None)
    dob = pd.to_datetime(mentions.get("date_of_birth"), errors="coerce")
    frame["dob"] = dob.dt.strftime("%Y-%m-%d").where(dob.notna(), None)
    if "postcode" in mentions.columns:
        frame["postcode"] = frame["postcode"].str.upper()
    return frame


def reference_settings(
    has_sex: bool, has_postcode: bool, has_email: bool = False, has_city: bool = False
) -> SettingsCreator:
    comparisons = [
        cl.NameComparison("forename"),
        cl.NameComparison("surname"),
        cl.DateOfBirthComparison("dob", input_is_string=True),
    ]
    rules = [
        block_on("forename", "surname"),
        block_on("surname", "dob"),
        block_on("forename", "dob"),
    ]
    if has_postcode:
        comparisons.append(cl.PostcodeComparison("postcode"))
        rules += [block_on("postcode", "forename"), block_on("postcode", "surname")]
    if has_sex:
        comparisons.append(cl.ExactMatch("sex"))
    if has_email:
        # the Splink tutorial's comparison for the fake_* files' email column
        comparisons.append(cl.EmailComparison("email"))
        rules.append(block_on("email"))
    if has_city:
        # the tutorial's comparison for the fake_* files' city column
        comparisons.append(cl.ExactMatch("city").configure(term_frequency_adjustments=True))
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        retain_intermediate_calculation_columns=False,
    )


def splink_reference(
    mentions: pd.DataFrame,
    thresholds: tuple[float, ...] = (TUTORIAL_THRESHOLD,),
    seed: int = 42,
    max_u_pairs: float = 1e6,
) -> tuple[dict[float, pd.Series], dict[str, Any]]:
    """Cluster ids (indexed by unique_id) from plain Splink at each threshold (one model,
    one prediction), and run stats."""
    started = time.perf_counter()
    frame = _prepare(mentions)
    has_sex = frame["sex"].notna().any()
    has_postcode = frame["postcode"].notna().any()
    has_email = frame["email"].notna().any()
    has_city = frame["city"].notna().any()
    db_api = DuckDBAPI()
    data = db_api.register(frame)
    linker = Linker(
        data,
        reference_settings(has_sex, has_postcode, has_email, has_city),
        log_level=logging.ERROR,
    )
    # the tutorial's deterministic rules (any two of the three identifying fields), recall 0.7
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("forename", "dob"),
            block_on("surname", "dob"),
            block_on("forename", "surname"),
        ],
        recall=0.7,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=max_u_pairs, seed=seed)
    failures = []
    for rule in (block_on("dob"), block_on("forename", "surname")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except Exception as error:  # too little data for one session: keep the others
            failures.append(type(error).__name__)
    predictions = linker.inference.predict(threshold_match_probability=min(thresholds))
    ids = frame["unique_id"]
    itself = pd.Series(ids.to_numpy(), index=ids.to_numpy())
    out: dict[float, pd.Series] = {}
    for threshold in thresholds:
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        ).as_pandas_dataframe()
        keyed = clusters.set_index("unique_id")["cluster_id"].astype(str)
        # a record in no scored pair is a cluster of its own
        out[threshold] = keyed.reindex(ids).fillna(itself)
    stats = {
        "seconds": round(time.perf_counter() - started, 2),
        "em_failures": failures,
        "fields": [
            f
            for f, present in (
                ("forename", True),
                ("surname", True),
                ("dob", True),
                ("sex", has_sex),
                ("postcode", has_postcode),
                ("email", has_email),
                ("city", has_city),
            )
            if present
        ],
    }
    return out, stats
