"""Every printing declaration of the reporting models' YAML checked once, here, rather than by
the report code on every run: column kinds and disclosure rules (and the columns a rule rests
on), the labels of printed views, workbook columns, and every model and column a profile
section's item names (each must be a column of the model's enforced contract, so a renamed
column fails this test, not a quarterly run)."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from pipelines.paths import DBT_PROJECT_DIR
from pipelines.report.printed import NUMERIC_KINDS, REPORTING_MODELS, _models
from pipelines.report.sections import CHARTS, ITEMS, SECTION_VALUES, SECTIONS, SENTENCES

KINDS = ("count", "number", "rate", "text", "date", "flag")
RULES = ("none", "count", "rate", "attribute_rate", "subset", "median", "derived", "change")
RULES_WITH_WHOLE = ("rate", "attribute_rate", "subset", "median")
RULES_FROM = ("derived", "change")
# The keys of an item kind that name columns of its model
ITEM_COLUMNS = {"paragraphs": ("column", "order_by"), "table": ("order_by",)}
MODEL_KEYS = ("table", "compared", "figures", "paragraphs", "model")


def _meta(entry: dict[str, Any]) -> dict[str, Any]:
    return (entry.get("config") or {}).get("meta") or {}


def _columns(models: dict[str, dict], model: str) -> dict[str, dict[str, Any]]:
    return {column["name"]: _meta(column) for column in models[model].get("columns", [])}


def column_problems(models: dict[str, dict]) -> Iterator[str]:
    """Each column's kind and rule, and the columns its rule rests on."""
    for model in models:
        declared = _columns(models, model)
        for name, meta in declared.items():
            where, rule = f"{model}.{name}", meta.get("disclosure")
            if "kind" in meta and meta["kind"] not in KINDS:
                yield f"{where}: unknown kind {meta['kind']!r}"
            if rule is not None and rule not in RULES:
                yield f"{where}: unknown disclosure rule {rule!r}"
            if (rule in RULES_WITH_WHOLE) != (meta.get("of") in declared):
                yield f"{where}: a {rule} rule needs `of` (a column of the model)"
            named = meta.get("from") or []
            if (rule in RULES_FROM) != bool(named) or not set(named) <= set(declared):
                yield f"{where}: a {rule} figure names its `from` columns"


def view_problems(models: dict[str, dict]) -> Iterator[str]:
    """Printed views (a kind, a label, a rule for a figure) and workbook columns."""
    for model, spec in models.items():
        declared = _columns(models, model)
        for view, names in _meta(spec).get("printed_as", {}).items():
            for name in names:
                meta, where = declared.get(name), f"{model}.{name} in {view}"
                if meta is None or meta.get("kind") not in KINDS:
                    yield f"{where}: not declared with a kind"
                elif "label" not in meta:
                    yield f"{where}: printed without a label"
        for sheet, columns in _meta(spec).get("written_as", {}).items():
            for column in columns:
                if ("value" in column) == ("formula" in column):
                    yield f"{model}, {sheet}: {column['label']!r} needs a value or a formula"
                named = [column.get(key) for key in ("value", "formula", "number_format_from")]
                if [n for n in named if n is not None and n not in declared]:
                    yield f"{model}, {sheet}: {column['label']!r} names no column of the model"


def _items(items: list[dict]) -> Iterator[dict]:
    for spec in items:
        yield spec
        yield from _items(spec.get("group", []))


def item_problems(models: dict[str, dict]) -> Iterator[str]:
    """Every model and column a section item names is in the reporting layer's contracts."""
    values = _columns(models, SECTION_VALUES)
    for section, items in _meta(models[SECTIONS])["items"].items():
        for spec in _items(items):
            kind, where = next(iter(spec)), f"{section}: {next(iter(spec))} item"
            if kind not in ITEMS:
                yield f"{where}: unknown item kind"
                continue
            for condition in ("when", "unless"):
                if condition in spec and spec[condition] not in values:
                    yield f"{where}: {spec[condition]!r} is no column of {SECTION_VALUES}"
            if kind == "chart" and spec["chart"] not in CHARTS:
                yield f"{where}: unknown chart kind {spec['chart']!r}"
            if kind == "chart" and "points" not in spec:
                yield f"{where}: a chart names its `points` (a chart of rpt_profile_chart_points)"
            model = spec.get(kind if kind in MODEL_KEYS else "model")
            if kind in ("sentence", "text", "sentences", "gaps") and "model" not in spec:
                model = SENTENCES
            if model is None:
                continue
            if model not in models:
                yield f"{where}: {model!r} is no reporting model"
                continue
            meta, declared = _meta(models[model]), _columns(models, model)
            columns = [spec[key] for key in ITEM_COLUMNS.get(kind, ()) if key in spec]
            columns += list(spec.get("filter") or {})
            if kind == "table" and spec["view"] not in meta.get("printed_as", {}):
                yield f"{where}: {model} has no printed view {spec['view']!r}"
            for name in meta.get("printed_as", {}).get(spec["view"], []) if kind == "table" else []:
                column = declared.get(name) or {}
                if column.get("kind") in NUMERIC_KINDS and column.get("disclosure") is None:
                    yield f"{where}: {model}.{name}, a published figure, needs a disclosure rule"
            if kind in ("compared", "figures"):
                key = "compared_by_quarter" if kind != "figures" else "printed_as"
                if key not in meta:
                    yield f"{where}: {model} declares no {key}"
            for column in columns:
                for name in re.findall(r"[a-z_][a-z0-9_]*", str(column)):
                    if name not in declared and name not in ("asc", "desc", "nulls", "last"):
                        yield f"{where}: {name!r} is no column of {model}"
            for kpi in spec.get("kpis", []):
                kpi_columns = [kpi["column"]] if "column" in kpi else kpi["share"]
                if not set(kpi_columns) <= set(_columns(models, kpi["figures"])):
                    yield f"{where}: {kpi_columns} not all columns of {kpi['figures']}"
            for kind_name in (spec["sentences"],) if kind == "sentences" else ():
                if kind_name not in _meta(models[SENTENCES]).get("sentences_in", {}):
                    yield f"{where}: {SENTENCES} lists no sentences for {kind_name!r}"


def problems(models: dict[str, dict]) -> list[str]:
    return [*column_problems(models), *view_problems(models), *item_problems(models)]


def test_every_reporting_declaration_holds() -> None:
    assert problems(_models()) == []


def test_every_reporting_model_enforces_its_contract() -> None:
    # The items' columns are checked against the YAML's columns; the enforced contract (the
    # reporting folder's `+contract`) makes those the built table's columns exactly, unless a
    # model turns it off for itself (its YAML's or its SQL's config).
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    reporting = project["models"][project["name"]]["reporting"]
    assert reporting["+contract"] == {"enforced": True}
    for model, spec in _models().items():
        assert spec.get("columns"), model
        assert all("data_type" in column for column in spec["columns"]), model
        own = (spec.get("config") or {}).get("contract") or {}
        assert own.get("enforced", True), f"{model} turns its contract off in its YAML"
        sql = (REPORTING_MODELS / f"{model}.sql").read_text(encoding="utf-8")
        assert not re.search(r"config\([^)]*contract", sql), f"{model} sets its contract in SQL"


@pytest.mark.parametrize(
    ("broken", "found"),
    [
        (lambda m: m["rpt_profile_districts"]["columns"][1]["config"]["meta"].update(
            disclosure="made_up"), "unknown disclosure rule"),
        (lambda m: m["rpt_fms_financial_years"]["config"]["meta"]["written_as"]["Projection"]
            [0].update(formula="series"), "needs a value or a formula"),
        (lambda m: m[SECTIONS]["config"]["meta"]["items"]["victims"].append(
            {"paragraphs": SENTENCES, "column": "no_such_column", "order_by": "quarter"}),
            "'no_such_column' is no column"),
        (lambda m: m[SECTIONS]["config"]["meta"]["items"]["victims"].append(
            {"table": "rpt_no_such_model", "view": "profile"}), "is no reporting model"),
        (lambda m: m[SECTIONS]["config"]["meta"]["items"]["victims"].append(
            {"paragraph": "words"}), "unknown item kind"),
        (lambda m: m[SECTIONS]["config"]["meta"]["items"]["victims"].append(
            {"chart": "lines", "div": "chart-x"}), "names its `points`"),
    ],
)  # fmt: skip
def test_a_broken_declaration_is_found(broken, found: str) -> None:
    models = copy.deepcopy(_models())
    broken(models)
    assert any(found in problem for problem in problems(models)), problems(models)
