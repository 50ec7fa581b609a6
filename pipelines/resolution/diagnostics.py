"""The restricted model summary: parameters and a match-weight chart (plotly, offline HTML)."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go


def parameter_table(model: dict[str, Any]) -> pd.DataFrame:
    """One row per comparison level: m, u and the match weight log2(m/u)."""
    rows = []
    for comparison in model.get("comparisons", []):
        name = comparison.get("output_column_name", "")
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = math.log2(m / u) if m and u else None
            rows.append(
                {
                    "field": name,
                    "level": level.get("label_for_charts", level.get("sql_condition", "")),
                    "m_probability": m,
                    "u_probability": u,
                    "match_weight": weight,
                    "tf_adjusted": bool(level.get("tf_adjustment_column")),
                }
            )
    return pd.DataFrame(rows)


def model_summary(model: dict[str, Any], stats: dict[str, Any], threshold: float) -> pd.DataFrame:
    """The run's model as one row for marts.resolution_model: the Splink settings with their
    trained m/u probabilities and the run's counts (no record values: Splink's saved settings
    hold no term-frequency tables)."""
    return pd.DataFrame(
        [
            {
                "model_json": json.dumps(model, sort_keys=True, default=str),
                "stats_json": json.dumps(stats, sort_keys=True, default=str),
                "match_probability_threshold": threshold,
            }
        ]
    )


def write_diagnostics(
    model: dict[str, Any], stats: dict[str, Any], threshold: float, path: Path
) -> Path:
    """Write the diagnostics page (plotly.js embedded, so it opens offline)."""
    params = parameter_table(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = [
        "<html><head><meta charset='utf-8'><title>Person resolution diagnostics</title></head>",
        "<body style='font-family:sans-serif;max-width:1100px;margin:auto'>",
        "<p><b>OFFICIAL-SENSITIVE</b>: restricted model summary of person resolution.</p>",
        "<h1>Person resolution: model summary</h1>",
        f"<p>Match probability threshold: {threshold}. Prior probability that two random "
        f"mentions match: {model.get('probability_two_random_records_match', float('nan')):.3g}."
        "</p>",
        "<h2>Run</h2><pre>" + html.escape(json.dumps(stats, indent=2, default=str)) + "</pre>",
    ]
    if not params.empty:
        labels = params["field"] + ": " + params["level"]
        colours = ["#2a7" if (w or 0) > 0 else "#c33" for w in params["match_weight"]]
        figure = go.Figure(
            go.Bar(x=params["match_weight"], y=labels, orientation="h", marker_color=colours)
        )
        figure.update_layout(
            title="Match weight per comparison level (log2 m/u; before term-frequency adjustment)",
            height=28 * len(params) + 150,
            yaxis={"autorange": "reversed"},
            xaxis_title="match weight",
            margin={"l": 320},
        )
        parts.append(figure.to_html(full_html=False, include_plotlyjs=True))
        parts.append("<h2>Parameters</h2>")
        parts.append(params.to_html(index=False, float_format=lambda v: f"{v:.4g}"))
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    path.chmod(0o600)  # restricted: readable by the owner only, like the tasking pack
    return path
