"""The SQL lint (`sqlfluff lint dbt_project/models`, run by tasks.py and `make lint`) parses with
sqlfluff's Rust parser (pyproject.toml: use_rust_parser), which it must do without reporting
anything other than the Python parser would: on real models with seeded violations, both parsers
give the same parse tree and the same violations, the seeded ones among them.

The models are rendered here by sqlfluff's jinja templater (ref() and source() as dbt's
builtins), not the lint's dbt templater, which would parse the whole dbt project first: what is
compared is the parse and the rules, which see the same SQL either way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlfluff.core import FluffConfig, Linter

ROOT = Path(__file__).resolve().parents[1]
# Real models whose only jinja is ref(), source() and config(). Every model was compared once
# with every rule on (docs/DESIGN.md); this one (CTEs, unions, generate_series, intervals) keeps the
# check running at a few seconds of CPU.
MODELS = ("dbt_project/models/marts/profile/demand_series.sql",)


def _seeded(sql: str) -> tuple[str, dict[str, int]]:
    """The model with three violations planted, and the line each rule should report them on:
    an upper-case keyword (CP01), trailing whitespace (LT01) and a line over 120 characters
    (LT05)."""
    lines = sql.splitlines()
    select_line = next(i for i, line in enumerate(lines) if line.lstrip().startswith("select"))
    lines[select_line] = lines[select_line].replace("select", "SELECT", 1)
    from_line = next(i for i, line in enumerate(lines) if line.lstrip().startswith("from "))
    lines[from_line] += "   "
    lines.insert(0, "-- " + "a comment far too long for the project's line length " * 3)
    # Line numbers are 1-based, and the comment pushed every line down one.
    return "\n".join(lines) + "\n", {
        "CP01": select_line + 2,
        "LT01": from_line + 2,
        "LT05": 1,
    }


def _lint(sql: str, rust: bool) -> tuple[str, list[tuple[str, int, int, str]]]:
    """The parse tree and the violations of the project's lint rules, with one parser."""
    config = FluffConfig.from_path(
        str(ROOT), overrides={"templater": "jinja", "use_rust_parser": rust}
    )
    linted = Linter(config=config).lint_string(sql, fname="model.sql")
    assert linted.tree is not None
    violations = sorted((v.rule_code(), v.line_no, v.line_pos, v.desc()) for v in linted.violations)
    # A jinja block's id is drawn afresh at every render, by either parser.
    return re.sub(r"Block: '[0-9a-f]+'", "Block: ?", linted.tree.stringify()), violations


def test_the_lint_parses_with_the_rust_parser() -> None:
    import sqlfluffrs  # noqa: F401  (sqlfluff[rs]: its absence would only warn)

    assert FluffConfig.from_path(str(ROOT)).get("use_rust_parser") is True


@pytest.mark.parametrize("model", MODELS)
def test_the_rust_parser_reports_what_the_python_parser_reports(model: str) -> None:
    sql, planted = _seeded((ROOT / model).read_text())
    tree, violations = _lint(sql, rust=True)
    assert _lint(sql, rust=False) == (tree, violations)
    reported = {(code, line) for code, line, _, _ in violations}
    assert set(planted.items()) <= reported, violations
    # The model itself is clean: nothing but the planted violations is reported.
    assert {code for code, _, _, _ in violations} == set(planted), violations
