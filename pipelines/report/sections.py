"""The profile's sections, in the order of a NIM problem profile. Each builder reads its
rows from the reporting layer (dbt models `reporting.rpt_*`, where every number is computed),
applies disclosure control and returns plain data for the template (numbers as `Count`/`Rate`,
tables as strings, charts as HTML divs). Nothing here prints a person-level value: every
figure is an aggregate that has been through `pipelines.disclosure`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipelines.bng import lonlat_to_bng
from pipelines.disclosure import (
    Count,
    protect_count,
    protect_rate,
    protect_series,
    protect_table,
)
from pipelines.disclosure.locations import publishable
from pipelines.disclosure.suppression import TOTAL, Rate
from pipelines.quarters import quarter_end, quarter_start
from pipelines.report import charts
from pipelines.report.compare import (
    Figure3,
    Periods,
    comparison_table,
    direction,
    subset_count,
    trend_table,
)
from pipelines.settings import Settings

ROUTES = ["principal", "included", "screened"]
ROUTE_LABELS = {
    "principal": "Principal classification is stalking",
    "included": "Stalking recorded as an included classification",
    "screened": "Flagged by screening (possible hidden stalking)",
}


@dataclass
class Context:
    con: duckdb.DuckDBPyConnection
    periods: Periods
    settings: Settings
    quarter_dir: Path
    gaps: list[str] = field(default_factory=list)  # information gaps found while building
    figures: dict[str, Any] = field(default_factory=dict)  # headline figures for findings

    @property
    def k(self) -> int:
        return self.settings.disclosure.min_count

    def rows(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """A reporting.rpt_* query as a frame (report code reads nothing else)."""
        return self.con.execute(sql, params or []).df()

    def missing(self, table: str, what: str) -> dict[str, Any]:
        self.gaps.append(f"{what} could not be produced: the table {table} was not available.")
        return {"available": False, "reason": f"{table} not available in this run"}


def _figure3(label: str, frame: pd.DataFrame, periods: Periods, k: int, col: str = "n") -> Figure3:
    """A single count at three quarters (primary suppression each: no total beside it)."""
    values = frame.set_index("quarter")[col] if len(frame) else pd.Series(dtype="int64")

    def at(q: str) -> Count:
        return protect_count(int(values.get(q, 0) or 0), k)

    return Figure3(label, at(periods.quarter), at(periods.previous), at(periods.year_ago))


def _quarters_in(frame: pd.DataFrame, quarters: list[str]) -> pd.DataFrame:
    return frame[frame["quarter"].isin(quarters)]


# --------------------------------------------------------------------------- demand & trends
def _breakdown(rows: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[str]]:
    """One breakdown of reporting.rpt_crimes_by_category as (quarter, cat, n) and its order."""
    part = rows[rows["breakdown"] == name].sort_values(["category_order", "quarter"])
    frame = part.rename(columns={"category_label": "cat", "crimes": "n"})
    return frame[["quarter", "cat", "n"]], list(dict.fromkeys(part["category_label"]))


def demand(ctx: Context) -> dict[str, Any]:
    p, k = ctx.periods, ctx.k
    rows = ctx.rows(
        "select quarter, breakdown, category_label, category_order, crimes "
        "from reporting.rpt_crimes_by_category"
    )
    # an empty universe has no first quarter (min() is NaN, a float): start at this quarter
    first = rows["quarter"].dropna().min() if not rows.empty else None
    first = first if isinstance(first, str) else p.quarter
    trend_q = [q for q in p.trend(12) if q >= first]
    if rows.empty or int(rows["crimes"].sum()) == 0:
        ctx.gaps.append(
            "No crime in this delivery is in the stalking universe (no stalking "
            "classification and none screened in): demand, trends, hotspots, perpetrators "
            "and victims cannot be shown."
        )
    da, _ = _breakdown(rows, "domestic_abuse")
    # Both sides of a flag are always rows (zero when absent): charts and shares read them.
    da_order = ["Domestic abuse", "Not domestic abuse"]
    totals = da.groupby("quarter")["n"].sum().reset_index()
    total = _figure3("Crimes in the stalking universe", totals, p, k)
    ctx.figures["total"] = total

    _, da_rows = comparison_table(da, "cat", p, k, da_order)
    online, _ = _breakdown(rows, "online")
    on_order = ["Online", "Not online"]
    _, on_rows = comparison_table(online, "cat", p, k, on_order)
    routes, _ = _breakdown(rows, "identification_route")
    # Every route is a row, with zero where no crime came in that way (the screened row is
    # read by position below and by the key findings).
    route_order = [ROUTE_LABELS[route] for route in ROUTES]
    _, route_rows = comparison_table(routes, "cat", p, k, route_order)
    cat_frame, cat_order = _breakdown(rows, "offence_category")
    _, cat_rows = comparison_table(cat_frame, "cat", p, k, cat_order)

    extra_tables = []
    for name, caption in (
        ("risk_level", "Stalking crimes by recorded risk grade"),
        ("outcome_group", "Stalking crimes by outcome so far"),
    ):
        grouped, order = _breakdown(rows, name)
        extra_tables.append((caption, comparison_table(grouped, "cat", p, k, order)[1]))

    # Shares: rates on the suppressed counts are suppressed too.
    def share(rows: list[Figure3], which: str) -> Rate:
        tot = rows[-1]
        return protect_rate(getattr(rows[0], which), getattr(tot, which), k)

    da_share = {w: share(da_rows, w) for w in ("now", "previous", "year_ago")}
    online_share = {w: share(on_rows, w) for w in ("now", "previous", "year_ago")}
    screened = route_rows[2]
    ctx.figures.update(
        da_share=da_share, online_share=online_share, screened=screened, routes=route_rows
    )

    da_series = trend_table(_quarters_in(da, trend_q), "cat", trend_q, k, da_order, True)
    da_totals = da_series.pop("Total")
    trend_dir = direction(total.now, total.year_ago)
    title = "Stalking crimes by domestic-abuse flag"
    if trend_dir == "was stable":
        title = "Stalking crimes were stable on the same quarter last year"
    elif trend_dir:
        change = total.vs_year.lstrip("+−")
        title = f"Stalking crimes {trend_dir} {change} on the same quarter last year"
    da_chart = charts.stacked_bars(trend_q, da_series, title, totals=da_totals)

    on_public = trend_table(_quarters_in(online, trend_q), "cat", trend_q, k, on_order)
    tot_public = [
        (a or 0) + (b or 0) if a is not None and b is not None else None
        for a, b in zip(on_public["Online"], on_public["Not online"], strict=True)
    ]
    shares = [
        protect_rate(Count(int(o)), Count(int(t)), k).value
        if o is not None and t is not None
        else None
        for o, t in zip(on_public["Online"], tot_public, strict=True)
    ]
    online_chart = charts.lines(
        trend_q,
        {"Online share": shares},
        _share_title("Online share", online_share),
        "Share of crimes",
        percent=True,
    )
    route_series = trend_table(_quarters_in(routes, trend_q), "cat", trend_q, k, route_order, True)
    route_totals = route_series.pop("Total")
    route_chart = charts.stacked_bars(
        trend_q,
        route_series,
        f"{screened.now} crimes in {p.quarter} entered the profile only through screening",
        totals=route_totals,
    )
    return {
        "available": True,
        "total": total,
        "tables": [
            ("Domestic abuse flag", da_rows),
            ("Online flag", on_rows),
            ("Identification route", route_rows),
            ("Principal offence category", cat_rows),
        ],
        "extra_tables": extra_tables,
        "da_share": da_share,
        "online_share": online_share,
        "charts": [
            (
                "da",
                charts.to_div(da_chart, "chart-demand-da"),
                f"Stacked bars of stalking crimes per quarter for the last {len(trend_q)} "
                "quarters, domestic abuse and not domestic abuse.",
            ),
            (
                "online",
                charts.to_div(online_chart, "chart-demand-online"),
                "Line chart of the share of stalking crimes flagged online, per quarter.",
            ),
            (
                "routes",
                charts.to_div(route_chart, "chart-demand-routes"),
                "Stacked bars of stalking crimes per quarter by how they were identified: "
                "principal classification, included classification, or screening.",
            ),
        ],
    }


def _share_title(prefix: str, shares: dict[str, Rate]) -> str:
    now, before = shares["now"], shares["year_ago"]
    if now.suppressed or now.value is None:
        return prefix
    text = f"{prefix}: {now.value:.0%} this quarter"
    if not before.suppressed and before.value is not None:
        text += f" ({before.value:.0%} a year earlier)"
    return text


# --------------------------------------------------------------------------- victims
REPEAT_BANDS = {
    "2": "repeat_victims_2_crimes",
    "3–4": "repeat_victims_3_to_4_crimes",
    "5 or more": "repeat_victims_5_or_more_crimes",
}


def victims(ctx: Context) -> dict[str, Any]:
    p, k = ctx.periods, ctx.k
    by_quarter = ctx.rows("select * from reporting.rpt_victims_by_quarter")
    out: dict[str, Any] = {"available": True}
    out["repeat"] = _figure3(
        "Repeat victims (people, 12 months to quarter end)", by_quarter, p, k, "repeat_victims"
    )
    now = by_quarter[by_quarter["quarter"] == p.quarter]
    counts = {band: int(now[column].sum()) for band, column in REPEAT_BANDS.items()}
    table = protect_series(counts, k)
    out["repeat_bands"] = [(b, table.count(b, "count")) for b in [*REPEAT_BANDS, TOTAL]]
    ctx.figures["repeat_victims"] = out["repeat"]
    out["victims"] = _figure3(
        "Victims of stalking crimes (people, in the quarter)", by_quarter, p, k, "victims"
    )
    # Share of this quarter's victims who are repeat victims (a victim this quarter who had 2+
    # crimes in the 12 months); repeat victims with no crime this quarter are out.
    repeat_now = int(now["repeat_victims_with_crime_in_quarter"].sum())
    out["repeat_share"] = protect_rate(repeat_now, out["victims"].now, k)
    demographics = ctx.rows(
        "select quarter, dimension, category_label as cat, category_order, victims as n "
        "from reporting.rpt_victim_demographics where quarter in (?, ?) "
        "order by dimension, category_order",
        [p.quarter, p.year_ago],
    )
    demo = []
    for label, dimension in (("Sex", "sex"), ("Age at report", "age_band")):
        frame = demographics[demographics["dimension"] == dimension]
        order = list(dict.fromkeys(frame["cat"]))
        _, rows = comparison_table(frame[["quarter", "cat", "n"]], "cat", p, k, order)
        demo.append((label, rows))
    out["demographics"] = demo
    return out


# --------------------------------------------------------------------------- perpetrators
PERPETRATOR_ROWS = [
    # label, column, the whole it is a subset of (None: a count on its own)
    # {window}: the look-back of the quarter's perpetrator list (a setting), named on every row
    ("Suspects and offenders (people, crime in the {window})", "perpetrators", None),
    ("Repeat perpetrators ({window})", "repeat_perpetrators", "perpetrators"),
    ("Serial perpetrators (2+ victims, {window})", "serial_perpetrators", "perpetrators"),
    (
        "High-harm perpetrators (tasking list at quarter end)",
        "high_harm_perpetrators",
        "perpetrators",
    ),
    ("With an order breach in the last 12 months", "with_breach_12m", "perpetrators"),
    ("With an active protective order at quarter end", "with_active_order", "perpetrators"),
    (
        "High-harm with no active order at quarter end",
        "high_harm_without_order",
        "high_harm_perpetrators",
    ),
]


def perpetrators(ctx: Context) -> dict[str, Any]:
    p, k = ctx.periods, ctx.k
    frame = ctx.rows(
        "select * from reporting.rpt_perpetrators_by_quarter where quarter in (?, ?, ?)",
        p.columns,
    ).set_index("quarter")

    def row(label: str, column: str, whole: str | None) -> Figure3:
        def at(q: str) -> Count:
            if q not in frame.index:
                return Count(0)
            part = int(frame.at[q, column])
            if whole is None:
                return protect_count(part, k)
            return subset_count(part, int(frame.at[q, whole]), k)

        return Figure3(label, at(p.quarter), at(p.previous), at(p.year_ago))

    window = f"{ctx.settings.rfgv.lookback_months} months to quarter end"
    rows = [row(label.format(window=window), *spec) for label, *spec in PERPETRATOR_ROWS]
    ctx.figures.update(perpetrators=rows)
    relationships = ctx.rows(
        "select quarter, relationship_label as cat, perpetrator_records as n "
        "from reporting.rpt_perpetrator_relationships order by relationship_order, quarter"
    )
    order = list(dict.fromkeys(relationships["cat"]))
    _, relationship_rows = comparison_table(relationships, "cat", p, k, order)
    return {"available": True, "rows": rows, "relationships": relationship_rows}


# --------------------------------------------------------------------------- locations
CHANGE_COLUMNS = {
    "Hotspot: new": "new_hot_cells",
    "Hotspot: intensifying": "intensifying_hot_cells",
    "Hotspot: persistent": "persistent_hot_cells",
    "Hotspot: diminishing": "diminishing_hot_cells",
    "Former hotspot": "former_hot_cells",
}


def locations(ctx: Context, boundary_path: Path | None) -> dict[str, Any]:
    p, k = ctx.periods, ctx.k
    by_quarter = ctx.rows("select * from reporting.rpt_hotspots_by_quarter")
    hot_cells = _figure3(
        "Predicted hotspot cells (method chosen by back-test)", by_quarter, p, 1, "hot_cells"
    )
    indexed = by_quarter.set_index("quarter")
    if by_quarter.empty or int(by_quarter["located_crimes"].sum()) == 0:
        ctx.gaps.append(
            "No stalking crime in these quarters has a location: hotspots cannot be shown."
        )

    def share(q: str) -> Rate:
        if q not in indexed.index:
            return protect_rate(0, 0, k)
        row = indexed.loc[q]
        return protect_rate(int(row["crimes_in_hot_cells"]), int(row["located_crimes"]), k)

    hot_share = {"now": share(p.quarter), "year_ago": share(p.year_ago)}
    change_rows = [
        (label, int(indexed.at[p.quarter, column]) if p.quarter in indexed.index else 0)
        for label, column in CHANGE_COLUMNS.items()
    ]
    ctx.figures.update(hot_cells=hot_cells, hot_share=hot_share)
    now = ctx.rows(
        "select cell_id, latitude, longitude, crimes, victims, is_hotspot, change_label, "
        "map_layer, map_layer_order from reporting.rpt_hotspot_cells where quarter = ? "
        "order by cell_id",
        [p.quarter],
    )
    # The map: only cells with k or more different victims are drawn (disclosure rule for
    # locations, pipelines.disclosure.locations); fewer is in effect the square around a home.
    shown = publishable(now, k)
    published = now[shown]
    hidden_hot = int((now["is_hotspot"] & ~shown).sum())
    layers = _map_layers(published, ctx.settings.hotspots.cell_size_m)
    boundary = _boundary_xy(boundary_path)
    title = f"{len(published)} cells had {k} or more different victims in {p.quarter}"
    if published.empty:
        title = f"No grid cell had {k} or more different victims in {p.quarter}"
    from pipelines.places import load_districts, resolve_districts_file

    places = ctx.settings.places
    districts_file = resolve_districts_file(
        boundary_path.parent if boundary_path is not None else None, places.districts_geojson
    )
    districts = load_districts(districts_file, places.district_property)
    if not districts:
        ctx.gaps.append(
            "No district boundaries were available (no districts.geojson beside the extracts "
            "and none configured under places): crimes are not placed in districts."
        )
    figure = charts.cell_map(layers, boundary, title, _district_lines(districts))
    cell_district = ctx.rows("select cell_id, district from reporting.rpt_places_cells")
    district_of = dict(zip(cell_district["cell_id"], cell_district["district"], strict=True))
    from pipelines.hotspots.predict import backtest_sentence

    backtest = backtest_sentence(ctx.rows("select * from marts.hotspot_method_backtest"))
    return {
        "available": True,
        "backtest": backtest,
        "hot_cells": hot_cells,
        "hot_share": hot_share,
        "change_rows": change_rows,
        "published_cells": len(published),
        "hidden_hot": hidden_hot,
        "chart": charts.to_div(figure, "chart-hotspot-map"),
        "top_cells": [
            (i + 1, district_of.get(r.cell_id, "–"), Count(int(r.crimes)), r.change_label)
            for i, r in enumerate(
                published.sort_values(["crimes", "cell_id"], ascending=[False, True])
                .head(10)
                .itertuples()
            )
        ],
        "districts": len(districts),
    }


def _map_layers(cells: pd.DataFrame, size_m: int) -> dict[str, tuple[list, list, list]]:
    layers: dict[str, tuple[list, list, list]] = {}
    if cells.empty:
        return layers
    x, y = lonlat_to_bng(cells["longitude"].to_numpy(), cells["latitude"].to_numpy())
    half = size_m / 2
    for cx, cy, n, label in zip(x, y, cells["crimes"], cells["map_layer"], strict=True):
        xs, ys, texts = layers.setdefault(label, ([], [], []))
        # Rounded to 100 m: a published cell is an area, its centre to the metre adds nothing.
        xs += [cx - half, cx + half, cx + half, cx - half, cx - half, None]
        ys += [cy - half, cy - half, cy + half, cy + half, cy - half, None]
        texts += [f"{int(n)} crimes"] * 5 + [""]
    order = cells.sort_values("map_layer_order")["map_layer"]
    return {name: layers[name] for name in dict.fromkeys(order)}


def _district_lines(districts: list) -> dict[str, list] | None:
    """District outlines (BNG metres, simplified) and a label point inside each district."""
    if not districts:
        return None
    import shapely

    xs: list[float | None] = []
    ys: list[float | None] = []
    labels = []
    for district in districts:
        outline = district.geometry.simplify(0.002)
        for polygon in getattr(outline, "geoms", [outline]):
            if polygon.geom_type != "Polygon":
                continue
            lon, lat = np.asarray(polygon.exterior.coords).T
            bx, by = lonlat_to_bng(lon, lat)
            xs += [round(float(v)) for v in bx] + [None]
            ys += [round(float(v)) for v in by] + [None]
        point = shapely.point_on_surface(district.geometry)
        lx, ly = lonlat_to_bng(np.array([point.x]), np.array([point.y]))
        labels.append((district.name, round(float(lx[0])), round(float(ly[0]))))
    return {"xs": xs, "ys": ys, "labels": labels}


def _boundary_xy(path: Path | None) -> tuple[list, list] | None:
    """The force boundary outline in BNG metres from a local GeoJSON (never a tile server)."""
    if path is None or not path.exists():
        return None
    import shapely

    features = json.loads(path.read_text())
    geoms = [shapely.geometry.shape(f["geometry"]) for f in features.get("features", [])]
    if not geoms:
        return None
    outline = shapely.union_all(geoms).simplify(0.002)
    xs: list[float | None] = []
    ys: list[float | None] = []
    polygons = getattr(outline, "geoms", [outline])
    for polygon in polygons:
        if polygon.geom_type != "Polygon":
            continue
        lon, lat = np.asarray(polygon.exterior.coords).T
        bx, by = lonlat_to_bng(lon, lat)
        xs += [round(float(v)) for v in bx] + [None]
        ys += [round(float(v)) for v in by] + [None]
    return xs, ys


# --------------------------------------------------------------------------- orders
def orders(ctx: Context) -> dict[str, Any]:
    p, k = ctx.periods, ctx.k
    events = ctx.rows(
        "select event, quarter, order_type_label as cat, orders as n "
        "from reporting.rpt_orders_by_quarter where quarter in (?, ?, ?) "
        "order by event_order, order_type_order, quarter",
        p.columns,
    )
    tables = []
    for event in dict.fromkeys(events["event"]):
        frame = events[events["event"] == event]
        order = list(dict.fromkeys(frame["cat"]))
        _, rows = comparison_table(frame[["quarter", "cat", "n"]], "cat", p, k, order)
        tables.append((event, rows))
    stalking = ctx.rows(
        "select * from reporting.rpt_stalking_orders_by_quarter where quarter in (?, ?, ?)",
        p.columns,
    ).set_index("quarter")

    def in_force(q: str) -> Count:
        return protect_count(int(stalking.at[q, "spo_in_force"]) if q in stalking.index else 0, k)

    spo_active = Figure3(
        "Stalking protection orders in force at quarter end",
        in_force(p.quarter),
        in_force(p.previous),
        in_force(p.year_ago),
    )
    followup = None
    if p.year_ago in stalking.index and pd.notna(stalking.at[p.year_ago, "grants_followed_up"]):
        row = stalking.loc[p.year_ago]
        granted = int(row["grants_followed_up"])
        followup = {
            "quarter": p.year_ago,
            "months": int(row["followup_months"]),
            "rate": protect_rate(int(row["breached_in_followup"] or 0), granted, k),
            "granted": protect_count(granted, k),
        }
    ctx.figures.update(orders=tables, spo_active=spo_active)
    return {"available": True, "tables": tables, "spo_active": spo_active, "followup": followup}


# --------------------------------------------------------------------------- compliance
def compliance(ctx: Context) -> dict[str, Any]:
    p, k = ctx.periods, ctx.k
    frame = ctx.rows(
        "select * from reporting.rpt_compliance where quarter in (?, ?, ?) order by measure",
        p.columns,
    )
    split = True
    rows = []
    for measure in dict.fromkeys(frame["measure"]):
        per_q = frame[frame["measure"] == measure].set_index("quarter")

        def rate(q: str, per_q: pd.DataFrame = per_q) -> tuple[Rate, Count, Count]:
            if q not in per_q.index:
                return Rate(None), Count(0), Count(0)
            num, den = int(per_q.at[q, "numerator"]), int(per_q.at[q, "denominator"])
            return (
                protect_rate(num, den, k),
                subset_count(num, den, k),
                protect_count(den, k),
            )

        now, num, den = rate(p.quarter)

        def split_rate(side: str, per_q: pd.DataFrame = per_q) -> Rate:
            if p.quarter not in per_q.index:
                return Rate(None)
            n, d = (
                per_q.at[p.quarter, f"numerator_{side}"],
                per_q.at[p.quarter, f"denominator_{side}"],
            )
            if pd.isna(n) or pd.isna(d):
                return Rate(None)
            return protect_rate(int(n), int(d), k)

        rows.append(
            {
                "measure": per_q["measure_label"].iloc[0],
                "description": per_q["measure_description"].fillna("").iloc[0],
                "now": now,
                "numerator": num,
                "denominator": den,
                "previous": rate(p.previous)[0],
                "year_ago": rate(p.year_ago)[0],
                "da": split_rate("da"),
                "non_da": split_rate("non_da"),
            }
        )
    rated = [r for r in rows if not r["now"].suppressed and r["now"].value is not None]
    worst = min(rated, key=lambda r: r["now"].value) if rated else None
    ctx.figures["compliance_worst"] = worst
    title = "Victims' Code and SPO compliance"
    if worst:
        title = f"Lowest compliance: {worst['measure'].lower()} ({worst['now']})"
    figure = charts.compliance_bars(
        [r["measure"] for r in rows],
        [r["now"].value for r in rows],
        [r["year_ago"].value for r in rows],
        p.quarter,
        p.year_ago,
        title,
    )
    return {
        "available": True,
        "rows": rows,
        "split": split,
        "chart": charts.to_div(figure, "chart-compliance"),
    }


# --------------------------------------------------------------------------- forecast
def _public_actuals(frame: pd.DataFrame, k: int) -> dict[tuple[str, Any], int | None]:
    """Recorded values as the rest of the profile would publish them: series that split the
    same total (DA / non-DA, online / offline, routes, categories) are suppressed together
    with secondary suppression per period, so no chart can undo a table's suppression."""
    actual = frame[frame["kind"] == "actual"]
    out: dict[tuple[str, Any], int | None] = {}
    for _, family in actual.groupby("series_family"):
        wide = (
            family.pivot_table(
                index="series", columns="period_start", values="value", aggfunc="sum"
            )
            .fillna(0)
            .round()
            .astype("int64")
        )
        totals = len(wide) > 1
        public = protect_table(wide, k, row_totals=False, column_totals=totals).public()
        for name in wide.index:
            for day in wide.columns:
                out[(name, day)] = public.at[name, day]
    return out


def forecast(ctx: Context) -> dict[str, Any]:
    k = ctx.k
    frame = ctx.rows(
        "select * from reporting.rpt_demand_forecast order by series_order, period_start"
    )
    if frame.empty:
        return ctx.missing("marts.demand_forecast (empty)", "The demand forecast")
    period = frame["granularity"].iloc[0]
    per_year = 4 if period == "quarter" else 12
    public = _public_actuals(frame, k)
    totals = ctx.rows("select * from reporting.rpt_forecast_summary").set_index("series")
    charts_out, summary = [], []
    for i, (name, s) in enumerate(frame.groupby("series_order", sort=True)):
        name, label = s["series"].iloc[0], s["series_label"].iloc[0]
        s = s.assign(label=s["period_label"])
        fc = (s["kind"] == "forecast").to_numpy()
        if not fc.any():
            continue
        history = [public.get((name, d)) for d in s.loc[~fc, "period_start"]]
        window = history[-per_year:]
        # A 12-month total beside a chart with a suppressed period would reveal it.
        last_year = float(sum(window)) if window and all(v is not None for v in window) else None
        row = totals.loc[name]
        next_year = float(row["forecast_next_year"])
        summary.append(
            {
                "series": label,
                "model": row["model"],
                "last_year": last_year,
                "next_year": next_year,
                "horizon_total": float(row["forecast_horizon_total"]),
                "end": row["last_period_label"],
                "lo95_end": float(row["lo95_last_period"]),
                "hi95_end": float(row["hi95_last_period"]),
            }
        )
        if i >= 3:  # charts for the headline series; every series is in the table
            continue
        # Recorded counts below the threshold are left out of the chart like any other count.
        actual = [
            None if kind != "actual" or public.get((name, d)) is None else float(public[(name, d)])
            for kind, d in zip(s["kind"], s["period_start"], strict=True)
        ]

        def only_fc(col: str, s: pd.DataFrame = s, fc: np.ndarray = fc) -> list:
            return [
                float(v) if f and pd.notna(v) else None for v, f in zip(s[col], fc, strict=True)
            ]

        title = f"Forecast demand: {label}"
        if last_year:
            change = (next_year - last_year) / last_year
            verb = "rise" if change > 0.05 else "fall" if change < -0.05 else "stay level"
            title = f"{label.capitalize()}: expected to {verb} over the next year ({change:+.0%})"
        figure = charts.forecast_chart(
            list(s["label"]), actual, only_fc("value"), only_fc("lo80"), only_fc("hi80"),
            only_fc("lo95"), only_fc("hi95"), title,
        )  # fmt: skip
        ticks = [t for t in s["label"] if t.endswith(("-Q1", "-01"))]
        figure.update_xaxes(tickmode="array", tickvals=ticks, ticktext=[t[:4] for t in ticks])
        charts_out.append((label, charts.to_div(figure, f"chart-forecast-{i}")))
    ctx.figures["forecast"] = summary[0] if summary else None
    from pipelines.forecasting.accuracy import coverage_lines
    from pipelines.forecasting.tracking import warning_lines

    # Python-written marts (declared dbt sources): plain-words coverage and early warnings.
    accuracy = ctx.rows("select * from marts.forecast_accuracy")
    notes = coverage_lines(accuracy.to_dict("records"))
    notes += warning_lines(ctx.rows("select * from marts.forecast_tracking"))
    return {
        "available": True,
        "notes": notes,
        "period": period,
        "summary": summary,
        "charts": charts_out,
        "accuracy": _accuracy(ctx),
    }


ACCURACY_COLUMNS = {
    "series_label": "Series",
    "model": "Model",
    "test_label": "Test",
    "horizon_label": "Horizon",
    "mase": "MASE",
    "naive_mase": "Naive MASE",
    "coverage80": "80% interval coverage",
    "coverage95": "95% interval coverage",
}


def _accuracy(ctx: Context) -> dict[str, Any] | None:
    """The measured accuracy of the chosen models (reporting.rpt_forecast_accuracy)."""
    frame = ctx.rows(
        f"select {', '.join(ACCURACY_COLUMNS)} from reporting.rpt_forecast_accuracy "
        "order by row_order limit 30"
    )
    if frame.empty:
        ctx.gaps.append("No back-test accuracy table was found for the demand forecast.")
        return None
    for column in ("mase", "naive_mase", "coverage80", "coverage95"):
        fmt = "{:.0%}" if column.startswith("coverage") else "{:,.2f}"
        frame[column] = frame[column].map(lambda v, f=fmt: "–" if pd.isna(v) else f.format(v))
    return {
        # The mart the figures come from, as the caption has always named it.
        "table": "marts.forecast_accuracy",
        "columns": list(ACCURACY_COLUMNS.values()),
        "rows": frame.astype(str).values.tolist(),
    }


# --------------------------------------------------------------------------- scope & data quality
def data_quality(ctx: Context) -> dict[str, Any]:
    """What was loaded and quarantined. These are counts of records, not of people, so they
    are shown exactly (no person can be singled out from a count of bad rows)."""
    p = ctx.periods
    path = ctx.quarter_dir / "data_quality.json"
    extracts: dict[str, Any] = {}
    report: dict[str, Any] = {}
    if path.exists():
        try:
            report = json.loads(path.read_text())
            extracts = report.get("extracts", {})
        except (OSError, json.JSONDecodeError):
            extracts = {}
    rows = []
    for table, info in extracts.items():
        read = int(info.get("read", 0))
        quarantined = int(info.get("quarantined", 0))
        rules = sorted(info.get("by_rule", {}).items(), key=lambda kv: -kv[1])
        rows.append(
            {
                "extract": table,
                "read": read,
                "loaded": int(info.get("loaded", 0)),
                "quarantined": quarantined,
                "share": quarantined / read if read else 0.0,
                "rules": ", ".join(f"{r.replace('_', ' ')} ({n:,})" for r, n in rules[:4]) or "–",
            }
        )
    if not rows:
        ctx.gaps.append("No data-quality report was available for this run.")
    first, last, located, without_location = ctx.con.execute(
        "select any_value(first_reported_date), any_value(last_reported_date), "
        "sum(stalking_crimes), sum(stalking_crimes_without_location) "
        "from reporting.rpt_data_scope where quarter = ?",
        [p.quarter],
    ).fetchone()
    scope = {"first": first, "last": last} if first is not None else {}
    caveats = []
    if located:
        caveats.append(
            f"{without_location / located:.0%} of this quarter's stalking crimes have no usable "
            "location and are absent from the hotspot analysis."
        )
    if "reconciles" in report:
        caveats.append(
            "Every input row was either loaded or quarantined (the counts reconcile)."
            if report["reconciles"]
            else "Warning: the loaded and quarantined counts do not add up to the rows read."
        )
    for link, n in (report.get("unlinked_soft_links") or {}).items():
        if isinstance(n, int) and n:
            source = link.split("->")[0].replace(".", " ")
            caveats.append(
                f"{n:,} references in {source} point to crimes not in the crimes extract; "
                "those records are kept but cannot be joined to a crime."
            )
    return {
        "available": True,
        "rows": rows,
        "scope": scope,
        "caveats": caveats,
        "source": path.name if path.exists() else "warehouse",
    }


def quarter_span(quarter: str) -> str:
    start, end = quarter_start(quarter), quarter_end(quarter)
    return f"{start.day} {start:%B %Y} to {end.day} {end:%B %Y}"
