"""The profile's sections, rendered by one loop. What a section prints is declared, item by
item, in the YAML of `reporting.rpt_profile_sections` (`config.meta.items.<section>`; see its
description and docs/DESIGN.md, "How a profile section is declared"); `profile_sections` turns
every section into the template's items, one function per item kind (`ITEMS`, charts:
`CHARTS`), and the template prints each with its kind's macro. Every number comes from a
reporting model (`reporting.rpt_*`); here it only goes through disclosure control
(`pipelines.disclosure`) and is formatted. Nothing here prints a person-level value.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup

from pipelines.disclosure import SUPPRESSED, protect_count, protect_rate
from pipelines.disclosure.demand import (
    forecast_sentence,
    protect_demand_quarters,
    protect_demand_years,
)
from pipelines.disclosure.locations import publishable
from pipelines.disclosure.sentences import (
    fill_sentence,
    first_complete,
    model_rows,
    table_protected,
    variants_by_kind,
)
from pipelines.disclosure.suppression import MISSING, Rate
from pipelines.disclosure.tables import published_shares, stacked_rest, trend_table
from pipelines.paths import DATA_QUALITY_FILE
from pipelines.places.outlines import boundary_caveats, boundary_xy, district_lines
from pipelines.quarters import Periods, quarter_end
from pipelines.report import charts, printed
from pipelines.report.printed import (
    Figure3,
    PrintedColumn,
    cell_text,
    compared_frames,
    comparison_table,
    merged_hidden_rows,
    model_frames,
    printed_columns,
    printed_table,
    quarter_figures,
)
from pipelines.settings import Settings, changed_settings_rows

SENTENCES = "rpt_profile_sentences"
SECTIONS = "rpt_profile_sections"
SECTION_VALUES = "rpt_profile_section_values"
CHART_POINTS = "rpt_profile_chart_points"
# The reporting models behind every demand figure of the profile and the FMS files
# (pipelines.publish.fms): those whose YAML declares `read_by` it, every row, in print order.
DEMAND = "fms"
TOTAL_SERIES = "all_stalking"


def compared_quarter_heading(
    quarter: str, gap_quarters: Collection[str], first_reported: str
) -> str:
    """A compared quarter as a column heading, marked where its crime counts read 0 for want
    of data, not of crime: a gap in the delivery, or a quarter ended before the delivery's
    first crime (`first_reported`, ISO; '' when unknown), as the year-ago column of a profile
    of the delivery's first year is."""
    if quarter in gap_quarters:
        return f"{quarter} (no crimes delivered)"
    if first_reported and quarter_end(quarter).isoformat() < first_reported:
        return f"{quarter} (before the delivery)"
    return quarter


@dataclass
class Context:
    con: duckdb.DuckDBPyConnection
    periods: Periods
    settings: Settings
    boundary: Path | None = None  # the force-area file the map draws (local geometry only)
    gaps: list[str] = field(default_factory=list)  # information gaps found while building
    # the assessment's comparison tables, each worked out once: (model, table) -> its figures
    assessment_tables: dict[tuple[str, str], dict[str, Figure3]] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return self.settings.disclosure.min_count

    def quarter_rows(self, model: str, order: str = "quarter") -> list[dict[str, Any]]:
        """The quarter's rows of a reporting model, in `order`."""
        return model_rows(self.con, model, f"quarter = ? order by {order}", [self.periods.quarter])

    @functools.cached_property
    def _section_value_rows(self) -> list[dict[str, Any]]:
        """The rows of rpt_profile_section_values (a view) the profile reads: the quarter's and
        the delivery's gaps, in one query."""
        return model_rows(
            self.con,
            SECTION_VALUES,
            "quarter = ? or is_delivery_gap order by quarter",
            [self.periods.quarter],
        )

    @functools.cached_property
    def section_values(self) -> dict[str, Any]:
        """The quarter's row of rpt_profile_section_values (what captions name in braces)."""
        rows = [row for row in self._section_value_rows if row["quarter"] == self.periods.quarter]
        return (rows or [{}])[0]

    @functools.cached_property
    def demand(self) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
        """The FMS rows (pipelines.publish.fms) and their financial years through disclosure
        control, for the forecast section and the key findings' headline."""
        figures = model_frames(self.con, DEMAND)
        return figures, protect_demand_years(figures["years"], self.k)

    @functools.cached_property
    def gap_quarters(self) -> frozenset[str]:
        """Quarters whose months hold no crime of any kind inside the delivery's history (a gap
        in the delivery, int_recording_months): a table's column for one says so, since its
        crime counts read 0 and would pass for a fall."""
        return frozenset(
            row["quarter"] for row in self._section_value_rows if row["is_delivery_gap"]
        )

    def column_heading(self, quarter: str) -> str:
        """A compared quarter as a column heading (`compared_quarter_heading`)."""
        first = self.section_values.get("first_reported") or ""
        return compared_quarter_heading(quarter, self.gap_quarters, first)

    @functools.cached_property
    def _sentence_variants(self) -> dict[str, list[dict[str, Any]]]:
        return variants_by_kind(self.con, SENTENCES, self.periods.quarter)

    def sentence(self, kind: str) -> str | None:
        """A sentence of rpt_profile_sentences for this quarter (or the delivery's), its figures
        under disclosure control (pipelines.disclosure.sentences); None when none publishes."""
        return first_complete(SENTENCES, self._sentence_variants.get(kind, []), self.k)

    @functools.cached_property
    def chart_points(self) -> dict[str, list[dict[str, Any]]]:
        """The quarter's rows of rpt_profile_chart_points (a view: each query computes it
        whole) by chart, each chart's in series then x order: one query for every chart."""
        by_chart: dict[str, list[dict[str, Any]]] = {}
        for row in model_rows(
            self.con,
            CHART_POINTS,
            "quarter = ? order by series_order, x_order",
            [self.periods.quarter],
        ):
            by_chart.setdefault(row["chart"], []).append(row)
        return by_chart


# --------------------------------------------------------------------------- forecast
def fms_sentences(figures: dict[str, pd.DataFrame], kind: str) -> list[str]:
    """The sentences of one kind from reporting.rpt_fms_sentences, in order (none: nothing
    to say): backtest_warning, coverage, not_forecast or early_warning."""
    rows = figures["sentences"]
    return list(rows.loc[rows["sentence_kind"] == kind, "sentence"])


def _forecast(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    """The forecast for the FMS: the same reporting rows and disclosure as fms/demand.xlsx
    (pipelines.publish.fms), so every figure here is the workbook's figure. The financial-year
    table (a figure and its 80% range per year), a chart per charted series, then the notes."""
    (figures, years), k = ctx.demand, ctx.k
    not_forecast = fms_sentences(figures, "not_forecast")
    if years.empty:
        # a delivery too short to forecast says so; "not available" is for a forecast lost
        ctx.gaps += not_forecast or [spec["missing_gap"]]
        return [_p(not_forecast[0] if not_forecast else spec["missing"], "unavailable")]
    warnings = fms_sentences(figures, "backtest_warning")[:1]
    items = [_p(Markup("<strong>{}</strong>").format(w), "warning", markup=True) for w in warnings]
    shown = years[years["is_projection_row"]].sort_values("financial_year_start", kind="stable")
    whole = functools.partial(cell_text, column=PrintedColumn("", "", "count"))
    shown["cell"] = [
        whole(r.value) + ("" if r.is_baseline else f" ({whole(r.lo80)}–{whole(r.hi80)})")
        for r in shown.itertuples()
    ]
    # a row per series, a column per financial year; the model of its forecast years beside it
    # and, last, the naive forecast the tests measure it against (a year's worth of the last
    # 12 recorded months: the first full forecast year's)
    cells = shown.pivot(index="series_order", columns="financial_year_start", values="cell")
    labels = shown.groupby("series_order")["series_label"].first()
    models = shown.dropna(subset="years_ahead").groupby("series_order")["model_label"].first()
    first_full_year = shown[shown["years_ahead"].eq(1).fillna(False)]
    naive = first_full_year.set_index("series_order")["naive_value"].map(whole)
    table = [
        [labels[s], models.get(s, MISSING), *cells.loc[s].fillna(MISSING), naive.get(s, MISSING)]
        for s in labels.index
    ]
    headings = shown.drop_duplicates("financial_year_start")["table_heading"]
    items.append(_rows(ctx, spec, table, ["Series", "Model", *headings, spec["naive_heading"]]))
    quarters = protect_demand_quarters(figures["quarters"], k)
    for i, name in enumerate(spec["charted"]):
        s = quarters[quarters["series"] == name]
        if not (s["kind"] == "forecast").any():
            continue
        label = str(s["series_label"].iloc[0])
        # the plain wording prints no figure, so a title always publishes
        title = forecast_sentence(ctx.con, years, name, "chart_title", k) or label
        figure = charts.forecast_chart(s, title, y_title="Crimes per quarter")
        chart = {"div": "chart-forecast-{i}", "caption": spec["chart_caption"]}
        items += _chart_item(ctx, chart, figure, i=str(i), series_lower=label.lower())
    notes = list(figures["method"]["sentence"])
    notes += fms_sentences(figures, "coverage") + fms_sentences(figures, "early_warning")
    notes += not_forecast  # a series too short to forecast, beside those that were
    return items + [_p(note) for note in notes]


# --------------------------------------------------------------------------- assessment
# The judgments are ranked and worded by the rpt_assessment_* models over the exact tests of
# pipelines.assessment; here their sentences go through disclosure control.
REQUIREMENTS = "rpt_assessment_requirements"
JUDGMENTS = "rpt_assessment_judgments"
RECOMMENDATIONS = "rpt_assessment_recommendations"
SCOPE = "rpt_assessment_scope"
ASSESSMENT = "rpt_assessment_sentences"


def _words(
    ctx: Context, variants: dict[tuple[str, str, str], list[dict]], judgment: dict[str, Any]
) -> dict[str, str]:
    """A judgment's headline, evidence and threat cell: the model's first variants that
    publish (their rows carry the judgment's phrase and test result)."""
    said = {}
    for kind in ("headline", "evidence", "threat"):
        rows = variants[(judgment["signal"], judgment["comparison"], kind)]
        protected = table_protected(ctx.con, rows[0], ctx.periods, ctx.k, ctx.assessment_tables)
        said[kind] = first_complete(ASSESSMENT, rows, ctx.k, protected) or ""
    return said


def assessment_section(ctx: Context) -> dict[str, Any]:
    ranked = ctx.quarter_rows(JUDGMENTS, "judgment_rank")
    variants: dict[tuple[str, str, str], list[dict]] = {}
    for row in ctx.quarter_rows(ASSESSMENT, "variant_order"):
        key = (row["signal"], row["comparison"], row["sentence_kind"])
        variants.setdefault(key, []).append(row)
    said = {j["signal"]: _words(ctx, variants, j) for j in ranked}
    ranked = [{**j, **said[j["signal"]]} for j in ranked]  # the template prints their columns
    recs = ctx.quarter_rows(RECOMMENDATIONS, "recommendation_order")
    requirements = ctx.quarter_rows(REQUIREMENTS, "requirement_order")
    return {
        "judgments": [j for j in ranked if j["is_shown"]],
        "ranking": ranked,
        "recommendations": [{**r, "trigger": said[r["signal"]]["headline"]} for r in recs],
        "requirements": [
            {**r, "evidence": fill_sentence(REQUIREMENTS, r, ctx.k, "evidence_template").text}
            for r in requirements
        ],
        "scope": (ctx.quarter_rows(SCOPE) or [{"tests": 0, "signals": 0, "gap_note": None}])[0],
        "rules": ctx.settings.assessment,
    }


# --------------------------------------------------------------------------- declared sections
def page_values(ctx: Context) -> dict[str, Any]:
    """What a declared caption, text or label may name in braces: the compared quarters, the
    settings the page states and the quarter's row of rpt_profile_section_values."""
    p, settings = ctx.periods, ctx.settings
    return {
        **ctx.section_values,
        "quarter": p.quarter,
        "previous": p.previous,
        "year_ago": p.year_ago,
        "k": ctx.k,
        "cell_size": settings.hotspots.cell_size_m,
        "suppressed": SUPPRESSED,
        "k_below": ctx.k - 1,
        "lookback": f"{settings.rfgv.lookback_months} months to quarter end",
        "data_quality_file": DATA_QUALITY_FILE,
    }


def _filled(ctx: Context, text: str, **more: str) -> str:
    return text.format_map({**page_values(ctx), **more})


Item = dict[str, Any]


def _p(text: str, css: str = "", markup: bool = False) -> Item:
    """A paragraph item (`markup`: fixed words of the YAML with inline emphasis)."""
    return {"kind": "text", "text": text, "css": css, "markup": markup}


def _rows(
    ctx: Context,
    spec: dict[str, Any],
    rows: list,
    headings: list[str],
    caption: str | None = None,
    total: bool = False,
) -> Item:
    """A table of cells already published, as declared: `caption` (unless given), `css`,
    `empty` (printed without a row) and `wide` (columns of sentences); `total`: its last row
    is a total."""
    wide = spec.get("wide", [])
    columns = [PrintedColumn(h, h, "text", i in wide) for i, h in enumerate(headings)]
    table = {"columns": columns, "rows": rows, "total": total}
    table["empty"] = _filled(ctx, spec.get("empty", ""))
    caption = _filled(ctx, spec["caption"]) if caption is None else caption
    return {"kind": "table", "caption": caption, "table": table, "css": spec.get("css", "")}


def _fig3(
    ctx: Context, spec: dict[str, Any], caption: str, label: str, rows: list[Figure3], total: bool
) -> Item:
    """A comparison table: each figure at the quarter, the previous one and a year ago with
    its changes (`quarters: year`: the quarter and a year ago only)."""
    p = ctx.periods
    if spec.get("quarters") == "year":
        headings = [label, *map(ctx.column_heading, (p.year_ago, p.quarter))]
        headings.append("vs same quarter last year")
        cells = [[f.label, f.year_ago, f.now, f.vs_year] for f in rows]
    else:
        headings = [label, *map(ctx.column_heading, p.columns)]
        headings += ["vs previous quarter", "vs same quarter last year"]
        cells = [[f.label, f.year_ago, f.previous, f.now, f.vs_previous, f.vs_year] for f in rows]
    return _rows(ctx, spec, cells, headings, caption, total)


def _text(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    """Fixed words, with the sentences `sentence_before` / `sentence_after` that publish."""
    said = {key: ctx.sentence(spec[key]) for key in spec if key.startswith("sentence_")}
    parts = [said.get("sentence_before"), _filled(ctx, spec["text"]), said.get("sentence_after")]
    return [_p(" ".join(part for part in parts if part), spec.get("css", ""), "markup" in spec)]


def _heading(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    return [{"kind": "heading", "text": _filled(ctx, spec["heading"])}]


def _sentence(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    """A sentence of rpt_profile_sentences in its first wording that publishes, with its
    `heading` above it."""
    if not (text := ctx.sentence(spec["sentence"])):
        return []
    return [*(_heading(ctx, spec) if "heading" in spec else []), _p(text, spec.get("css", ""))]


def _table(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    """A row table of a model (pipelines.report.printed), its headings naming the compared
    quarters where they say {quarter}, {previous} or {year_ago}."""
    where, params = _kept(ctx, spec)
    clause = f"where {where}" + (f" order by {spec['order_by']}" if "order_by" in spec else "")
    table = printed_table(
        ctx.con, spec["table"], spec["view"], ctx.k, clause, params, page_values(ctx)
    )
    if marked := spec.get("marked_rows"):
        at = [column.name for column in table["columns"]].index(marked["column"])
        table["row_css"] = [
            marked["css"] if row[at] == marked["value"] else "" for row in table["rows"]
        ]
    table["empty"], caption = _filled(ctx, spec.get("empty", "")), _filled(ctx, spec["caption"])
    return [{"kind": "table", "caption": caption, "table": table, "css": spec.get("css", "")}]


def _compared(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    """The comparison tables of a category-by-quarter model, each suppressed with its total."""
    model, p = spec["compared"], ctx.periods
    declared = printed.model_meta(model)["compared_by_quarter"]
    quarters = {"year": [p.quarter, p.year_ago], "compared": p.columns}.get(spec.get("quarters"))
    tables = compared_frames(ctx.con, model, quarters, spec.get("where", ""))
    if "table" in spec or "tables" not in declared:
        named = {spec.get("table", ""): ""}
    else:
        named = declared.get("listed") or dict.fromkeys(tables, "")
    items = []
    for name, listed in named.items():
        rows = comparison_table(*tables[name], p, ctx.k)
        has_total = name not in declared.get("without_total", ())
        words = {"listed": listed, "listed_lower": listed.lower(), "name_lower": name.lower()}
        caption, label = (
            _filled(ctx, spec.get(key, "Category"), **words) for key in ("caption", "label")
        )
        shown = ("year_ago", "now") if spec.get("quarters") == "year" else None
        rows = merged_hidden_rows(rows, ctx.k, shown) if has_total else rows[:-1]
        items.append(_fig3(ctx, spec, caption, label, rows, has_total))
    return items


def _figures(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    """A model's figures at the quarter, the previous one and a year ago, a row each."""
    rows = quarter_figures(ctx.con, spec["figures"], "profile", ctx.periods, ctx.k)
    rows = [replace(row, label=_filled(ctx, row.label)) for row in rows]
    caption, label = _filled(ctx, spec["caption"]), spec.get("label", "Measure")
    return [_fig3(ctx, spec, caption, label, rows, total=False)]


def _kpi(ctx: Context, kpi: dict[str, Any]) -> Figure3 | dict[str, Rate]:
    """A headline figure: a column of a model with a row per quarter, at the quarter with its
    change on the previous quarter and a year ago; or a `share` of two columns under the rate
    rule, at the quarter and a year ago (a quarter without a row: no share)."""
    p, model = ctx.periods, kpi["figures"]
    if "share" not in kpi:
        names = [c.name for c in printed_columns(model, "profile")]
        return quarter_figures(ctx.con, model, "profile", p, ctx.k)[names.index(kpi["column"])]
    part, whole = kpi["share"]
    frame = ctx.con.execute(f"select quarter, {part}, {whole} from reporting.{model}").df()
    rows = {q: (int(a), int(b)) for q, a, b in frame.itertuples(index=False)}
    return {
        "now": protect_rate(*rows.get(p.quarter, (0, 0)), ctx.k),
        "year_ago": protect_rate(*rows.get(p.year_ago, (0, 0)), ctx.k),
    }


def _kpis(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    figures = [(_kpi(ctx, kpi), _filled(ctx, kpi["label"])) for kpi in spec["kpis"]]
    return [{"kind": "kpis", "figures": figures}]


def _sentences(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    """The sentences the model lists for a section (`sentences_in`), each in its first wording
    that publishes, then any the sections before have added (the forecast's headline)."""
    kinds = printed.model_meta(SENTENCES)["sentences_in"][spec["sentences"]]
    lines = [text for kind in kinds if (text := ctx.sentence(kind))]
    if spec.get("then") == "forecast_headline" and not (years := ctx.demand[1]).empty:
        # the first full forecast year against the baseline, as the forecast table prints them
        headline = forecast_sentence(ctx.con, years, TOTAL_SERIES, "headline", ctx.k)
        lines += [headline] if headline else []
    return [{"kind": "list", "lines": lines, "css": spec.get("css", ""), "empty": spec["empty"]}]


def _gap(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    """An information gap (printed under information gaps, nothing here)."""
    ctx.gaps.append(_filled(ctx, spec["gap"]))
    return []


def _cell_map(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    """The map of the quarter's published grid cells (k or more different victims:
    pipelines.disclosure.locations; fewer is in effect the square around a home) over the force
    and district boundaries, then its note."""
    cells = ctx.con.execute(
        "select latitude, longitude, crimes, victims, map_layer, map_layer_order, map_colour "
        "from reporting.rpt_hotspot_cells where quarter = ? order by cell_id",
        [ctx.periods.quarter],
    ).df()
    if (lines := district_lines(ctx.boundary, ctx.settings.places)) is None:
        ctx.gaps.append(_filled(ctx, spec["no_districts_gap"]))
    cells, outline = cells[publishable(cells, ctx.k)], boundary_xy(ctx.boundary)
    figure = charts.cell_map(cells, outline, _title(ctx, spec), lines)
    return [*_chart_item(ctx, spec, figure), _p(_filled(ctx, spec["note"]), "note")]


def _kept(ctx: Context, spec: dict[str, Any]) -> tuple[str, list]:
    """The rows a table or paragraphs item prints: the quarter's (and the delivery's, quarter
    null, with `or_every_quarter`) unless `all_quarters`, and each `filter` column's value."""
    kept = {} if spec.get("all_quarters") else {"quarter": ctx.periods.quarter}
    kept |= spec.get("filter") or {}
    where = [f"{column} = ?" for column in kept]
    if spec.get("or_every_quarter"):
        where[0] = "(quarter = ? or quarter is null)"
    return " and ".join(where) or "true", list(kept.values())


def _paragraphs(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    """A paragraph per row of a model's `column` (the rows `_kept`), in `order_by`."""
    where, params = _kept(ctx, spec)
    rows = model_rows(ctx.con, spec["paragraphs"], f"{where} order by {spec['order_by']}", params)
    return [_p(row[spec["column"]]) for row in rows]


def _gaps(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    """The information gaps: those the sections above found, the force-area file's caveats,
    the measured gap sentence `then` and the standing gaps every profile from records has."""
    measured = ctx.sentence(spec["then"]) if "then" in spec else None
    lines = [*ctx.gaps, *boundary_caveats(ctx.boundary), *([measured] if measured else [])]
    lines += spec.get("standing", [])
    return [{"kind": "list", "lines": lines, "css": "", "empty": ""}]


def _definitions(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    terms = [(term["term"], _filled(ctx, term["text"])) for term in spec["definitions"]]
    return [{"kind": "definitions", "terms": terms}]


def _computed_rows(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    """A table whose cells are worked out here (`rows: changed_settings`, the settings that
    differ from the shipped defaults); with no row, its `none` sentence."""
    rows = changed_settings_rows(ctx.settings)
    return [_rows(ctx, spec, rows, spec["headings"])] if rows else [_p(spec["none"])]


def _assessment(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    return [{"kind": "assessment", "assessment": assessment_section(ctx)}]


def _group(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    items = [item for part in spec["group"] for item in _items(ctx, part)]
    tables = [item["table"]["rows"] for item in items if item["kind"] == "table"]
    if spec.get("if_rows") and not any(tables):
        return [_p(_filled(ctx, spec["otherwise"]), "unavailable")] if "otherwise" in spec else []
    return [{"kind": "group", "parts": items, "css": spec.get("css", "")}]


def _title(ctx: Context, spec: dict[str, Any]) -> str:
    """A chart's title: its sentence (`title`, rpt_profile_sentences) or fixed `title_text`."""
    if "title" in spec:
        return ctx.sentence(spec["title"])
    return _filled(ctx, spec["title_text"])


Series = tuple[list[str], dict[str, list]]  # a chart's x values and its named series


def _points(ctx: Context, spec: dict[str, Any]) -> Series:
    """A chart's points (rpt_profile_chart_points `points`: every series at every x, in order),
    each under its rule: a count under the count rule, a rate of part in whole under the rate
    rule (a quarter without a row has no rate); a suppressed figure is a gap. A table's cells
    (`stacked_counts`, `share_lines`) are suppressed per quarter with its total (`_table`)."""
    rows = ctx.chart_points.get(spec["points"], [])
    x = list(dict.fromkeys(row["x"] for row in rows))
    if spec["chart"] in ("stacked_counts", "share_lines"):
        return x, _table_series(ctx, spec, rows, x)
    series: dict[str, list] = {}
    for row in (row for row in rows if row["series"] is not None):  # no series: only the x
        if row["rule"] == "count":
            shown = protect_count(int(row["part"]), ctx.k).public
        elif row["whole"] is not None:
            shown = protect_rate(row["part"], row["whole"], ctx.k).value
        else:
            shown = None  # a quarter without a row: no rate
        series.setdefault(row["series"], []).append(shown)
    return x, series


def _table_series(
    ctx: Context, spec: dict[str, Any], rows: list[dict[str, Any]], quarters: list[str]
) -> dict[str, list]:
    """A table's categories per quarter, suppressed with each quarter's total
    (pipelines.disclosure.tables.trend_table): stacked, what is suppressed one SMALL_COUNTS
    part (stacked_rest); or the share of one category (`share`, the line `series`) under the
    rate rule, a quarter with a suppressed part having no share."""
    cells = [(r["x"], r["series"], r["part"]) for r in rows if r["part"] is not None]
    frame = pd.DataFrame(cells, columns=["quarter", "cat", "n"]).astype({"n": "int64"})
    order = list(dict.fromkeys(r["series"] for r in rows if r["series"] is not None))
    stacked = spec["chart"] == "stacked_counts"
    series = trend_table(frame, quarters, ctx.k, order, with_total=stacked)
    if not stacked:
        return {spec["series"]: published_shares(series, spec["share"], len(quarters), ctx.k)}
    rest = stacked_rest(series, series.pop("Total"))
    return {**series, **({charts.SMALL_COUNTS: rest} if any(rest) else {})}


# Each declared chart kind: the figure its points are drawn as (pipelines.report.charts)
CHARTS = {
    "lines": "lines",
    "rate_bars": "rate_bars",
    "stacked_counts": "stacked",
    "share_lines": "lines",
}


def _chart_item(ctx: Context, spec: dict[str, Any], figure: go.Figure, **words: str) -> list[Item]:
    div = charts.to_div(figure, spec["div"].format_map(words))
    return [{"kind": "chart", "div": div, "caption": _filled(ctx, spec["caption"], **words)}]


def _chart(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    kind = CHARTS[spec["chart"]]
    x, series = _points(ctx, spec)
    percent = kind != "stacked" and not spec.get("counts")
    figure = charts.chart(
        kind, x, series, _title(ctx, spec), spec.get("y_title", "Crimes"), percent
    )
    return _chart_item(ctx, spec, figure)


ITEMS = {
    "text": _text,
    "heading": _heading,
    "sentence": _sentence,
    "table": _table,
    "compared": _compared,
    "figures": _figures,
    "group": _group,
    "kpis": _kpis,
    "gap": _gap,
    "map": _cell_map,
    "paragraphs": _paragraphs,
    "gaps": _gaps,
    "definitions": _definitions,
    "rows": _computed_rows,
    "forecast": _forecast,
    "assessment": _assessment,
    "sentences": _sentences,
    "chart": _chart,
}


def _items(ctx: Context, spec: dict[str, Any]) -> list[Item]:
    """One declared item as the template's items (a table spec may print several tables)."""
    kind = next(iter(spec))  # every kind is one of ITEMS (tests/report/test_declarations.py)
    values = page_values(ctx)  # `when` / `unless`: a yes/no column of the section values
    if not values.get(spec.get("when"), True) or values.get(spec.get("unless"), False):
        return []
    return ITEMS[kind](ctx, spec)


def profile_sections(ctx: Context) -> list[dict[str, Any]]:
    """Every section of the profile in order (rpt_profile_sections), with its items. The
    assessment is rendered last: it quotes the other sections' tables."""
    listed = model_rows(ctx.con, SECTIONS, "true order by section_order", [])
    assessment_last = sorted(listed, key=lambda row: row["section"] == "assessment")
    rendered = {row["section"]: section_items(ctx, row["section"]) for row in assessment_last}
    return [{**row, "parts": rendered[row["section"]]} for row in listed]


def section_items(ctx: Context, section: str) -> list[Item]:
    """A declared section (rpt_profile_sections' `meta.items`) as the template's items, in
    order: the one function every declared section goes through."""
    declared = printed.model_meta(SECTIONS)["items"][section]
    return [item for spec in declared for item in _items(ctx, spec)]
