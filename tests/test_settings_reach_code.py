"""Every setting reaches the code that uses it, and the defaults have one meaning.

A key that is validated but never read would let a force change a threshold and see nothing
happen. The dbt sections must be read by SQL through `setting('<section>')` (`['<key>']`); the
Python sections through their typed section (`<section>.<key>`) or the parameter dataclass
built from it (`HotspotParams`, `ForecastParams`, `PredictParams`), which copy fields by name.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from pipelines.forecasting.core import ForecastParams
from pipelines.hotspots.core import HotspotParams
from pipelines.hotspots.predict import PredictParams
from pipelines.paths import DBT_PROJECT_DIR, PROJECT_ROOT
from pipelines.settings import DBT_SQL_SECTIONS, DEFAULT_SETTINGS_FILE, Settings, load_settings

# File by file: a key counts as read only where its own section is, so that a key of a common
# name (`seed`, `months`) is not found read in some other section's file.
PYTHON = [
    p.read_text(encoding="utf-8")
    for p in (PROJECT_ROOT / "pipelines").rglob("*.py")
    if p.name != "settings.py"
]
SQL = [
    p.read_text(encoding="utf-8")
    for folder in ("models", "macros")
    for p in (DBT_PROJECT_DIR / folder).rglob("*.sql")
]
# Sections turned into a parameter dataclass field by field (from_settings).
DATACLASS_FIELDS = {
    "hotspots": {f.name for f in dataclasses.fields(HotspotParams)},
    "hotspots.prediction": {f.name for f in dataclasses.fields(PredictParams)},
    "forecasting": {f.name for f in dataclasses.fields(ForecastParams)},
}


def _leaves(model: BaseModel, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            out += _leaves(value, (*prefix, name))
        else:
            out.append((*prefix, name))
    return out


def _read_by_code(path: tuple[str, ...]) -> bool:
    top, section, key = path[0], ".".join(path[:-1]), path[-1]
    # dbt: `setting('<section>')['<key>']`, or the section held in a Jinja variable, in a file
    # that reads the section; some dbt sections are also read by Python writers (e.g. the FMS
    # workbook's assumptions).
    reads_section = rf"setting\(\s*['\"]{top}['\"]\s*\)"
    reads_key = rf"\[['\"]{key}['\"]\]|\.{key}\b"
    if top in DBT_SQL_SECTIONS and any(
        re.search(reads_section, sql) and re.search(reads_key, sql) for sql in SQL
    ):
        return True
    if key in DATACLASS_FIELDS.get(section, set()):
        return True
    # `settings.<section>.<key>`, or a typed section held in a variable: `<name>.<key>`
    # where the section is passed (e.g. `ingest.duckdb_memory_limit`, `s.prediction`), in a
    # file that names the section.
    return any(
        re.search(rf"\b{top}\b", python) and re.search(rf"\.{key}\b", python) for python in PYTHON
    )


@pytest.mark.parametrize("path", _leaves(Settings()), ids=".".join)
def test_every_setting_is_read_by_the_code(path: tuple[str, ...]) -> None:
    assert _read_by_code(path), f"setting {'.'.join(path)} is never read"


def test_defaults_file_matches_the_model_defaults() -> None:
    """settings.yaml and the pydantic model state the same defaults, section by section, so
    code that receives no settings (a library call, a test) behaves as the default run."""
    loaded = load_settings(DEFAULT_SETTINGS_FILE)
    for section in type(loaded).model_fields:
        assert getattr(loaded, section) == getattr(Settings(), section), section


def test_no_logic_module_loads_settings_itself() -> None:
    """Settings are loaded at the edge (CLI, Dagster resources and sensors, evaluation entry
    points, the dbt helper) and passed down as typed objects."""
    edge = {"cli.py", "settings.py", "resources.py", "dbt_project.py", "automation.py"}
    offenders = [
        str(p.relative_to(PROJECT_ROOT))
        for p in (PROJECT_ROOT / "pipelines").rglob("*.py")
        if p.name not in edge
        and "evaluation" not in p.parts
        and "load_settings(" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_the_run_reads_the_settings_file_it_was_given(tmp_path: Path) -> None:
    """--config reaches the assets through the run's resource, not an environment variable."""
    from pipelines.resources import build_resources

    config = tmp_path / "force.yaml"
    config.write_text("disclosure:\n  min_count: 7\n", encoding="utf-8")
    run = build_resources(tmp_path, tmp_path, tmp_path / "wh.duckdb", config_file=config)
    assert run["profile_run"].settings().disclosure.min_count == 7
    default = build_resources(tmp_path, tmp_path, tmp_path / "wh.duckdb")
    assert default["profile_run"].settings().disclosure.min_count == Settings().disclosure.min_count
