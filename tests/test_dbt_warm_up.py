"""The parse a run's ingest starts in the background (dbt_project.start_warm_up) is the one the
dbt steps then use: one parse at most, not two; and the manifest `prepare` keeps stands for a
parse only while nothing it was parsed from has changed."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines import dbt_project
from pipelines.settings import dbt_vars, load_settings


def test_the_dbt_steps_reuse_the_warm_up_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dbt_project, "_MANIFESTS", {})
    parses: list[list[str]] = []
    invoke = dbt_project._invoke

    def counting_invoke(args: Any, *rest: Any, **kwargs: Any) -> Any:
        if args[0] == "parse":
            parses.append(list(args))
        return invoke(args, *rest, **kwargs)

    monkeypatch.setattr(dbt_project, "_invoke", counting_invoke)
    variables = dbt_vars(load_settings())
    dbt_project.start_warm_up(variables).join()
    # A parse, or none where the kept manifest still stands for one.
    assert len(parses) <= 1
    warm_up_parses = len(parses)
    # What run_dbt asks for (the step's vars, parsed as the settings file's but for
    # PARSE_SECTIONS) is what the warm-up loaded: no second parse.
    manifest = dbt_project.project_manifest(dbt_project._parse_variables(variables))
    assert len(parses) == warm_up_parses
    assert manifest is next(iter(dbt_project._MANIFESTS.values()))


def _writable(manifest: Any) -> dict[str, Any]:
    written = manifest.writable_manifest().to_dict()
    written.pop("metadata")  # the parse's time and invocation id
    return written


def test_the_kept_manifest_is_the_parse_until_a_project_file_changes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    variables = dbt_project._parse_variables(dbt_vars(load_settings()))
    key = dbt_project._manifest_key(variables, dbt_project.DBT_TARGET)
    monkeypatch.setattr(dbt_project, "_MANIFESTS", {})
    monkeypatch.setattr(dbt_project, "_kept_manifest_file", lambda: tmp_path / "kept.pickle")
    monkeypatch.setattr(dbt_project, "_prepared_stamp", lambda: key)
    assert dbt_project._kept_manifest(key) is None
    parsed = dbt_project.project_manifest(variables)  # parses, and keeps what it parsed
    kept = dbt_project._kept_manifest(key)
    assert kept is not None and kept is not parsed
    assert _writable(kept) == _writable(parsed)
    # Other vars or target than it was parsed with: not the same parse.
    assert dbt_project._kept_manifest(key.replace('"target"', '"other"')) is None
    # A project file added (or changed, or removed): dbt must parse again.
    project_files = dbt_project._project_files()
    added = tmp_path / "new_model.sql"
    added.write_text("select 1 as x\n")
    monkeypatch.setattr(dbt_project, "_project_files", lambda: [*project_files, added])
    assert dbt_project._kept_manifest(key) is None


def test_the_warm_up_builds_what_the_first_invocation_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every dbt contract the first invocation validates against has its schema built by the
    warm-up: a dbt upgrade that moves one would fail here, not silently slow the first step."""
    import dbt_common.dataclass_schema as dataclass_schema

    dbt_project._prepare_first_invocation()
    built: list[str] = []
    build = dataclass_schema.build_json_schema

    def recording_build(cls: Any, *args: Any, **kwargs: Any) -> Any:
        built.append(cls.__name__)
        return build(cls, *args, **kwargs)

    monkeypatch.setattr(dataclass_schema, "build_json_schema", recording_build)
    dbt_project.run_dbt("parse", "--quiet", "--no-write-json")
    assert built == []
