"""The published Stalking Problem Profile: one self-contained HTML file per quarter.

Sections follow a National Intelligence Model problem profile (key findings first, then scope,
the problem's demand, victims, offenders, locations, the response, the outlook, gaps and
method). Every number passes through `pipelines.disclosure`; the finished file is then checked
by the publish guard before it is left in place (see `publish_profile`).
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from plotly.offline import get_plotlyjs

from pipelines.disclosure import (
    SUPPRESSED,
    DisclosureError,
    check_published_file,
    load_sensitive_values,
    locations,
)
from pipelines.disclosure.guard import GuardReport, guard_vocabulary, strip_library
from pipelines.quarters import Periods, parse_quarter
from pipelines.report import sections
from pipelines.report.printed import TEMPLATES, environment
from pipelines.settings import Settings


@functools.cache
def plotly_library() -> str:
    return get_plotlyjs()


@dataclass(frozen=True)
class PublishResult:
    path: Path
    bytes: int
    seconds: float
    guard: GuardReport
    suppressed_cells: int
    # The quarter's other published files the guard also passed (relative to the quarter dir).
    data_files_checked: tuple[str, ...] = ()


# Published beside the profile (written by the forecasting, hotspots and ingest assets and the
# publish step's writers): the FMS CSV, the GIS layer, the data-quality summary, the monthly
# performance table. restricted/ is not published, so not scanned.
PUBLISHED_DATA_FILES = (
    "fms/*.csv",
    "fms/*.xlsx",
    "gis/*.geojson",
    "data_quality.json",
    "*.csv",
    "performance_monthly.html",
)


def build_context(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    settings: Settings | None = None,
    boundary: Path | None = None,
    generated: dt.date | None = None,
) -> dict[str, Any]:
    parse_quarter(quarter)
    settings = settings or Settings()
    ctx = sections.Context(con, Periods(quarter), settings, boundary)
    return {
        "quarter": quarter,
        "periods": ctx.periods,
        "span": sections.page_values(ctx)["span"],
        "force": settings.force.name,
        "generated": f"{(generated or dt.date.today()):%d %B %Y}",
        "k": settings.disclosure.min_count,
        "suppressed": SUPPRESSED,
        "marking": "OFFICIAL",
        "sections": sections.profile_sections(ctx),
    }


def render_html(context: dict[str, Any]) -> str:
    template = environment().get_template("profile.html.j2")
    css = (TEMPLATES / "profile.css").read_text(encoding="utf-8")
    js = (TEMPLATES / "sortable.js").read_text(encoding="utf-8")
    return template.render(**context, css=css, sortable_js=js, plotlyjs=plotly_library())


def publish_profile(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    quarter_dir: Path,
    settings: Settings | None = None,
    boundary: Path | None = None,
    generated: dt.date | None = None,
) -> PublishResult:
    """Render, write, then guard. On a guard hit the file is removed and DisclosureError
    raised, so a profile that failed the check is never left where readers look."""
    started = time.perf_counter()
    context = build_context(con, quarter, settings, boundary, generated)
    html = render_html(context)
    path = quarter_dir / "profile.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.partial")
    tmp.write_text(html, encoding="utf-8")
    sensitive = load_sensitive_values(con)
    allowed = guard_vocabulary(con, settings, boundary)
    guard = check_published_file(
        tmp, sensitive, allowed_words=allowed, library=plotly_library(), label=path.name
    )
    # The same check on the data files published beside it: a hit withdraws that file and
    # fails the step, like the profile's own. Then the location check: no published file may
    # show a suppressed cell (too few different victims) by its id or a point inside it.
    data_files = sorted(p for pattern in PUBLISHED_DATA_FILES for p in quarter_dir.glob(pattern))
    k = (settings or Settings()).disclosure.min_count
    hidden = locations.load_suppressed(con, quarter, k)
    try:
        for data_file in data_files:
            label = data_file.relative_to(quarter_dir).as_posix()
            check_published_file(data_file, sensitive, allowed_words=allowed, label=label)
            if found := locations.check_file(data_file, hidden):
                data_file.unlink(missing_ok=True)
                raise DisclosureError(locations.leak_message(label, found))
        if found := locations.check_page(strip_library(html, plotly_library()), hidden):
            raise DisclosureError(locations.leak_message(path.name, found))
    except DisclosureError:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return PublishResult(
        path=path,
        bytes=path.stat().st_size,
        seconds=time.perf_counter() - started,
        guard=guard,
        suppressed_cells=html.count(f">{SUPPRESSED}<"),
        data_files_checked=tuple(p.relative_to(quarter_dir).as_posix() for p in data_files),
    )
