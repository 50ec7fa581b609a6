"""Key findings: the finding sentences of reporting.rpt_profile_sentences in order, each in the
first wording whose figures publish (pipelines.disclosure.sentences), then the forecast's
headline (reporting.rpt_fms_forecast_sentences, filled by the forecast section)."""

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
    if headline := ctx.figures.get("forecast"):
        out.append(headline)
    return out
