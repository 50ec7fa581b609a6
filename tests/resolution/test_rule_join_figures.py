"""The figures a rule join (no score) counts at in the weakest link are measured ones: the
settings carry the counts the resolution evaluation found on its held-in parts, no other."""

from __future__ import annotations

import json

from pipelines.evaluation.resolution import OUT_DIR, RULE_JOINS, pooled_rule_joins
from pipelines.settings import DEFAULT_SETTINGS_FILE, load_settings


def test_the_settings_rule_join_counts_are_the_evaluations_held_in_counts() -> None:
    report = json.loads((OUT_DIR / "resolution.json").read_text())
    pooled_parts = [r for r in report["results"] if r.get("rule_joins_pooled")]
    # pooled over held-in parts only: the default force's held-in part and held-in diagnostics
    assert pooled_parts
    assert {r["part"] for r in pooled_parts} <= {"held_in", "held-in 70 % / held-out 30 %"}
    figures = load_settings(DEFAULT_SETTINGS_FILE).resolution.rule_joins
    carried = {
        rule: {"joins": getattr(figures, rule).joins, "right": getattr(figures, rule).right}
        for rule in RULE_JOINS
    }
    assert carried == pooled_rule_joins(report["results"])
    for r in pooled_parts:
        assert r["dataset"] in figures.measured_on
