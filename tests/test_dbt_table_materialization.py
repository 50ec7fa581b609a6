"""The project's table and view materializations (dbt_project/macros/materializations/
table_in_place.sql, view_in_place.sql, rebuild_in_transaction.sql): a rebuilt table or view
replaces the old one in one transaction, a failed build leaves the old relation as it was, and
what they do not support fails loudly. Run on a small dbt project that uses the project's
materialization macros, with the same adapter and an enforced contract like the marts' and the
reporting views'."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.dbt_project import DbtRunFailed, _invoke
from pipelines.paths import DBT_PROJECT_DIR

MATERIALIZATIONS = DBT_PROJECT_DIR / "macros" / "materializations"

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
  - name: answer_view
    config:
      materialized: view
      contract: {enforced: true}
    columns:
      - name: value
        data_type: integer
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "macros").mkdir()
    for macro in MATERIALIZATIONS.glob("*.sql"):
        shutil.copy(macro, root / "macros" / macro.name)
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
    (root / "models" / "answer_view.sql").write_text("select value from main.given\n")
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


def _tables(project: Path, kind: str = "tables") -> dict[str, list[tuple]]:
    """The rows of every table (or view) the builds left, by name."""
    with duckdb.connect(str(project.parent / "warehouse.duckdb"), read_only=True) as con:
        relations = con.execute(f"select {kind[:-1]}_name from duckdb_{kind}() where not internal")
        names = [row[0] for row in relations.fetchall() if row[0] != "given"]
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
    # A column the contract does not declare, and a declared one missing: the contract's check
    # fails the build before the table is replaced.
    (project / "models" / "answer.sql").write_text("select value as other from main.given\n")
    with pytest.raises(DbtRunFailed, match="contract of answer not met") as failed:
        _build(project, "3")
    assert "other: INTEGER, missing" in str(failed.value)
    assert "value: missing, INTEGER" in str(failed.value)
    assert _tables(project) == {"answer": [(2,)]}
    # What it does not support fails the build instead of being left out.
    (project / "models" / "sorted.sql").write_text(
        "{{ config(sorted_by=['value']) }}\nselect 1 as value\n"
    )
    with pytest.raises(DbtRunFailed, match="plain tables"):
        _build(project, "3", model="sorted")
    assert "sorted" not in _tables(project)


def test_view_rebuilt_in_place_kept_when_the_build_fails(project: Path) -> None:
    # A view a previous run left, and a table where a view is now declared (a model whose
    # materialization changed): each is replaced by the view.
    for previous_kind, value in (("view", 2), ("table", 3)):
        with duckdb.connect(str(project.parent / "warehouse.duckdb")) as con:
            con.execute("drop view if exists main.answer_view")
            con.execute(f"create {previous_kind} main.answer_view as select 1::integer as value")
        _build(project, str(value), model="answer_view")
        assert _tables(project, "views") == {"answer_view": [(value,)]}
        assert _tables(project) == {}
    # The model's columns no longer match its contract: the build fails and the old view stays.
    (project / "models" / "answer_view.sql").write_text(
        "select value::varchar as value from main.given\n"
    )
    with pytest.raises(DbtRunFailed, match="contract of answer_view not met") as failed:
        _build(project, "4", model="answer_view")
    # The contract's check (contract_in_build.sql) names the column and both types.
    assert "value: VARCHAR, INTEGER" in str(failed.value)
    # The old view (its query reads the new value) with its integer column.
    assert _tables(project, "views") == {"answer_view": [(4,)]}
    with duckdb.connect(str(project.parent / "warehouse.duckdb"), read_only=True) as con:
        column_type = con.execute(
            "select data_type from duckdb_columns() where table_name = 'answer_view'"
        ).fetchall()
    assert column_type == [("INTEGER",)]
    # Hooks would run outside the rebuild's transaction: refused, not run differently.
    (project / "models" / "hooked.sql").write_text(
        "{{ config(materialized='view', pre_hook='select 1') }}\nselect 1 as value\n"
    )
    with pytest.raises(DbtRunFailed, match="run no hooks"):
        _build(project, "5", model="hooked")
    assert "hooked" not in _tables(project, "views")
