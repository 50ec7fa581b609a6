"""Key findings: the sentences of reporting.rpt_profile_sentences that its YAML lists for them
(`sentences_in.key_findings`), each in the first wording whose figures publish
(pipelines.disclosure.sentences), then the forecast's headline
(reporting.rpt_fms_forecast_sentences, filled by the forecast section)."""

from __future__ import annotations

from pipelines.report.printed import sentences_in
from pipelines.report.sections import SENTENCES, Context


def key_findings(ctx: Context) -> list[str]:
    kinds = sentences_in(SENTENCES, "key_findings")
    out = [sentence for kind in kinds if (sentence := ctx.sentence(SENTENCES, kind))]
    if headline := ctx.figures.get("forecast"):
        out.append(headline)
    return out
