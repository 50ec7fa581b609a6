"""The measured forecast back-test as data the pipeline publishes.

`python -m pipelines.evaluation.forecast_backtest` writes docs/evaluation/forecast_backtest.json;
the forecasting asset loads it into marts.forecast_accuracy so the profile and the FMS export
state the accuracy that was actually measured, not a figure typed into a template.
"""

from __future__ import annotations

import json
import math

from pipelines.paths import PROJECT_ROOT

BACKTEST_JSON = PROJECT_ROOT / "docs" / "evaluation" / "forecast_backtest.json"


def backtest_rows() -> list[dict]:
    """The measured back-test (docs/evaluation/forecast_backtest.json) as accuracy rows."""
    if not BACKTEST_JSON.exists():
        return []
    payload = json.loads(BACKTEST_JSON.read_text())
    rows = []
    for dataset, s in payload.get("datasets", {}).items():
        for horizon, entry in s["by_horizon"].items():
            by_h = s.get("coverage_by_horizon", {}).get(horizon, {})
            for model, mase in entry.items():
                if model.startswith("chosen_vs"):
                    continue
                cov = s["coverage"]
                rows.append(
                    {
                        "source": f"backtest:{dataset}",
                        "series": "(all)",
                        "period": "",
                        "horizon": horizon,
                        "model": model,
                        "mase": mase,
                        "naive_mase": entry.get("naive", math.nan),
                        # The chosen model's coverage at this horizon; others over all.
                        "coverage80": by_h.get(f"{model}_80", cov.get(f"{model}_80", math.nan)),
                        "coverage95": by_h.get(f"{model}_95", cov.get(f"{model}_95", math.nan)),
                        "is_chosen": model == "chosen",
                        "break_applied": "",
                    }
                )
    return rows


def headline_accuracy(rows: list[dict]) -> dict[str, float]:
    """One-year-ahead MASE and 80% coverage of the chosen model, per back-test dataset."""
    out = {}
    for r in rows:
        if r["model"] == "chosen" and r["horizon"] == "1y":
            name = r["source"].split(":", 1)[1].replace(":", "_")
            out[f"backtest_{name}_mase_1y"] = round(r["mase"], 3)
            out[f"backtest_{name}_coverage80"] = round(r["coverage80"], 3)
    return out


def coverage_lines(rows: list[dict]) -> list[str]:
    """One sentence per held-out back-test dataset: MASE of the chosen model and of naive,
    and how often the 80% and 95% intervals held the actual (1 year ahead)."""
    out = []
    for r in rows:
        if r["model"] != "chosen" or r["horizon"] != "1y" or "held_out" not in r["source"]:
            continue
        name = r["source"].split(":", 1)[1]
        out.append(
            f"Back-test on held-out series ({name}), 1 year ahead: MASE {r['mase']:.2f} "
            f"(naive {r['naive_mase']:.2f}); the 80% interval held the actual "
            f"{r['coverage80']:.0%} of the time, the 95% interval {r['coverage95']:.0%}."
        )
    return out
