"""The measured forecast back-test as data the pipeline publishes.

`python -m pipelines.evaluation.forecast_backtest` writes docs/evaluation/forecast_backtest.json;
the forecasting asset loads it into marts.forecast_accuracy so the profile and the FMS export
state the accuracy that was actually measured, not a figure typed into a template.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from pipelines.forecasting.core import ALL_MODELS
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


NOT_FORECAST = "not_forecast"


def cv_accuracy_rows(info: pd.DataFrame, sep: str) -> list[dict]:
    """Accuracy rows of a run (`forecast_series`' per-series summary; series named
    'name<sep>period'): every candidate's CV MASE per series (source 'cv'), and one row with
    source 'not_forecast' per series too short to forecast, so the outputs can say so."""
    rows = []
    for row in info.to_dict("records"):
        name, period = str(row["series"]).rsplit(sep, 1)
        blank = {"naive_mase": math.nan, "coverage80": math.nan, "coverage95": math.nan}
        if row.get("not_forecast"):
            rows.append(
                {
                    "source": NOT_FORECAST,
                    "series": name,
                    "period": period,
                    "horizon": "",
                    "model": "",
                    "mase": math.nan,
                    **blank,
                    "is_chosen": False,
                    "break_applied": "",
                }
            )
            continue
        for model in ALL_MODELS:
            rows.append(
                {
                    "source": "cv",
                    "series": name,
                    "period": period,
                    "horizon": "cv",
                    "model": model,
                    "mase": row.get(f"cv_mase_{model}", math.nan),
                    **blank,
                    "naive_mase": row.get("cv_mase_naive", math.nan),
                    "is_chosen": model == row["model"],
                    "break_applied": row["break_applied"],
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
