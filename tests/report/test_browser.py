"""The profile in a real browser (headless Debian chromium, flags from ENVIRONMENT.md): no
console error, no request leaves the file, every chart rendered; a screenshot is kept in the
test's output folder. Skipped where chromium is not installed (`apt-get install -y chromium`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=15000",
    # Any attempt to reach a host fails loudly (and shows as a console error).
    "--host-resolver-rules=MAP * ~NOTFOUND",
]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *FLAGS, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_profile_renders_in_chromium(rendered, tmp_path: Path) -> None:
    url = rendered.path.resolve().as_uri()
    dom = _run(["--dump-dom", url], tmp_path)
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, f"console messages: {console[:3]}"
    html = rendered.path.read_text()
    chart_ids = re.findall(r'Plotly\.newPlot\(\s*"([^"]+)"', html)
    assert chart_ids
    for chart_id in chart_ids:
        match = re.search(rf'<div id="{chart_id}"[^>]*>(.*?)</div>\s*<script', dom.stdout, re.S)
        assert match and 'class="main-svg"' in match.group(1), f"{chart_id} did not render"
    shot = tmp_path / "profile.png"
    _run(["--hide-scrollbars", "--window-size=1280,2400", f"--screenshot={shot}", url], tmp_path)
    assert shot.exists() and shot.stat().st_size > 20_000
