"""Plotly figures of the profile, in one house style.

Colours: the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies);
a series is never told apart by colour alone where it matters (lines also differ by dash and
marker). Titles state the finding; every figure carries alt text in the template.
Suppressed values arrive as None and are drawn as gaps, never as zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from pipelines.bng import lonlat_to_bng

# Okabe & Ito (2008), ordered for contrast on white.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
GREY = "#6b6b6b"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
DASHES = ["solid", "dash", "dot", "dashdot", "longdash"]
MARKERS = ["circle", "square", "diamond", "triangle-up", "x"]

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": FONT, "size": 13, "color": "#1a1a1a"},
        title={"font": {"size": 15}, "x": 0, "xanchor": "left"},
        colorway=PALETTE,
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin={"l": 56, "r": 40, "t": 56, "b": 48},  # r: room for a slanted last tick label
        xaxis={"showgrid": False, "linecolor": "#999", "ticks": "outside", "automargin": True},
        yaxis={"gridcolor": "#e5e5e5", "zeroline": False, "rangemode": "tozero"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "title": None},
        hoverlabel={"font": {"family": FONT}},
        height=340,
    )
)

CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "displayModeBar": False,  # a report, not a dashboard: no toolbar over titles
}


def to_div(figure: go.Figure, div_id: str) -> str:
    """The figure as a <div> + script; plotly.js itself is embedded once by the page."""
    return pio.to_html(
        figure, include_plotlyjs=False, full_html=False, div_id=div_id, config=CONFIG
    )


# Legend text (characters) that fits on one line above a half-width chart; a longer legend
# wraps, and gets a taller top margin so it does not run into the title or the text above.
LEGEND_ONE_LINE_CHARS = 70
SMALL_COUNTS = "Small counts (not split)"  # a stack's suppressed part, one grey segment
GREY_PART = {"color": "#d9d9d9", "pattern": {"shape": "/", "fgcolor": "#999"}}


def _finish(figure: go.Figure, title: str, y_title: str = "") -> go.Figure:
    figure.update_layout(template=TEMPLATE, title={"text": title})
    shown = [t.name or "" for t in figure.data if t.showlegend is not False]
    if sum(len(n) + 6 for n in shown) > LEGEND_ONE_LINE_CHARS:
        figure.update_layout(margin={"t": 96}, height=380)
    figure.update_yaxes(title_text=y_title)
    figure.update_xaxes(title_text="", type="category")
    return figure


def chart(
    kind: str,
    x: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    title: str,
    y_title: str = "",
    percent: bool = False,
) -> go.Figure:
    """One figure of named series over `x` (None: a gap). `stacked`: stacked bars, the
    SMALL_COUNTS series grey; `lines`: a line per series, dash and marker differing too, the
    legend under the plot when there are many; `rate_bars`: horizontal bars of the first
    series, a marker for the second, one row per `x`."""
    figure, value = go.Figure(), "%{y:.0%}" if percent else "%{y:,}"
    for i, (name, y) in enumerate(series.items()):
        colour, hover = PALETTE[i % len(PALETTE)], f"%{{x}}: {value}<extra>{name}</extra>"
        if kind == "stacked":
            marker = GREY_PART if name == SMALL_COUNTS else {"color": colour}
            figure.add_bar(x=list(x), y=list(y), name=name, marker=marker, hovertemplate=hover)
        elif kind == "lines":
            figure.add_scatter(
                x=list(x), y=list(y), name=name, mode="lines+markers", connectgaps=False,
                line={"color": colour, "dash": DASHES[i % len(DASHES)]}, hovertemplate=hover,
                marker={"symbol": MARKERS[i % len(MARKERS)], "size": 7},
            )  # fmt: skip
        else:
            marker = {"symbol": "line-ns", "size": 22, "line": {"width": 3, "color": PALETTE[5]}}
            trace = (
                go.Bar(marker_color=colour) if i == 0 else go.Scatter(mode="markers", marker=marker)
            )
            trace.update(y=list(x), x=list(y), name=name, orientation="h" if i == 0 else None,
                         hovertemplate=f"%{{y}}: %{{x:.0%}}<extra>{name}</extra>")  # fmt: skip
            figure.add_trace(trace)
    if kind == "rate_bars":
        figure.update_layout(template=TEMPLATE, title={"text": title}, height=90 + 42 * len(x))
        figure.update_xaxes(tickformat=".0%", range=[0, 1.02], showgrid=True, gridcolor="#e5e5e5")
        return figure.update_yaxes(autorange="reversed", type="category", automargin=True)
    figure = _finish(
        figure.update_layout(barmode="stack" if kind == "stacked" else None), title, y_title
    )
    if percent:
        figure.update_yaxes(tickformat=".0%", range=[0, 1])
    if kind == "lines" and len(series) > 2:  # many lines: the legend under the plot
        legend = {"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0}
        figure.update_layout(height=520, margin={"t": 56, "b": 150}, legend=legend)
    return figure


def forecast_chart(quarters: pd.DataFrame, title: str, y_title: str) -> go.Figure:
    """A series' recorded quarters (a line) and forecast ones (dashed) in its 80% and 95%
    ranges: its rows of reporting.rpt_fms_quarters (`kind` recorded or forecast) as published,
    a suppressed figure ('[c]') or a quarter of a delivery gap (no figure) a gap in the line; a
    year is ticked at its first quarter."""
    x, forecast = list(quarters["quarter"]), (quarters["kind"] == "forecast").to_numpy()

    def y(column: str, keep: np.ndarray) -> list[float | None]:
        return [
            float(v) if wanted and v is not None and not isinstance(v, str) else None
            for v, wanted in zip(quarters[column], keep, strict=True)
        ]

    figure = go.Figure()
    band = {"mode": "lines", "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False}
    for level, alpha in ((95, 0.12), (80, 0.25)):
        figure.add_scatter(x=x, y=y(f"hi{level}", forecast), **band)
        figure.add_scatter(
            x=x, y=y(f"lo{level}", forecast), fill="tonexty",
            fillcolor=f"rgba(0,114,178,{alpha})", name=f"{level}% interval",
            **{**band, "showlegend": True},
        )  # fmt: skip
    figure.add_scatter(
        x=x, y=y("value", ~forecast), name="Recorded", mode="lines+markers",
        line={"color": "#1a1a1a"}, marker={"size": 5},
    )  # fmt: skip
    figure.add_scatter(
        x=x, y=y("value", forecast), name="Forecast", mode="lines",
        line={"color": PALETTE[0], "dash": "dash", "width": 2.5},
    )  # fmt: skip
    ticks = [q for q in x if q.endswith("-Q1")]
    figure = _finish(figure, title, y_title)
    return figure.update_xaxes(tickmode="array", tickvals=ticks, ticktext=[t[:4] for t in ticks])


def cell_map(
    cells: pd.DataFrame,
    boundary: tuple[list[float | None], list[float | None]] | None,
    title: str,
    districts: Mapping[str, list] | None = None,
) -> go.Figure:
    """Grid cells at their centres on British National Grid metres, one layer per `map_layer`
    in `map_layer_order` (its colour `map_colour`), with the force boundary.

    No tiles and no geo projection (plotly's geo traces fetch topojson from a CDN): plain
    cartesian axes locked to equal scale, drawn from local geometry only.
    """
    figure = go.Figure()
    if boundary is not None:
        figure.add_scatter(
            x=boundary[0], y=boundary[1], mode="lines", name="Force area",
            line={"color": GREY, "width": 1}, hoverinfo="skip",
        )  # fmt: skip
    if districts is not None:
        figure.add_scatter(
            x=districts["xs"], y=districts["ys"], mode="lines", name="District boundary",
            line={"color": "#9a9a9a", "width": 0.8, "dash": "dot"}, hoverinfo="skip",
        )  # fmt: skip
        figure.add_scatter(
            x=districts["label_x"], y=districts["label_y"], text=districts["labels"],
            mode="text", textfont={"size": 11, "color": "#444"}, showlegend=False,
            hoverinfo="skip",
        )  # fmt: skip
    x, y = lonlat_to_bng(cells["longitude"].to_numpy(), cells["latitude"].to_numpy())
    cells = cells.assign(x=x, y=y).sort_values("map_layer_order", kind="stable")
    for name, layer in cells.groupby("map_layer", sort=False):
        # A 500 m square is a pixel or two on a force-wide map: each cell is drawn as a square
        # marker of fixed screen size at its centre (the hover names its crimes), outlined so
        # neighbouring cells stay apart.
        figure.add_scatter(
            x=list(layer["x"]), y=list(layer["y"]), mode="markers", name=name,
            marker={"symbol": "square", "size": 11, "color": layer["map_colour"].iloc[0],
                    "line": {"color": "#1a1a1a", "width": 0.6}},
            text=[f"{int(n)} crimes" for n in layer["crimes"]], hoverinfo="text+name",
        )  # fmt: skip
    figure.update_layout(template=TEMPLATE, title={"text": title}, height=560)
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, scaleanchor="x", scaleratio=1, rangemode="normal")
    return figure
