"""The published profile of the tiny end-to-end run in a real browser (headless Debian
chromium over the DevTools protocol): no console error, no uncaught exception, no failed
request (any host is unreachable, so a remote font/script/tile would fail), every chart
drawn; a full-page screenshot is kept in the test's output folder.

Skipped only where chromium is absent (`apt-get install -y chromium`; .ci/run installs it)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.report.chromium import CHROMIUM, Browser, pdf_page_texts

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)

# Per plotly graph div: drawn (plotly's SVG layers present), with traces, and a real size.
CHARTS_JS = """
Array.from(document.querySelectorAll('.plotly-graph-div')).map(d => ({
  id: d.id,
  svg: d.querySelectorAll('svg.main-svg').length,
  traces: (d.data || []).length,
  laid_out: !!d._fullLayout,
  width: Math.round(d.getBoundingClientRect().width),
  height: Math.round(d.getBoundingClientRect().height),
}))
"""


def test_browser_check_catches_planted_problems(tmp_path: Path) -> None:
    """The checks below can fail: a missing image, a remote script and a script error."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!doctype html><html><body><img src="missing.png">'
        '<script src="https://cdn.example.org/lib.js"></script>'
        '<script>console.error("planted"); notDefined();</script></body></html>'
    )
    with Browser() as browser:
        report = browser.open(page.as_uri(), settle=0.3)
    assert any("missing.png" in r for r in report.failed_requests)
    assert any("cdn.example.org" in r for r in report.failed_requests)
    assert any("planted" in e for e in report.console_errors)
    assert any("notDefined" in e for e in report.exceptions)


def test_profile_renders_in_chromium(tiny_profile, tmp_path: Path) -> None:
    profile = tiny_profile.quarter_dir / "profile.html"
    html = profile.read_text(encoding="utf-8")
    expected = html.count('class="plotly-graph-div"')
    assert expected >= 5, "the profile should carry its charts"
    with Browser(width=1280, height=900) as browser:
        report = browser.open(profile.as_uri())
        charts = browser.evaluate(CHARTS_JS)
        title = browser.evaluate("document.title")
        links = browser.evaluate(
            "Array.from(document.querySelectorAll('[href], [src]'))"
            ".map(e => e.getAttribute('href') || e.getAttribute('src'))"
        )
        browser.screenshot(tmp_path / "profile_first_screen.png", full_page=False)
        shot = browser.screenshot(tmp_path / "profile.png")
    print(f"screenshot: {shot}")
    assert not report.failed_requests, report.failed_requests[:5]
    assert not report.console_errors, report.console_errors[:5]
    assert not report.exceptions, report.exceptions[:5]
    assert tiny_profile.quarter in title
    assert len(charts) == expected
    broken = [
        c["id"]
        for c in charts
        if not (c["laid_out"] and c["svg"] >= 1 and c["traces"] >= 1)
        or c["width"] < 200
        or c["height"] < 150
    ]
    assert not broken, f"charts not drawn: {broken}"
    assert shot.stat().st_size > 50_000  # a blank page compresses to a few kB
    # Nothing restricted is reachable from the published page.
    assert not [u for u in links if "restricted" in u or "subject_profiles" in u]
    assert "subject_profiles" not in html


def test_every_section_drawn_and_printed_with_the_marking(tiny_profile, tmp_path: Path) -> None:
    """Every section of the contents is on the page and visible in Chromium; the page printed
    by Chromium (print-to-PDF) carries the OFFICIAL marking in the margin of every page, opens
    with the cover (title and handling conditions on page 1), and the file stays small."""

    with duckdb.connect(str(tiny_profile.warehouse), read_only=True) as con:
        listed = con.execute(
            "select section from reporting.rpt_profile_sections order by section_order"
        ).fetchall()

    profile = tiny_profile.quarter_dir / "profile.html"
    assert profile.stat().st_size <= 6_000_000
    with Browser(width=1280, height=900) as browser:
        report = browser.open(profile.as_uri())
        heights = browser.evaluate(
            "Object.fromEntries(Array.from(document.querySelectorAll('main section[id]'))"
            ".map(s => [s.id, Math.round(s.getBoundingClientRect().height)]))"
        )
        pdf = browser.pdf()
    assert not report.problems, report.problems[:5]
    expected = [section for (section,) in listed]
    assert list(heights) == expected  # in the order of the contents, assessment first
    assert all(heights[a] > 50 for a in expected), heights
    path = tmp_path / "profile.pdf"
    path.write_bytes(pdf)
    print(f"pdf: {path}")
    pages = pdf_page_texts(pdf)
    assert len(pages) >= 5
    unmarked = [i + 1 for i, page in enumerate(pages) if "OFFICIAL" not in page]
    assert not unmarked, f"pages without the marking: {unmarked}"
    assert f"Stalking Problem Profile: {tiny_profile.quarter}" in pages[0]
    assert "Handling conditions" in pages[0]
    assert "1. Assessment" in pages[1]
