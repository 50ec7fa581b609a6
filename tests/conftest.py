"""Shared fixtures: a tiny synthetic force and ONE end-to-end profile run on it per session,
so every test that reads real pipeline outputs shares the same (slow-ish) materialisation."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

# Dagster and dbt state of the test session stay out of the project's .state/ folder.
_SESSION_STATE = Path(tempfile.mkdtemp(prefix="spp-tests-"))
os.environ["SPP_STATE_DIR"] = str(_SESSION_STATE)
os.environ["DAGSTER_HOME"] = str(_SESSION_STATE / "dagster_home")
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"

TINY_SEED = 7
TINY_END_QUARTER = "2025-Q4"
TINY_RUN_DATE = "2026-01-15"


@dataclass(frozen=True)
class ProfileRunOutputs:
    extracts: Path
    out: Path
    warehouse: Path
    quarter: str

    @property
    def quarter_dir(self) -> Path:
        return self.out / self.quarter


@pytest.fixture(scope="session")
def tiny_force(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny synthetic force's extracts (with ground truth in truth/)."""
    from pipelines.synthetic import generate_force

    folder = tmp_path_factory.mktemp("tiny_force")
    generate_force(
        scale="tiny", seed=TINY_SEED, out_dir=folder, end_quarter=TINY_END_QUARTER, years=5
    )
    return folder


@pytest.fixture(scope="session")
def tiny_profile(tiny_force: Path, tmp_path_factory: pytest.TempPathFactory) -> ProfileRunOutputs:
    """The whole quarterly job run once through Dagster on the tiny force, via the CLI."""
    from pipelines.cli import main

    root = tmp_path_factory.mktemp("tiny_profile")
    outputs = ProfileRunOutputs(
        extracts=tiny_force,
        out=root / "out",
        warehouse=root / "warehouse.duckdb",
        quarter=TINY_END_QUARTER,
    )
    code = main(
        [
            "profile",
            "--extracts", str(outputs.extracts),
            "--quarter", outputs.quarter,
            "--out", str(outputs.out),
            "--warehouse", str(outputs.warehouse),
            "--run-date", TINY_RUN_DATE,
        ]
    )  # fmt: skip
    assert code == 0, "spp profile failed on the tiny force"
    return outputs
