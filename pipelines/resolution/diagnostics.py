"""The trained model read for people: its parameters per comparison level and their match-weight
chart (the restricted diagnostics page, pipelines.publish.restricted, prints them)."""

from __future__ import annotations

import json
import math
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


def match_weight_chart(params: pd.DataFrame) -> go.Figure | None:
    """Each comparison level's match weight (log2 m/u) as a bar, for the restricted diagnostics
    page; None without parameters."""
    if params.empty:
        return None
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
    return figure
