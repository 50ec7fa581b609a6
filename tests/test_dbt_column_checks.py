"""The one-scan generic test `column_checks` (dbt_project/tests/generic/column_checks.sql): every
rule passes on good rows and fails on a broken column, and the failure names the model, the
column, the rule and how many rows break it, never a row's values. The same holds when the
model's own node runs the test (column_checks_in_build.sql, as the quarterly dbt steps do), and
the Dagster run reports every such test as its model's asset check.

A throwaway dbt project (the generic test, the project's materializations, one model, a DuckDB
file) keeps the rows under the test's control; the project's models use the same files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipelines.dbt_project import (
    DbtRunFailed,
    _invoke,
    dbt_project,
    failing_rules_in_build,
    folded_column_checks,
)
from pipelines.paths import DBT_PROJECT_DIR

GOOD_ROWS = [
    # (person_id, role, share, quarter, rank)
    "('P-ALICE-1', 'victim', 0.25, '2025-Q1', 1)",
    "('P-BOB-2', 'suspect', 1.0, '2025-Q1', 2)",
    "(null, 'victim', null, '2025-Q2', 1)",
]

CHECKS = """
version: 2
models:
  - name: people
    data_tests:
      - column_checks:
          arguments:
            columns:
              person_id: [unique]
              role: [not_null, {accepted_values: [victim, suspect]}]
              share: [{accepted_range: {min_value: 0, max_value: 1}}]
              quarter: [not_null]
            combinations:
              - [quarter, rank]
"""


def _project(folder: Path, rows: list[str]) -> Path:
    (folder / "models").mkdir(parents=True, exist_ok=True)
    (folder / "tests" / "generic").mkdir(parents=True, exist_ok=True)
    (folder / "macros").mkdir(parents=True, exist_ok=True)
    for macro in (DBT_PROJECT_DIR / "macros" / "materializations").glob("*.sql"):
        (folder / "macros" / macro.name).write_text(macro.read_text())
    (folder / "dbt_project.yml").write_text(
        "name: column_checks_probe\nversion: '1.0'\nprofile: probe\nconfig-version: 2\n"
    )
    (folder / "profiles.yml").write_text(
        "probe:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: '{folder / 'warehouse.duckdb'}'\n      threads: 1\n"
    )
    generic = DBT_PROJECT_DIR / "tests" / "generic" / "column_checks.sql"
    (folder / "tests" / "generic" / "column_checks.sql").write_text(generic.read_text())
    (folder / "models" / "_people.yml").write_text(CHECKS)
    (folder / "models" / "people.sql").write_text(
        "select * from (values\n    "
        + ",\n    ".join(rows)
        + "\n) as people (person_id, role, share, quarter, rank)\n"
    )
    return folder


def _probe_args(command: str, folder: Path) -> list[str]:
    return [
        command,
        "--project-dir", str(folder),
        "--profiles-dir", str(folder),
        "--target-path", str(folder / "target"),
        "--log-path", str(folder / "logs"),
        "--no-send-anonymous-usage-stats",
        "--no-use-colors",
    ]  # fmt: skip


def _build(folder: Path, in_model: bool = False) -> None:
    """dbt build of the probe; `in_model`: the test excluded by name, so that the model's node
    runs it, as a quarterly step does."""
    exclude = ["--exclude", _probe_test_name(folder)] if in_model else []
    _invoke([*_probe_args("build", folder), *exclude], warehouse=folder / "warehouse.duckdb")


def _probe_test_name(folder: Path) -> str:
    """The probe's test, as dbt names it (from a parse of the probe as it is now)."""
    import json

    _invoke(_probe_args("parse", folder))
    manifest = json.loads((folder / "target" / "manifest.json").read_text())
    (name,) = [n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    return name


@pytest.fixture(scope="module")
def probe_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for both builds: the second parses only the changed model (a full parse of
    a new dbt project costs ~10 s)."""
    return tmp_path_factory.mktemp("column_checks_probe")


def test_good_rows_pass(probe_folder: Path) -> None:
    _build(_project(probe_folder, GOOD_ROWS))
    # The model's node runs the same test when the test node is left out: it passes too.
    _build(probe_folder, in_model=True)
    statement = (folder_run_sql := probe_folder / "target" / "run").rglob("people.sql")
    assert "column_checks failed" in next(iter(statement)).read_text(), folder_run_sql


def _row(
    person_id: str | None, role: str | None, share: float, quarter: str | None, rank: int
) -> str:
    def literal(value: object) -> str:
        return "null" if value is None else f"'{value}'" if isinstance(value, str) else str(value)

    return f"({', '.join(literal(v) for v in (person_id, role, share, quarter, rank))})"


# Each rule broken by a different number of rows (all on new quarter-rank pairs and person ids
# but where a rule is meant to break), so a count reported against the wrong rule shows.
BROKEN_ROWS = [
    # person_id unique: P-ALICE-1 twice more, 2 rows beyond the first.
    *(_row("P-ALICE-1", "victim", 0.5, "2025-Q4", rank) for rank in (10, 11)),
    # role not_null: 1 row (a null role passes accepted_values, as in dbt's test).
    _row("P-CAROL-3", None, 0.5, "2025-Q4", 12),
    # role accepted_values: 3 rows.
    *(_row(f"P-DAVE-{rank}", "bystander", 0.5, "2025-Q4", rank) for rank in (13, 14, 15)),
    # share accepted_range [0, 1]: 4 rows, above and below.
    *(_row(f"P-ERIN-{rank}", "victim", share, "2025-Q4", rank)
      for rank, share in ((16, 1.5), (17, -0.1), (18, 2.0), (19, 7.0))),
    # quarter not_null: 5 rows.
    *(_row(f"P-FRED-{rank}", "suspect", 0.5, None, rank) for rank in range(20, 25)),
    # (quarter, rank) unique together: 6 more rows of 2025-Q1 rank 2 (P-BOB-2's).
    *(_row(f"P-GINA-{n}", "suspect", 0.5, "2025-Q1", 2) for n in range(6)),
]  # fmt: skip


@pytest.mark.parametrize("in_model", [False, True], ids=["test_node", "in_model_node"])
def test_broken_columns_fail_naming_column_rule_and_count(
    probe_folder: Path, in_model: bool
) -> None:
    with pytest.raises(DbtRunFailed) as failure:
        _build(_project(probe_folder, [*GOOD_ROWS, *BROKEN_ROWS]), in_model=in_model)
    message = str(failure.value)
    # Run by the model's node when its test node is left out (the materialization's words).
    assert ("column_checks failed" in message) == in_model
    expected = [
        "people.person_id fails unique: 2 row(s)",
        "people.role fails not_null: 1 row(s)",
        "people.role fails accepted_values: 3 row(s)",
        "people.share fails accepted_range [0, 1]: 4 row(s)",
        "people.quarter fails not_null: 5 row(s)",
        "people.quarter, rank fails unique_combination: 6 row(s)",
    ]
    for line in expected:
        assert line in message
    failing = {line.strip() for line in message.splitlines() if " fails " in line}
    if in_model:
        # Each rule once per line, after the test's unique id; the step reads them back so.
        (test, rules), *others = failing_rules_in_build(message).items()
        assert not others and test.startswith("test.column_checks_probe.column_checks_people")
        assert sorted(rules) == sorted(expected)
        failing = {line.split(": ", 1)[1] for line in failing}
    assert failing == set(expected)
    # No row's values in the message: they may be personal.
    for value in ("P-ALICE", "P-CAROL", "P-DAVE", "bystander", "P-GINA"):
        assert value not in message


def test_quarterly_steps_fold_the_column_checks_their_materializations_run() -> None:
    """Every column_checks test on a table or view model is run by its model's node in a
    quarterly step; those on seeds, sources and incremental models stay test nodes."""
    import json

    manifest = json.loads(dbt_project.manifest_path.read_text())
    nodes = manifest["nodes"]
    folded = folded_column_checks(manifest)
    column_checks = [
        (unique_id, node)
        for unique_id, node in nodes.items()
        if node["resource_type"] == "test"
        and (node.get("test_metadata") or {}).get("name") == "column_checks"
    ]
    assert len(folded) > 100
    for unique_id, node in column_checks:
        model = nodes.get(node.get("attached_node") or "")
        in_model = model is not None and model["config"]["materialized"] in {"table", "view"}
        assert (unique_id in folded) == in_model, unique_id
        if in_model:
            assert folded[unique_id] == node["name"]
    assert any(n["config"]["materialized"] == "incremental" for n in nodes.values())


def test_the_run_reports_every_dbt_test_as_an_asset_check(tiny_profile) -> None:
    """The session run's Dagster record: every planned asset check was evaluated, passed, and
    the column checks run inside their models' nodes are among them, on their models."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(tiny_profile.dagster_home)) as instance:
        runs = instance.get_run_records(dg.RunsFilter(job_name="quarterly_profile"), limit=1)
        run_id = runs[0].dagster_run.run_id

        def checks(event_type: dg.DagsterEventType) -> dict[tuple[str, str], Any]:
            records = instance.get_records_for_run(run_id, of_type=event_type).records
            return {
                (
                    record.event_log_entry.dagster_event.event_specific_data.asset_key.to_user_string(),
                    record.event_log_entry.dagster_event.event_specific_data.check_name,
                ): record.event_log_entry.dagster_event.event_specific_data
                for record in records
            }

        planned = checks(dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED)
        evaluated = checks(dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    assert set(evaluated) == set(planned)
    # Every dbt test passed (the GX contract checks may warn on the generated force).
    assert all(e.passed for (_, name), e in evaluated.items() if name != "contract")
    in_model = {
        key
        for key, evaluation in evaluated.items()
        if key[1].startswith("column_checks_") and "run_in_node" in evaluation.metadata
    }
    assert any(asset.startswith("reporting/") for asset, _ in in_model)
    assert any(asset.startswith("intermediate/") for asset, _ in in_model)


def test_a_models_outcome_becomes_each_folded_tests_check_outcome() -> None:
    """How the Dagster step reads the model node's outcome back into its tests' outcomes."""
    from types import SimpleNamespace

    from pipelines.assets.transform import _outcomes_in_build

    manifest = {
        "nodes": {
            "test.p.rules_a.1": {"attached_node": "model.p.a"},
            "test.p.rules_a_more.2": {"attached_node": "model.p.a"},
            "test.p.rules_b.3": {"attached_node": "model.p.b"},
            "test.p.rules_c.4": {"attached_node": "model.p.c"},
        }
    }
    folded = {test: test.split(".")[2] for test in manifest["nodes"]}

    def model_result(unique_id: str, status: str) -> SimpleNamespace:
        node_info = SimpleNamespace(unique_id=unique_id, node_status=status)
        return SimpleNamespace(
            info=SimpleNamespace(name="LogModelResult"), data=SimpleNamespace(node_info=node_info)
        )

    results = [
        model_result("model.p.a", "error"),
        model_result("model.p.b", "success"),
        model_result("model.p.c", "error"),
    ]
    errors = [
        "Runtime Error in model a (models/a.sql)\n  Invalid Input Error: column_checks failed:\n"
        "  test.p.rules_a.1: a.x fails not_null: 3 row(s)\n"
        "  test.p.rules_a.1: a.y, z fails unique_combination: 1 row(s)",
        "Runtime Error in model c (models/c.sql)\n  Binder Error: no such column",
    ]
    outcomes = _outcomes_in_build(manifest, folded, results, errors)
    assert outcomes == {
        "test.p.rules_a.1": [
            "a.x fails not_null: 3 row(s)",
            "a.y, z fails unique_combination: 1 row(s)",
        ],
        "test.p.rules_a_more.2": [],  # ran in the same statement and passed
        "test.p.rules_b.3": [],  # its model built: every rule passed
        # model c failed before its checks ran: no outcome, as a test skipped after its model
    }
