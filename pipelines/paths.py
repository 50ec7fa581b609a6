"""Where things live on disk. One place, so the CLI, Dagster and tests agree."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DBT_PROFILES_DIR = PROJECT_ROOT / "profiles"
DATA_CONTRACTS_DIR = PROJECT_ROOT / "data_contracts"
# Shared public reference data lives beside the project and is never copied into it.
SHARED_DATA_DIR = Path(os.environ.get("SPP_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))
# The delivery's reconciliation under OUT/YYYY-Qn/ (pipelines.publish.data_files writes it; the
# profile names it as the source of its data-quality table).
DATA_QUALITY_FILE = "data_quality.json"


def state_dir() -> Path:
    """Local state: DAGSTER_HOME, cached demo forces, the default warehouse. Git-ignored."""
    return Path(os.environ.get("SPP_STATE_DIR", PROJECT_ROOT / ".state"))


def default_output_dir() -> Path:
    return Path(os.environ.get("SPP_OUTPUT_DIR", PROJECT_ROOT / "output"))


def default_warehouse() -> Path:
    return Path(os.environ.get("SPP_WAREHOUSE", state_dir() / "warehouse.duckdb"))


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME under the state folder, with telemetry off (nothing phones home)."""
    home = Path(os.environ.get("DAGSTER_HOME", state_dir() / "dagster_home"))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return home
