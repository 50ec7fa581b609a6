"""Printed restricted products carry OFFICIAL-SENSITIVE on every page (Chromium's PDF of the
page, read back page by page). Skipped only where chromium is absent."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.settings import Settings
from tests.report.chromium import CHROMIUM, Browser, pdf_page_texts

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)
MARKING = "OFFICIAL-SENSITIVE"


def _printed_pages(path: Path) -> list[str]:
    with Browser() as browser:
        report = browser.open(path.as_uri(), settle=0.2)
        pdf = browser.pdf()
    assert not report.problems, report.problems[:3]
    return pdf_page_texts(pdf)


def test_every_printed_page_of_a_long_tasking_list_is_marked(tiny_profile, tmp_path) -> None:
    from pipelines.publish.tasking import PACK, render_pack_html
    from pipelines.report.printed import model_frames

    warehouse = tmp_path / "wh.duckdb"
    shutil.copy(tiny_profile.warehouse, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        data = model_frames(con, PACK, [tiny_profile.quarter])
    frame = data["listed"]
    assert len(frame)
    long = pd.concat([frame] * (60 // len(frame) + 1), ignore_index=True)  # several pages
    page = tmp_path / "pack.html"
    html = render_pack_html(
        {**data, "listed": long},
        tiny_profile.quarter,
        "Test force",
        dt.date(2026, 12, 1),
        lookback_years=Settings().perpetrators.serial_lookback_years,
    )
    page.write_text(html)
    pages = _printed_pages(page)
    assert len(pages) >= 3
    assert all(text.count(MARKING) >= 2 for text in pages), [t.count(MARKING) for t in pages]


def test_subject_profile_prints_marked(tiny_profile) -> None:
    folder = tiny_profile.quarter_dir / "restricted" / "subject_profiles"
    first = sorted(folder.glob("[0-9]*.html"))[0]
    pages = _printed_pages(first)
    assert pages and all(text.count(MARKING) >= 2 for text in pages)
    assert "Timeline" in "".join(pages)
    assert "Suggested action" in "".join(pages) and "Owner" in "".join(pages)


def test_each_subject_profile_prints_on_one_page(tiny_profile) -> None:
    folder = tiny_profile.quarter_dir / "restricted" / "subject_profiles"
    pages = {path.name: len(_printed_pages(path)) for path in sorted(folder.glob("[0-9]*.html"))}
    assert pages and set(pages.values()) == {1}, pages
