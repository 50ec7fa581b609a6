"""The analytics sections of settings.yaml are validated on load."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipelines.settings import RfgvSettings, Settings


@pytest.mark.parametrize(
    "bands",
    [
        {"frequency_band_min_crimes": [1, 2], "frequency_band_points": [2, 4, 6]},
        {"gravity_band_min_days": [30, 1], "gravity_band_points": [2, 4]},
    ],
)
def test_bad_rfgv_bands_are_rejected(bands: dict[str, list[int]]) -> None:
    with pytest.raises(ValidationError):
        RfgvSettings(**bands)


def test_unknown_screening_key_is_an_error() -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate({"screening": {"treshold": 3}})


def test_every_section_the_sql_reads_has_a_lint_fallback() -> None:
    import re

    from pipelines.paths import DBT_PROJECT_DIR
    from pipelines.settings import DBT_SQL_SECTIONS

    used = {
        match
        for path in DBT_PROJECT_DIR.rglob("*.sql")
        if "target" not in path.parts
        for match in re.findall(r"setting\('([a-z_]+)'\)", path.read_text())
    }
    assert used and used <= set(DBT_SQL_SECTIONS)
