"""run_dbt parses the project with the settings file's vars but for PARSE_SECTIONS, and passes
each invocation's own vars (a test's or an evaluation's settings) to that manifest: right only
while no other setting changes what the parse records. This parses the project with every other
setting changed and checks that the parse records the same graph and configs; the SQL, rendered
when dbt compiles, follows the invocation's vars (tests/report/test_fms_outputs.py: other seeds
draw other dip samples)."""

from __future__ import annotations

from typing import Any

from pipelines.dbt_project import PARSE_SECTIONS, project_manifest
from pipelines.settings import dbt_vars, load_settings


def _changed(value: Any) -> Any:
    """Every boolean flipped and every number moved, recursively (strings and lists kept: they
    name categories and columns the models need)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, dict):
        return {key: _changed(item) for key, item in value.items()}
    return value


def _parse_record(manifest: Any) -> dict[str, Any]:
    record = {}
    for unique_id, node in manifest.nodes.items():
        # A seed refuses to be asked for refs (dbt raises): it has none.
        is_seed = node.resource_type == "seed"
        record[unique_id] = {
            "config": node.config.to_dict(),
            "depends_on": sorted(getattr(node.depends_on, "nodes", [])),
            # dbt's own macros join a node's list when it is executed (the test
            # materialization's), and a partial parse keeps them from an earlier build in the same
            # target: only the project's macros are what the parse itself records.
            "macros": sorted(m for m in node.depends_on.macros if not m.startswith("macro.dbt.")),
            "refs": [] if is_seed else sorted(str(ref) for ref in node.refs),
            "sources": [] if is_seed else sorted(str(source) for source in node.sources),
            "test": getattr(getattr(node, "test_metadata", None), "kwargs", None),
        }
    return record


def test_the_parse_reads_no_setting_but_the_parse_sections() -> None:
    settings_vars = dbt_vars(load_settings())
    changed = {
        section: values if section in PARSE_SECTIONS else _changed(values)
        for section, values in settings_vars.items()
    }
    assert changed != settings_vars
    # Copied before the second parse: dbt may reuse node objects between parses.
    as_parsed = _parse_record(project_manifest(settings_vars))
    assert _parse_record(project_manifest(changed)) == as_parsed
