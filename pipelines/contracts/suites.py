"""The extract contracts as Great Expectations suites: built here, kept in data_contracts/.

One rule table, two executors. The suites in `data_contracts/<extract>.json` are the contract:
- `pipelines.contracts.validate` compiles each expectation into a DuckDB SQL predicate that
  decides, row by row, what is quarantined (fast at national scale), and
- `pipelines.contracts.gx_checks` runs the same suites with Great Expectations on the loaded
  raw tables (Dagster asset checks), proving that what was loaded honours the contract.

Every expectation carries `meta.rule` (the quarantine rule name, as in truth/bad_rows.csv) and
`meta.description` (the sentence the README prints). Values that live elsewhere are
`$PARAMETER`s filled at run time: the offence codes come from the reference seed
(`dbt_project/seeds/offence_codes.csv`, one home for codes), the run date from ProfileRun, the
ids of the loaded parent extract from the warehouse.

Regenerate the JSON and the README after changing this file:
`python -m pipelines.contracts.suites` (tests fail while they are stale).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipelines.contracts.schema import EXTRACTS
from pipelines.paths import DATA_CONTRACTS_DIR

# Rule names, exactly as the generator's truth/bad_rows.csv spells them.
RULES = (
    "unparseable_date",
    "unparseable_number",
    "null_required",
    "unknown_code",
    "duplicate_key",
    "missing_reference",
    "references_quarantined_row",
    "lat_without_lon",
    "outside_force_area",
    "end_before_start",
    "breach_before_grant",
    "dob_in_future",
    "not_allowed_value",
    "date_in_future",
    "date_too_early",
)

# The pandas dtypes DuckDB hands Great Expectations for each spec type (typed raw tables).
GX_TYPE_LISTS = {
    "date": ["datetime64[us]", "datetime64[ns]", "datetime64[ms]", "datetime64[s]"],
    "timestamp": ["datetime64[us]", "datetime64[ns]", "datetime64[ms]", "datetime64[s]"],
    "float": ["float64", "Float64Dtype"],
    "bool": ["bool", "BooleanDtype"],
}
TYPE_RULES = {
    "date": "unparseable_date",
    "timestamp": "unparseable_date",
    "float": "unparseable_number",
    "bool": "not_allowed_value",
}
TYPE_WORDS = {
    "date": "an ISO 8601 date (YYYY-MM-DD)",
    "timestamp": "an ISO 8601 date-time (YYYY-MM-DD HH:MM[:SS], local UK time)",
    "float": "a finite decimal number",
    "bool": "a boolean: true/false, Y/N or 1/0 (any case)",
}

# Home Office outcome types (crime outcomes framework), 1-22.
OUTCOME_CODES = [str(n) for n in range(1, 23)]
# A UK postcode (outward code, spaces or none, inward code), any case: fixed-width exports
# pad the outward code (the ONS 7-character form writes "S1  2AB"); resolution drops spaces.
POSTCODE_REGEX = r"(?i)^[A-Z]{1,2}[0-9][A-Z0-9]? *[0-9][A-Z]{2}$"

# Allowed-value lists of ../shared/spec/extracts.md (matched case-insensitively after
# trimming; the loaded value is the spelling given here).
ALLOWED_VALUES: dict[str, dict[str, list[str]]] = {
    "crimes": {"risk_level": ["standard", "medium", "high"]},
    "crime_persons": {
        "role": ["victim", "suspect", "offender"],
        "sex": ["F", "M", "X", "U"],
    },
    "orders": {
        "order_type": ["SPO", "ISPO", "RO", "NMO", "DVPO", "IAH"],
        "status": ["applied", "granted", "refused", "expired", "discharged"],
    },
    "breaches": {
        "action_taken": ["arrest", "charge", "caution", "no_further_action", "other"],
    },
}

# later >= earlier (rule end_before_start).
ORDERINGS: dict[str, list[tuple[str, str]]] = {
    "crimes": [("offence_end", "offence_start"), ("outcome_date", "reported_date")],
    "orders": [("granted_date", "applied_date"), ("expiry_date", "granted_date")],
}

# Hard references: the row is quarantined when the parent is missing or was quarantined.
REFERENCES: dict[str, list[tuple[str, str, str]]] = {
    "crime_persons": [("crime_id", "crimes", "crime_id")],
    "breaches": [("order_id", "orders", "order_id")],
}
# Soft references: loaded regardless, counted as unlinked (severity warning).
SOFT_REFERENCES: dict[str, list[tuple[str, str, str]]] = {
    "intelligence": [("crime_id", "crimes", "crime_id")],
    "orders": [("crime_id", "crimes", "crime_id")],
}

# Dates of birth after the run date (an intelligence or order subject's too: resolution links
# people on them).
FUTURE_DATES: dict[str, list[str]] = {
    "crime_persons": ["date_of_birth"],
    "intelligence": ["subject_date_of_birth"],
    "orders": ["subject_date_of_birth"],
}
# The dates of what a record says happened (a crime recorded, an order applied for or granted,
# a breach, a report submitted): on or before the date of the run, and not before the earliest
# plausible date (settings `ingest.earliest_plausible_date`). A mistyped year (9999, 0001, a
# system's default) is no record of an event, and the quarter spine and the demand history run
# from the first to the last crime reported: one such date used to stretch them over centuries.
# (An order's expiry_date is rightly in the future; births are `dob_in_future`.)
EVENT_DATES: dict[str, list[str]] = {
    "crimes": [
        "reported_date",
        "outcome_date",
        "needs_assessment_date",
        "support_referral_date",
    ],
    "intelligence": ["submitted_date"],
    "orders": ["applied_date", "granted_date"],
    "breaches": ["breach_date"],
}
# Date-times of the same kind: any time on the run date is on or before it.
EVENT_TIMES: dict[str, list[str]] = {"crimes": ["offence_start", "offence_end"]}
COORDINATE_PAIRS: dict[str, list[tuple[str, str]]] = {
    "crimes": [("latitude", "longitude")],
    "intelligence": [("latitude", "longitude")],
}
# The spec states the area rule on crimes; "What bad input gets" applies it to any location,
# so intelligence locations are held to it too.
FORCE_AREA: dict[str, tuple[str, str]] = {
    "crimes": ("latitude", "longitude"),
    "intelligence": ("latitude", "longitude"),
}
# Derived columns: values looked up in a loaded parent table (the SQL joins, GX adds them).
GRANTED_DATE_COLUMN = "_order_granted_date"
OUTSIDE_AREA_COLUMN = "_outside_force_area"


def reference_parameter(extract: str, column: str) -> str:
    return f"{extract}_{column}_ids"


def _exp(type_: str, rule: str, description: str, **kwargs: Any) -> dict[str, Any]:
    meta = kwargs.pop("meta", {})
    severity = kwargs.pop("severity", "critical")
    return {
        "type": type_,
        "kwargs": kwargs,
        "meta": {"rule": rule, "description": description, **meta},
        "severity": severity,
    }


def build_suite(extract: str) -> dict[str, Any]:
    """The suite for one extract as a GX 1.x JSON dict. Expectation order is rule priority:
    a row breaking several rules is quarantined under the first (its detail lists all)."""
    spec = EXTRACTS[extract]
    exps: list[dict[str, Any]] = []
    for col in spec.columns:
        if col.type in TYPE_RULES:
            exps.append(
                _exp(
                    "expect_column_values_to_be_in_type_list",
                    TYPE_RULES[col.type],
                    f"`{col.name}` is {TYPE_WORDS[col.type]} or empty.",
                    column=col.name,
                    type_list=GX_TYPE_LISTS[col.type],
                    meta={"spec_type": col.type},
                )
            )
    for name in spec.required_columns:
        exps.append(
            _exp(
                "expect_column_values_to_not_be_null",
                "null_required",
                f"`{name}` is never empty.",
                column=name,
            )
        )
    for name, values in ALLOWED_VALUES.get(extract, {}).items():
        exps.append(
            _exp(
                "expect_column_values_to_be_in_set",
                "not_allowed_value",
                f"`{name}` is one of {', '.join(values)} (any case) or empty.",
                column=name,
                value_set=values,
                meta={"case_insensitive": True},
            )
        )
    if extract == "crimes":
        exps.append(
            _exp(
                "expect_column_values_to_be_in_set",
                "unknown_code",
                "`offence_code` is a code of the offence-code reference table "
                "(`dbt_project/seeds/offence_codes.csv`).",
                column="offence_code",
                value_set={"$PARAMETER": "offence_codes"},
            )
        )
        exps.append(
            _exp(
                "expect_column_values_to_match_regex",
                "unknown_code",
                "`included_offence_codes` is empty or `|`-separated codes of the offence-code "
                "reference table (an empty element, as a trailing `|` makes, names no code).",
                column="included_offence_codes",
                regex={"$PARAMETER": "included_offence_codes_regex"},
                meta={"separator": "|", "codes_parameter": "offence_codes"},
            )
        )
        exps.append(
            _exp(
                "expect_column_values_to_be_in_set",
                "unknown_code",
                "`outcome_code` is a Home Office outcome type, 1 to 22 (zero-padded, as `016`, "
                "allowed), or empty.",
                column="outcome_code",
                value_set=OUTCOME_CODES,
                # The spec's outcome type is a number from 1 to 22 written as text: a
                # fixed-width export's `016` is type 16, loaded as `16`.
                meta={"zero_padded": True},
            )
        )
    if extract == "crime_persons":
        exps.append(
            _exp(
                "expect_column_values_to_match_regex",
                "not_allowed_value",
                "`postcode` is a UK postcode (e.g. `YO1 7HH`, any case, space optional) or empty.",
                column="postcode",
                regex=POSTCODE_REGEX,
            )
        )
    for lat, lon in COORDINATE_PAIRS.get(extract, []):
        # WGS84 degrees: British National Grid metres (an easting in `longitude`) are not, and
        # loaded without a force area they were kept as points nowhere, then left off every
        # map without a word
        for name, limit, kind in ((lat, 90, "latitude"), (lon, 180, "longitude")):
            exps.append(
                _exp(
                    "expect_column_values_to_be_between",
                    "not_allowed_value",
                    f"`{name}` is a WGS84 {kind}, -{limit} to {limit} degrees (British "
                    "National Grid metres are not).",
                    column=name,
                    min_value=-limit,
                    max_value=limit,
                )
            )
    for lat, lon in COORDINATE_PAIRS.get(extract, []):
        for have, need in ((lat, lon), (lon, lat)):
            exps.append(
                _exp(
                    "expect_column_values_to_not_be_null",
                    "lat_without_lon",
                    f"`{need}` is given whenever `{have}` is (both or neither).",
                    column=need,
                    row_condition=f"{have}.notnull()",
                    condition_parser="pandas",
                    meta={"when_present": have},
                )
            )
    if extract in FORCE_AREA:
        lat, lon = FORCE_AREA[extract]
        exps.append(
            _exp(
                "expect_column_values_to_not_be_in_set",
                "outside_force_area",
                f"The point (`{lat}`, `{lon}`) lies inside the force area: "
                "`force_area.geojson` beside the extracts, else the configured area "
                "(settings `force.area_geojson`); with neither this rule is off. Points within "
                "about 10 m of the boundary count as inside (coordinates are rounded).",
                column=OUTSIDE_AREA_COLUMN,
                value_set=[True],
                meta={"derived": {"latitude": lat, "longitude": lon}},
            )
        )
    for name in EVENT_DATES.get(extract, []) + EVENT_TIMES.get(extract, []):
        timed = name in EVENT_TIMES.get(extract, [])
        exps.append(
            _exp(
                "expect_column_values_to_be_between",
                "date_in_future",
                f"`{name}` is not after the date of the run"
                + (" (any time on that day is on it)." if timed else "."),
                column=name,
                # a date-time: before the midnight that ends the run date
                **(
                    {"max_value": {"$PARAMETER": "day_after_run"}, "strict_max": True}
                    if timed
                    else {"max_value": {"$PARAMETER": "today"}}
                ),
            )
        )
        exps.append(
            _exp(
                "expect_column_values_to_be_between",
                "date_too_early",
                f"`{name}` is not before the earliest plausible date (settings "
                "`ingest.earliest_plausible_date`, 1900-01-01 unless a force sets it).",
                column=name,
                min_value={"$PARAMETER": "earliest_plausible_date"},
            )
        )
    for later, earlier in ORDERINGS.get(extract, []):
        exps.append(
            _exp(
                "expect_column_pair_values_a_to_be_greater_than_b",
                "end_before_start",
                f"`{later}` is on or after `{earlier}` (when both are given).",
                column_A=later,
                column_B=earlier,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
        )
    for name in FUTURE_DATES.get(extract, []):
        exps.append(
            _exp(
                "expect_column_values_to_be_between",
                "dob_in_future",
                f"`{name}` is not after the date of the run.",
                column=name,
                max_value={"$PARAMETER": "today"},
            )
        )
    if spec.key:
        exps.append(
            _exp(
                "expect_column_values_to_be_unique",
                "duplicate_key",
                f"`{spec.key}` is unique: the first row with a key (in file order) is loaded, "
                "every later one is quarantined.",
                column=spec.key,
            )
        )
    for column, parent, parent_column in REFERENCES.get(extract, []):
        exps.append(
            _exp(
                "expect_column_values_to_be_in_set",
                "missing_reference",
                f"`{column}` exists in `{parent}.{parent_column}`. If it exists there only "
                f"in quarantined rows, the rule is `references_quarantined_row`.",
                column=column,
                value_set={"$PARAMETER": reference_parameter(parent, parent_column)},
                meta={
                    "references": {"extract": parent, "column": parent_column},
                    "rule_if_parent_quarantined": "references_quarantined_row",
                },
            )
        )
    if extract == "breaches":
        lookup = {"extract": "orders", "key": "order_id", "on": "order_id"}
        exps.append(
            _exp(
                "expect_column_values_to_not_be_null",
                "breach_before_grant",
                "The breached order was granted (`orders.granted_date` is given).",
                column=GRANTED_DATE_COLUMN,
                meta={"lookup": {**lookup, "column": "granted_date"}},
            )
        )
        exps.append(
            _exp(
                "expect_column_pair_values_a_to_be_greater_than_b",
                "breach_before_grant",
                "`breach_date` is on or after the order's `granted_date`.",
                column_A="breach_date",
                column_B=GRANTED_DATE_COLUMN,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                meta={"lookup": {**lookup, "column": "granted_date"}},
            )
        )
    for column, parent, parent_column in SOFT_REFERENCES.get(extract, []):
        exps.append(
            _exp(
                "expect_column_values_to_be_in_set",
                "unlinked_soft_link",
                f"`{column}` is a soft link to `{parent}.{parent_column}`: an id not found "
                "there is loaded and counted as unlinked (warning, never quarantined).",
                column=column,
                value_set={"$PARAMETER": reference_parameter(parent, parent_column)},
                severity="warning",
                meta={"references": {"extract": parent, "column": parent_column}},
            )
        )
    return {
        "name": f"{extract}_contract",
        "expectations": exps,
        "meta": {
            "extract": extract,
            "spec": "../shared/spec/extracts.md (v1)",
            "file": f"{extract}.csv or {extract}.parquet",
            "columns": [
                {
                    "name": c.name,
                    "type": c.type,
                    "required": c.name in spec.required_columns,
                    "key": c.name == spec.key,
                }
                for c in spec.columns
            ],
        },
        "notes": None,
    }


def suite_path(extract: str, directory: Path = DATA_CONTRACTS_DIR) -> Path:
    return directory / f"{extract}.json"


def suite_text(extract: str) -> str:
    return json.dumps(build_suite(extract), indent=2) + "\n"


def load_suite(extract: str, directory: Path = DATA_CONTRACTS_DIR) -> dict[str, Any]:
    """The suite as kept in the repository (what both executors run)."""
    return json.loads(suite_path(extract, directory).read_text())
