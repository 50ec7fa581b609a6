"""The one-scan generic test `column_checks` (dbt_project/tests/generic/column_checks.sql): every
rule passes on good rows and fails on a broken column, and the failure names the model, the
column, the rule and how many rows break it, never a row's values.

A throwaway dbt project (the generic test, one model, a DuckDB file) keeps the rows under the
test's control; the project's models use the same file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.dbt_project import DbtRunFailed, _invoke
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


def _build(folder: Path) -> None:
    _invoke(
        [
            "build",
            "--project-dir", str(folder),
            "--profiles-dir", str(folder),
            "--target-path", str(folder / "target"),
            "--log-path", str(folder / "logs"),
            "--no-send-anonymous-usage-stats",
            "--no-use-colors",
        ],
        warehouse=folder / "warehouse.duckdb",
    )  # fmt: skip


@pytest.fixture(scope="module")
def probe_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for both builds: the second parses only the changed model (a full parse of
    a new dbt project costs ~10 s)."""
    return tmp_path_factory.mktemp("column_checks_probe")


def test_good_rows_pass(probe_folder: Path) -> None:
    _build(_project(probe_folder, GOOD_ROWS))


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


def test_broken_columns_fail_naming_column_rule_and_count(probe_folder: Path) -> None:
    with pytest.raises(DbtRunFailed) as failure:
        _build(_project(probe_folder, [*GOOD_ROWS, *BROKEN_ROWS]))
    message = str(failure.value)
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
    assert message.count(" fails ") == len(expected)
    # No row's values in the message: they may be personal.
    for value in ("P-ALICE", "P-CAROL", "P-DAVE", "bystander", "P-GINA"):
        assert value not in message
