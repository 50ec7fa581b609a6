"""One way to read the project's YAML (settings, mappings, dbt property files)."""

from __future__ import annotations

from typing import Any

import yaml

# libyaml's loader where it is installed: the same safe subset of YAML as yaml.SafeLoader, and
# the pure-Python loader spent 0.2-0.4 s of CPU per run on the settings and dbt's YAML files.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """The document in `text`, read as yaml.safe_load reads it."""
    return yaml.load(text, Loader=SAFE_LOADER)
