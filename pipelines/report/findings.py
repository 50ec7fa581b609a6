"""Key findings: the finding sentences of reporting.rpt_profile_sentences in order, each in the
first wording whose figures publish (pipelines.disclosure.sentences), then the forecast's
headline from the demand forecast's published figures."""

from __future__ import annotations

from pipelines.report.sections import SENTENCES, Context

FINDINGS = (
    "finding_crimes",
    "finding_da_share",
    "finding_online",
    "finding_screened",
    "finding_repeat_victims",
    "finding_perpetrators",
    "finding_hotspots",
    "finding_spo",
    "finding_compliance",
)


def key_findings(ctx: Context) -> list[str]:
    out = [sentence for kind in FINDINGS if (sentence := ctx.sentence(SENTENCES, kind))]
    fc = ctx.figures.get("forecast")
    if fc and fc.get("next_year") is not None and fc.get("last_year"):
        change = (fc["next_year"] - fc["last_year"]) / fc["last_year"]
        out.append(
            f"Demand ({fc['series']}) is forecast at about {fc['next_year']:,.0f} in "
            f"{fc['next_label']} against {fc['last_year']:,.0f} recorded in {fc['last_label']} "
            f"({change:+.0%}); ranges and how the method fared in tests are in the forecast "
            "section."
        )
    return out
