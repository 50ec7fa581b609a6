"""The problem-profile sections: assessment, protective-order effectiveness, DA / online
splits, intelligence, perpetrator demographics and the compliance trend. Like
`pipelines.report.sections`, each builder reads reporting.rpt_* rows, applies disclosure
control and returns plain data for the template; the judgments themselves are ranked and
worded by the rpt_assessment_* models over the exact tests of `pipelines.assessment`."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipelines.disclosure import (
    protect_count,
    protect_rate,
    protect_table,
    suppress_together,
)
from pipelines.disclosure.sentences import fill_sentence, first_complete, model_rows
from pipelines.disclosure.suppression import Count, is_primary
from pipelines.report import charts
from pipelines.report.printed import printed_table
from pipelines.report.sections import SENTENCES, Context, comparison_rows, table_of

REQUIREMENTS = "rpt_assessment_requirements"
JUDGMENTS = "rpt_assessment_judgments"
RECOMMENDATIONS = "rpt_assessment_recommendations"
SCOPE = "rpt_assessment_scope"
ASSESSMENT = "rpt_assessment_sentences"


# --------------------------------------------------------------------------- assessment
def _table_protected(ctx: Context, row: dict[str, Any]) -> dict[str, Count]:
    """The signal's counts as the profile table that also prints them shows them (primary and
    secondary suppression of that table), so no sentence prints a count the table hides."""
    if row["table_model"] is None:
        return {}
    p, k = ctx.periods, ctx.k
    key = (row["table_model"], row["table_name"])
    if key not in ctx.figures.setdefault("assessment_tables", {}):
        tables = comparison_rows(ctx, row["table_model"], p.columns)
        ctx.figures["assessment_tables"][key] = {
            figure.label: figure for figure in table_of(ctx, tables, row["table_name"])
        }
    figure = ctx.figures["assessment_tables"][key].get(row["table_category"])
    if figure is None:
        return {}
    shown = {"now_numerator": figure.now, "previous_numerator": figure.previous}
    shown["year_ago_numerator"] = figure.year_ago
    before = (
        "previous_numerator" if row["comparison"] == "previous quarter" else "year_ago_numerator"
    )
    shown["before_numerator"] = shown[before]
    return {
        name: Count(int(row[name]), count.suppressed or is_primary(int(row[name]), k))
        for name, count in shown.items()
        if row[name] is not None
    }


def _words(
    ctx: Context, variants: dict[tuple[str, str, str], list[dict]], judgment: dict[str, Any]
) -> dict[str, str]:
    """A judgment's headline, evidence and threat cell: the model's first variants that
    publish, with the judgment's phrase and test result (rpt_assessment_judgments)."""
    words = {name: judgment[name] for name in ("probability_phrase", "test_result")}
    said = {}
    for kind in ("headline", "evidence", "threat"):
        rows = variants[(judgment["signal"], judgment["comparison"], kind)]
        protected = _table_protected(ctx, rows[0])
        said[kind] = first_complete(ASSESSMENT, rows, ctx.k, protected, words) or ""
    return said


def assessment_section(ctx: Context) -> dict[str, Any]:
    p, k = ctx.periods, ctx.k
    rules = ctx.settings.assessment
    ranked = model_rows(ctx.con, JUDGMENTS, "quarter = ? order by judgment_rank", [p.quarter])
    variants: dict[tuple[str, str, str], list[dict]] = {}
    for row in model_rows(ctx.con, ASSESSMENT, "quarter = ? order by variant_order", [p.quarter]):
        variants.setdefault((row["signal"], row["comparison"], row["sentence_kind"]), []).append(
            row
        )
    said = {j["signal"]: _words(ctx, variants, j) for j in ranked}
    judgments = [
        {
            "headline": said[j["signal"]]["headline"],
            "evidence": said[j["signal"]]["evidence"],
            "harm": j["harm_label"],
            "phrase": j["probability_phrase"],
            "signal": j["signal"],
        }
        for j in ranked
        if j["is_shown"]
    ]
    ranking = [
        {
            "rank": j["judgment_rank"],
            "signal": j["signal_label_opening"],
            "threat": said[j["signal"]]["threat"],
            "harm": j["harm_label"],
            "risk": j["probability_phrase"],
        }
        for j in ranked
    ]
    recs = [
        {"area": r["area"], "action": r["action"], "trigger": said[r["signal"]]["headline"]}
        for r in model_rows(
            ctx.con, RECOMMENDATIONS, "quarter = ? order by recommendation_order", [p.quarter]
        )
    ]
    requirements = [
        {
            "requirement": row["requirement"],
            "evidence": fill_sentence(
                REQUIREMENTS, row, k, template_column="evidence_template"
            ).text,
        }
        for row in model_rows(
            ctx.con, REQUIREMENTS, "quarter = ? order by requirement_order", [p.quarter]
        )
    ]
    scope = model_rows(ctx.con, SCOPE, "quarter = ?", [p.quarter])
    ctx.figures["judgments"] = judgments
    return {
        "available": True,
        "judgments": judgments,
        "ranking": ranking,
        "recommendations": recs,
        "requirements": requirements,
        "tested": scope[0]["tests"] if scope else 0,
        "signals": scope[0]["signals"] if scope else 0,
        "significance": rules.significance,
        "min_change": rules.min_relative_change,
        "min_gap": rules.min_rate_gap,
    }


# --------------------------------------------------------------------------- orders
def _suppress_group_pairs(rows: list[dict[str, Any]]) -> None:
    """Secondary suppression across the DA groups: "All" is the sum of the two groups, so
    when one group's figure is suppressed the other group's is too (else subtraction from
    "All" would reveal it)."""
    by_type: dict[str, dict[str, dict]] = {}
    for row in rows:
        by_type.setdefault(row["order_type"], {})[row["group"]] = row["cells"]
    for groups in by_type.values():
        sides = [cells for group, cells in groups.items() if group != "All"]
        if len(sides) != 2:
            continue
        for months in sides[0]:
            present = [side for side in sides if months in side]
            for metric in ("granted", "breached", "reoffended"):
                hidden = suppress_together([side[months][metric] for side in present])
                for side, figure in zip(present, hidden, strict=True):
                    side[months][metric] = figure


def order_effectiveness(ctx: Context) -> dict[str, Any]:
    """Rolling four-quarter cohorts per order type and DA group (the quarter's rows only)."""
    p, k = ctx.periods, ctx.k
    frame = ctx.rows(
        "select * from reporting.rpt_orders_effectiveness where quarter = ? "
        "order by order_type_order, da_order, followup_months",
        [p.quarter],
    )
    cohorts = {}
    for months, part in frame.groupby("followup_months"):
        cohorts[int(months)] = part["cohort_label"].iloc[0]
    rows = []
    for (_, label, da_label), part in frame.groupby(
        ["order_type_order", "order_type_label", "da_label"], sort=False
    ):
        cells = {}
        for r in part.itertuples():
            granted = int(r.orders_granted)
            cells[int(r.followup_months)] = {
                "granted": protect_count(granted, k),
                "breached": protect_rate(int(r.breached_within), granted, k, attribute=True),
                "reoffended": protect_rate(int(r.reoffended_within), granted, k, attribute=True),
            }
        rows.append({"order_type": label, "group": da_label, "cells": cells})
    _suppress_group_pairs(rows)
    actions = ctx.rows(
        "select action_label, da_label, da_order, action_order, breaches "
        "from reporting.rpt_orders_breach_actions where quarter = ? "
        "order by da_order, action_order",
        [p.quarter],
    )
    action_table = []
    if not actions.empty:
        wide = actions.pivot_table(
            index="action_label", columns="da_label", values="breaches", aggfunc="sum"
        )
        order = list(dict.fromkeys(actions.sort_values("action_order")["action_label"]))
        groups = list(dict.fromkeys(actions.sort_values("da_order")["da_label"]))
        wide = wide.reindex(index=order, columns=groups).fillna(0).astype("int64")
        # "All" is the total of the two groups: suppress within each group's column.
        parts = wide[[g for g in groups if g != "All"]]
        public = protect_table(parts, k, row_totals=True, column_totals=True)
        action_table = [
            (label, [public.count(label, g) for g in parts.columns], public.count(label, "Total"))
            for label in [*order, "Total"]
        ]
        action_groups = list(parts.columns)
    else:
        action_groups = []
    funnel = ctx.rows(
        "select * from reporting.rpt_orders_spo_funnel where quarter = ? order by da_order",
        [p.quarter],
    )
    funnel_rows = [
        {
            "group": r.da_label,
            "crimes": protect_count(int(r.stalking_crimes), k),
            "considered": protect_rate(int(r.spo_considered), int(r.stalking_crimes), k),
            "applied": protect_rate(int(r.spo_applied), int(r.stalking_crimes), k),
            "granted": protect_rate(int(r.spo_granted), int(r.spo_applied), k, attribute=True),
        }
        for r in funnel.itertuples()
    ]
    sides = [row for row in funnel_rows if row["group"] != "All"]
    for metric in ("crimes", "considered", "applied", "granted"):
        hidden = suppress_together([row[metric] for row in sides])
        for row, figure in zip(sides, hidden, strict=True):
            row[metric] = figure
    applications = printed_table(
        ctx.con,
        "rpt_orders_applications",
        "applications",
        k,
        "where quarter = ? and da_group = 'all' order by order_type_order",
        [p.quarter],
    )
    window = funnel["window_first_quarter"].iloc[0] if not funnel.empty else p.quarter
    return {
        "cohorts": cohorts,
        "rows": rows,
        "actions": action_table,
        "action_groups": action_groups,
        "funnel": funnel_rows,
        "applications": applications,
        "window": f"{window} to {p.quarter}",
    }


# --------------------------------------------------------------------------- splits
def splits(ctx: Context) -> list[dict[str, Any]]:
    """Each measure split by DA and by online, this quarter against the same quarter last
    year (secondary suppression inside each measure's pair of sides)."""
    p, k = ctx.periods, ctx.k
    frame = ctx.rows(
        "select * from reporting.rpt_profile_splits where quarter in (?, ?) "
        "order by split, measure_order, side_order",
        [p.year_ago, p.quarter],
    )
    out = []
    for split, label in (("domestic_abuse", "Domestic abuse"), ("online", "Online")):
        part = frame[frame["split"] == split]
        sides = list(dict.fromkeys(part.sort_values("side_order")["side_label"]))
        rows = []
        for _, m in part.groupby("measure_order", sort=True):
            wide = (
                m.pivot_table(index="side_label", columns="quarter", values="value", aggfunc="sum")
                .reindex(index=sides, columns=[p.year_ago, p.quarter])
                .fillna(0)
                .astype("int64")
            )
            protected = protect_table(wide, k, row_totals=False, column_totals=True)
            rows.append(
                {
                    "measure": m["measure_label"].iloc[0],
                    "window": m["window_label"].iloc[0],
                    "cells": [
                        (protected.count(s, p.year_ago), protected.count(s, p.quarter))
                        for s in sides
                    ],
                }
            )
        out.append({"split": label, "sides": sides, "rows": rows})
    return out


# --------------------------------------------------------------------------- intelligence
INTELLIGENCE_BREAKDOWNS = {
    "volume": "Volume",
    "source_evaluation": "Source evaluation (3x5x2)",
    "intelligence_assessment": "Intelligence assessment (3x5x2)",
    "handling": "Handling code (3x5x2)",
    "linkage": "Linked to crimes and to people",
}


def intelligence(ctx: Context) -> dict[str, Any]:
    p, k = ctx.periods, ctx.k
    frame = ctx.rows(
        "select * from reporting.rpt_profile_intelligence order by breakdown, category_order"
    )
    breakdowns = comparison_rows(ctx, "rpt_profile_intelligence")
    tables = []
    for breakdown, caption in INTELLIGENCE_BREAKDOWNS.items():
        rows = table_of(ctx, breakdowns, breakdown)
        # Volume and linkage are overlapping counts, not parts of a whole: no total row.
        has_total = breakdown not in ("volume", "linkage")
        tables.append((caption, rows if has_total else rows[:-1], has_total))
    totals = frame[(frame["breakdown"] == "volume") & (frame["category"] == "all")]
    trend_q = p.trend(8)
    series = totals.set_index("quarter")["reports"]
    chart = charts.lines(
        trend_q,
        {"Intelligence reports": [protect_count(int(series.get(q, 0)), k).public for q in trend_q]},
        ctx.sentence(SENTENCES, "intelligence_chart_title"),
        "Reports",
    )
    return {
        "available": True,
        "tables": tables,
        "linkage": ctx.sentence(SENTENCES, "intelligence_linkage"),
        "chart": charts.to_div(chart, "chart-intelligence"),
    }


# --------------------------------------------------------------------------- perpetrators
def perpetrator_demographics(ctx: Context) -> list[tuple[str, list]]:
    tables = comparison_rows(
        ctx, "rpt_profile_perpetrator_demographics", ctx.periods.columns, "da_group = 'all'"
    )
    return [
        (label, table_of(ctx, tables, dimension))
        for label, dimension in (("Sex", "sex"), ("Age at report", "age_band"))
    ]


# --------------------------------------------------------------------------- compliance trend
def compliance_trend(ctx: Context) -> str:
    """Each compliance rate over the last eight quarters (suppressed rates are gaps)."""
    p, k = ctx.periods, ctx.k
    quarters = p.trend(8)
    frame = ctx.rows(
        "select quarter, measure_label, numerator, denominator from reporting.rpt_compliance "
        "order by measure, quarter"
    )
    series: dict[str, list[float | None]] = {}
    for label, part in frame.groupby("measure_label", sort=True):
        indexed = part.set_index("quarter")
        values = []
        for q in quarters:
            if q not in indexed.index:
                values.append(None)
                continue
            rate = protect_rate(
                int(indexed.at[q, "numerator"]), int(indexed.at[q, "denominator"]), k
            )
            values.append(rate.value)
        series[str(label)] = values
    figure = charts.lines(
        quarters, series, "Compliance over the last eight quarters", "Share of crimes", percent=True
    )
    # eight measures: the legend goes under the plot, where it has the width it needs
    figure.update_layout(
        height=520,
        margin={"t": 56, "b": 150},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0},
    )
    return charts.to_div(figure, "chart-compliance-trend")


# --------------------------------------------------------------------------- places
def location_types(ctx: Context) -> list:
    """Crimes by recorded place type, this quarter against the previous and a year ago."""
    return table_of(ctx, comparison_rows(ctx, "rpt_places_location_type"))


def districts(ctx: Context) -> dict[str, Any]:
    """Crimes, DA and online crimes and victims per district: this quarter (and its crimes a
    year ago), suppressed with the quarter's districts as one table."""
    p, k = ctx.periods, ctx.k
    frame = ctx.rows(
        "select * from reporting.rpt_places_by_district where quarter in (?, ?) "
        "order by district_order, district",
        [p.year_ago, p.quarter],
    )
    if frame.empty:
        return {"rows": [], "has_csp": False}
    order = list(dict.fromkeys(frame["district"]))
    now = frame[frame["quarter"] == p.quarter].set_index("district")
    wide = pd.DataFrame(index=order)
    for column in ("crimes", "crimes_domestic_abuse", "crimes_online", "victims"):
        wide[column] = now[column].reindex(order).fillna(0).astype("int64")
    before = frame[frame["quarter"] == p.year_ago].set_index("district")["crimes"]
    wide["crimes_before"] = before.reindex(order).fillna(0).astype("int64")
    # Crimes (both quarters) and their DA / online parts are suppressed as tables with a
    # total row; victims are people, suppressed on their own column with its total.
    crimes = protect_table(
        wide[["crimes_before", "crimes", "crimes_domestic_abuse", "crimes_online"]],
        k,
        row_totals=False,
        column_totals=True,
    )
    victims = protect_table(wide[["victims"]], k, row_totals=False, column_totals=True)
    csp = now["csp"].reindex(order).fillna("")
    rows = [
        {
            "district": label,
            "csp": csp.get(label, "") if label != "Total" else "",
            "crimes_before": crimes.count(label, "crimes_before"),
            "crimes": crimes.count(label, "crimes"),
            "da": crimes.count(label, "crimes_domestic_abuse"),
            "online": crimes.count(label, "crimes_online"),
            "victims": victims.count(label, "victims"),
        }
        for label in [*order, "Total"]
    ]
    return {"rows": rows, "has_csp": bool((csp != "").any())}
