"""The problem-profile sections: assessment, protective-order effectiveness, DA / online
splits, intelligence, perpetrator demographics and the compliance trend. Like
`pipelines.report.sections`, each builder reads reporting.rpt_* rows, applies disclosure
control and returns plain data for the template; the judgments themselves are ranked and
worded by the rpt_assessment_* models over the exact tests of `pipelines.assessment`."""

from __future__ import annotations

from typing import Any

from pipelines.disclosure.sentences import fill_sentence, first_complete, model_rows
from pipelines.disclosure.suppression import Count, is_primary
from pipelines.report.sections import (
    Context,
    comparison_rows,
    table_of,
)

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
    publish (their rows carry the judgment's phrase and test result)."""
    said = {}
    for kind in ("headline", "evidence", "threat"):
        rows = variants[(judgment["signal"], judgment["comparison"], kind)]
        protected = _table_protected(ctx, rows[0])
        said[kind] = first_complete(ASSESSMENT, rows, ctx.k, protected) or ""
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
    # the model's rows with their words: the template prints their columns
    ranked = [{**j, **said[j["signal"]]} for j in ranked]
    recs = model_rows(
        ctx.con, RECOMMENDATIONS, "quarter = ? order by recommendation_order", [p.quarter]
    )
    requirements = [
        {**row, "evidence": fill_sentence(REQUIREMENTS, row, k, "evidence_template").text}
        for row in model_rows(
            ctx.con, REQUIREMENTS, "quarter = ? order by requirement_order", [p.quarter]
        )
    ]
    scope = model_rows(ctx.con, SCOPE, "quarter = ?", [p.quarter])
    return {
        "judgments": [j for j in ranked if j["is_shown"]],
        "ranking": ranked,
        "recommendations": [{**r, "trigger": said[r["signal"]]["headline"]} for r in recs],
        "requirements": requirements,
        "tested": scope[0]["tests"] if scope else 0,
        "signals": scope[0]["signals"] if scope else 0,
        "significance": rules.significance,
        "min_change": rules.min_relative_change,
        "min_gap": rules.min_rate_gap,
    }
