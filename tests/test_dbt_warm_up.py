"""The parse a run's ingest starts in the background (dbt_project.start_warm_up) is the one the
dbt steps then use: one parse, not two."""

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
    assert len(parses) == 1
    # What run_dbt asks for (the step's vars, parsed as the settings file's but for
    # PARSE_SECTIONS) is what the warm-up parsed: no second parse.
    manifest = dbt_project.project_manifest(dbt_project._parse_variables(variables))
    assert len(parses) == 1
    assert manifest is next(iter(dbt_project._MANIFESTS.values()))
