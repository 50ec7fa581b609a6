"""The project's table materialization (dbt_project/macros/materializations/table_in_place.sql):
a rebuilt table replaces the old one in one transaction, a failed build leaves the old table as
it was, and what it does not support fails loudly. Run on a two-model dbt project that uses the
project's macro file, with the same adapter and an enforced contract like the marts'."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.dbt_project import DbtRunFailed, _invoke
from pipelines.paths import DBT_PROJECT_DIR

MACRO = DBT_PROJECT_DIR / "macros" / "materializations" / "table_in_place.sql"

MODELS_YML = """
version: 2
models:
  - name: answer
    config:
      contract: {enforced: true}
    columns:
      - name: value
        data_type: integer
        constraints: [{type: not_null}]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "macros").mkdir()
    shutil.copy(MACRO, root / "macros" / MACRO.name)
    (root / "dbt_project.yml").write_text(
        "name: materialization_check\nversion: '1.0'\nprofile: materialization_check\n"
        "models:\n  materialization_check:\n    +materialized: table\n"
    )
    (root / "profiles.yml").write_text(
        "materialization_check:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: '{tmp_path / 'warehouse.duckdb'}'\n      threads: 1\n"
    )
    # The value comes from a table the test writes, not a var: dbt re-parses a project whose
    # vars changed, and the test would pay a parse per build.
    (root / "models" / "answer.sql").write_text("select value from main.given\n")
    (root / "models" / "_models.yml").write_text(MODELS_YML)
    return root


def _build(project: Path, value: str, model: str = "answer") -> None:
    with duckdb.connect(str(project.parent / "warehouse.duckdb")) as con:
        con.execute(f"create or replace table main.given as select {value}::integer as value")
    _invoke(
        [
            "run", "--select", model,
            "--project-dir", str(project), "--profiles-dir", str(project),
            "--target-path", str(project / "target"), "--log-path", str(project / "target"),
            "--no-send-anonymous-usage-stats",
        ]
    )  # fmt: skip


def _tables(project: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(project.parent / "warehouse.duckdb"), read_only=True) as con:
        tables = con.execute("select table_name from duckdb_tables() where table_name != 'given'")
        names = [row[0] for row in tables.fetchall()]
        return {name: con.execute(f'select * from "{name}"').fetchall() for name in names}


def test_rebuilt_in_place_kept_when_the_build_fails_and_unsupported_configs_refused(
    project: Path,
) -> None:
    # The table a previous run left (made here directly: one dbt invocation fewer).
    with duckdb.connect(str(project.parent / "warehouse.duckdb")) as con:
        con.execute("create table main.answer as select 1::integer as value")
    _build(project, "2")
    # Replaced, not appended; no temporary or backup table left beside it.
    assert _tables(project) == {"answer": [(2,)]}
    # A null breaks the contract's not-null constraint: the build fails inside the transaction
    # that dropped the old table, and the rollback brings it back.
    with pytest.raises(DbtRunFailed):
        _build(project, "null")
    assert _tables(project) == {"answer": [(2,)]}
    # What it does not support fails the build instead of being left out.
    (project / "models" / "sorted.sql").write_text(
        "{{ config(sorted_by=['value']) }}\nselect 1 as value\n"
    )
    with pytest.raises(DbtRunFailed, match="plain tables"):
        _build(project, "3", model="sorted")
    assert "sorted" not in _tables(project)
