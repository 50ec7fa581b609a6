"""The published Stalking Problem Profile: one self-contained HTML file per quarter.

Sections follow a National Intelligence Model problem profile (key findings first, then scope,
the problem's demand, victims, offenders, locations, the response, the outlook, gaps and
method). Every number passes through `pipelines.disclosure`; the finished file is then checked
by the publish guard before it is left in place (`pipelines.publish.publish_profile`).
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

import duckdb
from plotly.offline import get_plotlyjs

from pipelines.disclosure import SUPPRESSED
from pipelines.quarters import Periods, parse_quarter
from pipelines.report import sections
from pipelines.report.printed import TEMPLATES, environment
from pipelines.settings import Settings


@functools.cache
def plotly_library() -> str:
    return get_plotlyjs()


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
