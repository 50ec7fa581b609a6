"""The contract suites: readable JSON in data_contracts/, in step with the rule table, the
schema, the README, Great Expectations and the SQL compiler."""

from __future__ import annotations

import json

import pytest

from pipelines.contracts.compile import compile_suite
from pipelines.contracts.docs import render_readme
from pipelines.contracts.loader import offence_codes, runtime_parameters
from pipelines.contracts.schema import EXTRACTS
from pipelines.contracts.suites import RULES, build_suite, load_suite, suite_path, suite_text
from pipelines.paths import DATA_CONTRACTS_DIR
from tests.contracts.delivery import TODAY


@pytest.mark.parametrize("extract", list(EXTRACTS))
def test_committed_suite_is_the_built_suite(extract: str) -> None:
    assert suite_path(extract).read_text() == suite_text(extract), (
        "data_contracts/ is stale: run `python -m pipelines.contracts.docs`"
    )


def test_readme_is_generated_from_the_suites() -> None:
    expected = render_readme({e: load_suite(e) for e in EXTRACTS})
    assert (DATA_CONTRACTS_DIR / "README.md").read_text() == expected, (
        "data_contracts/README.md is stale: run `python -m pipelines.contracts.docs`"
    )


def test_readme_documents_every_rule_and_expectation() -> None:
    readme = (DATA_CONTRACTS_DIR / "README.md").read_text()
    for rule in RULES:
        assert f"`{rule}`" in readme
    for extract in EXTRACTS:
        for exp in load_suite(extract)["expectations"]:
            assert exp["meta"]["description"] in readme


@pytest.mark.parametrize("extract", list(EXTRACTS))
def test_suite_round_trips_through_great_expectations(extract: str) -> None:
    import great_expectations as gx

    data = load_suite(extract)
    suite = gx.ExpectationSuite(**json.loads(json.dumps(data)))
    assert suite.name == data["name"]
    assert len(suite.expectations) == len(data["expectations"])
    again = suite.to_json_dict()
    assert [e["type"] for e in again["expectations"]] == [e["type"] for e in data["expectations"]]
    assert [e["meta"]["rule"] for e in again["expectations"]] == [
        e["meta"]["rule"] for e in data["expectations"]
    ]


def test_every_rule_is_enforced_somewhere_and_names_are_known() -> None:
    used = {exp["meta"]["rule"] for e in EXTRACTS for exp in load_suite(e)["expectations"]}
    used |= {
        exp["meta"]["rule_if_parent_quarantined"]
        for e in EXTRACTS
        for exp in load_suite(e)["expectations"]
        if "rule_if_parent_quarantined" in exp["meta"]
    }
    assert used == set(RULES) | {"unlinked_soft_link"}


@pytest.mark.parametrize("extract", list(EXTRACTS))
def test_suite_agrees_with_schema(extract: str) -> None:
    spec = EXTRACTS[extract]
    suite = build_suite(extract)
    not_null = {
        e["kwargs"]["column"] for e in suite["expectations"] if e["meta"]["rule"] == "null_required"
    }
    assert not_null == set(spec.required_columns)
    unique = [
        e["kwargs"]["column"] for e in suite["expectations"] if e["meta"]["rule"] == "duplicate_key"
    ]
    assert unique == ([spec.key] if spec.key else [])
    typed = {
        e["kwargs"]["column"]
        for e in suite["expectations"]
        if e["type"] == "expect_column_values_to_be_in_type_list"
    }
    assert typed == {c.name for c in spec.columns if c.type != "string"}


@pytest.mark.parametrize("extract", list(EXTRACTS))
def test_every_critical_expectation_compiles_to_one_sql_check(extract: str) -> None:
    suite = load_suite(extract)
    compiled = compile_suite(
        suite, set(EXTRACTS[extract].column_names), runtime_parameters(TODAY, offence_codes())
    )
    critical = [e for e in suite["expectations"] if e["severity"] == "critical"]
    assert [c.rule for c in compiled.checks] == [e["meta"]["rule"] for e in critical]


def test_unknown_expectation_type_is_refused() -> None:
    suite = build_suite("breaches")
    suite["expectations"].append(
        {"type": "expect_column_to_exist", "kwargs": {"column": "x"}, "meta": {"rule": "r",
         "description": "d"}, "severity": "critical"}
    )  # fmt: skip
    with pytest.raises(ValueError, match="no SQL compilation"):
        parameters = runtime_parameters(TODAY, offence_codes())
        compile_suite(suite, set(EXTRACTS["breaches"].column_names), parameters)


def test_offence_codes_come_from_the_reference_seed() -> None:
    codes = offence_codes()
    assert "195/12" in codes and len(codes) == len(set(codes))
