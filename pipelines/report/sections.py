"""The profile's sections, in the order of a NIM problem profile. Each builder reads the
warehouse, applies disclosure control and returns plain data for the template (numbers as
`Count`/`Rate`, tables as strings, charts as HTML divs). Nothing here prints a person-level
value: every figure is an aggregate that has been through `pipelines.disclosure`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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
from pipelines.report.warehouse import Warehouse
from pipelines.settings import Settings

ROUTES = ["principal", "included", "screened"]
ROUTE_LABELS = {
    "principal": "Principal classification is stalking",
    "included": "Stalking recorded as an included classification",
    "screened": "Flagged by screening (possible hidden stalking)",
}


@dataclass
class Context:
    wh: Warehouse
    periods: Periods
    settings: Settings
    quarter_dir: Path
    gaps: list[str] = field(default_factory=list)  # information gaps found while building
    figures: dict[str, Any] = field(default_factory=dict)  # headline figures for findings

    @property
    def k(self) -> int:
        return self.settings.disclosure.min_count

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
RISK_LABELS = {"high": "High", "medium": "Medium", "standard": "Standard", None: "Not recorded"}
OUTCOME_LABELS = {
    "charge_summons": "Charged or summonsed",
    "out_of_court": "Out-of-court disposal",
    "no_further_action": "No further action (evidential or victim-led)",
    None: "Under investigation or other",
}


def demand(ctx: Context) -> dict[str, Any]:
    if not ctx.wh.has("marts.stalking_crimes"):
        return ctx.missing("marts.stalking_crimes", "Demand and trends")
    p, k = ctx.periods, ctx.k
    crimes = ctx.wh.df(
        "select quarter, identified_by, is_domestic_abuse, is_online, "
        "coalesce(offence_category, 'other') as offence_category "
        "from marts.stalking_crimes"
    )
    trend_q = [q for q in p.trend(12) if q >= (crimes["quarter"].min() or p.quarter)]
    totals = crimes.groupby("quarter").size().rename("n").reset_index()
    total = _figure3("Crimes in the stalking universe", totals, p, k)
    ctx.figures["total"] = total

    def breakdown(column: str, labels: dict[Any, str]) -> pd.DataFrame:
        frame = crimes.assign(cat=crimes[column].map(labels))
        return frame.groupby(["quarter", "cat"]).size().rename("n").reset_index()

    da = breakdown("is_domestic_abuse", {True: "Domestic abuse", False: "Not domestic abuse"})
    da_order = ["Domestic abuse", "Not domestic abuse"]
    _, da_rows = comparison_table(da, "cat", p, k, da_order)
    online = breakdown("is_online", {True: "Online", False: "Not online"})
    on_order = ["Online", "Not online"]
    _, on_rows = comparison_table(online, "cat", p, k, on_order)
    route_labels = {r: ROUTE_LABELS[r] for r in ROUTES}
    routes = breakdown("identified_by", route_labels)
    route_order = [ROUTE_LABELS[r] for r in ROUTES]
    _, route_rows = comparison_table(routes, "cat", p, k, route_order)
    cats = sorted(crimes["offence_category"].dropna().unique())
    cat_frame = breakdown("offence_category", {c: c.replace("_", " ").capitalize() for c in cats})
    cat_order = [c.replace("_", " ").capitalize() for c in cats]
    _, cat_rows = comparison_table(cat_frame, "cat", p, k, cat_order)

    extra_tables = []
    columns = ctx.wh.columns("marts.stalking_crimes")
    for column, caption, labels in (
        ("risk_level", "Stalking crimes by recorded risk grade", RISK_LABELS),
        ("outcome_group", "Stalking crimes by outcome so far", OUTCOME_LABELS),
    ):
        if column not in columns:
            continue
        values = ctx.wh.df(f"select quarter, {column} as v from marts.stalking_crimes")
        known = [v for v in labels if v is not None]
        values["cat"] = (
            values["v"]
            .where(values["v"].isin(known), None)
            .map(lambda v, labels=labels: labels.get(v, labels[None]))
        )
        order = list(dict.fromkeys(labels.values()))
        grouped = values.groupby(["quarter", "cat"]).size().rename("n").reset_index()
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
AGE_BANDS = [(0, 17, "Under 18"), (18, 24, "18–24"), (25, 34, "25–34"), (35, 49, "35–49")]
AGE_BANDS += [(50, 64, "50–64"), (65, 200, "65 and over")]


def victims(ctx: Context) -> dict[str, Any]:
    p, k = ctx.periods, ctx.k
    out: dict[str, Any] = {"available": True}
    if ctx.wh.has("marts.repeat_victims"):
        rv = ctx.wh.df("select quarter, count(*) as n from marts.repeat_victims group by quarter")
        out["repeat"] = _figure3("Repeat victims (resolved people)", rv, p, k)
        bands = ctx.wh.df(
            "select case when crimes_12m >= 5 then '5 or more' when crimes_12m >= 3 "
            "then '3–4' else '2' end as band, count(*) as n from marts.repeat_victims "
            "where quarter = ? group by 1",
            [p.quarter],
        )
        order = ["2", "3–4", "5 or more"]
        counts = dict(zip(bands["band"], bands["n"].astype(int), strict=True))
        table = protect_series({b: counts.get(b, 0) for b in order}, k)
        out["repeat_bands"] = [(b, table.count(b, "count")) for b in [*order, TOTAL]]
        ctx.figures["repeat_victims"] = out["repeat"]
    else:
        out["repeat"] = None
        ctx.missing("marts.repeat_victims", "Repeat victimisation")
    people = _victim_people(ctx)
    if people is None:
        out["demographics"] = None
        return out
    out["victims"] = _figure3(
        "Victims of stalking crimes (resolved people)",
        people.groupby("quarter")["person_key"].nunique().rename("n").reset_index(),
        p,
        k,
    )
    if out["repeat"] is not None and "crimes_in_quarter" in ctx.wh.columns("marts.repeat_victims"):
        # Share of this quarter's victims who are repeat victims (a victim this quarter who
        # had 2+ crimes in the 12 months); repeat victims with no crime this quarter are out.
        repeat_now = ctx.wh.scalar(
            "select count(*) from marts.repeat_victims where quarter = ? and crimes_in_quarter > 0",
            [p.quarter],
        )
        out["repeat_share"] = protect_rate(int(repeat_now or 0), out["victims"].now, k)
    now = people[people["quarter"] == p.quarter].drop_duplicates("person_key")
    year = people[people["quarter"] == p.year_ago].drop_duplicates("person_key")
    demo = []
    for label, column, order in (
        ("Sex", "sex_label", ["Female", "Male", "Other / not known"]),
        ("Age at report", "age_band", [b[2] for b in AGE_BANDS] + ["Not recorded"]),
    ):
        frame = pd.concat([now.assign(quarter=p.quarter), year.assign(quarter=p.year_ago)])
        grouped = frame.groupby(["quarter", column]).size().rename("n").reset_index()
        _, rows = comparison_table(grouped.rename(columns={column: "cat"}), "cat", p, k, order)
        demo.append((label, rows))
    out["demographics"] = demo
    return out


def _victim_people(ctx: Context) -> pd.DataFrame | None:
    """One row per victim mention of a stalking-universe crime: quarter, person_key, sex,
    age band at report (aggregated before anything leaves this function's caller)."""
    if not ctx.wh.has("marts.stalking_crimes", "staging.stg_crime_persons"):
        ctx.gaps.append("Victim demographics were not available (crime-person links missing).")
        return None
    resolved = ctx.wh.has("intermediate.int_crime_persons_resolved")
    key = "coalesce(r.person_key, 'id:' || cp.person_id)" if resolved else "'id:' || cp.person_id"
    join = (
        "left join intermediate.int_crime_persons_resolved r "
        "on r.crime_id = cp.crime_id and r.person_id = cp.person_id and r.role = cp.role"
        if resolved
        else ""
    )
    frame = ctx.wh.df(
        f"""
        select c.quarter, {key} as person_key, cp.sex,
               date_diff('year', cp.date_of_birth, c.reported_date)
               - case when strftime(c.reported_date, '%m%d') < strftime(cp.date_of_birth, '%m%d')
                 then 1 else 0 end as age
        from marts.stalking_crimes c
        join staging.stg_crime_persons cp on cp.crime_id = c.crime_id
        {join}
        where cp.role = 'victim'
        """
    )
    frame["sex_label"] = frame["sex"].map({"F": "Female", "M": "Male"}).fillna("Other / not known")
    age = pd.to_numeric(frame["age"], errors="coerce")
    band = pd.Series("Not recorded", index=frame.index)
    for lo, hi, label in AGE_BANDS:
        band[(age >= lo) & (age <= hi)] = label
    frame["age_band"] = band
    return frame


# --------------------------------------------------------------------------- perpetrators
def perpetrators(ctx: Context) -> dict[str, Any]:
    if not ctx.wh.has("marts.perpetrators"):
        return ctx.missing("marts.perpetrators", "Perpetrator analysis")
    p, k = ctx.periods, ctx.k
    frame = ctx.wh.df(
        "select quarter, count(*) as total, "
        "count(*) filter (where is_repeat) as repeat, "
        "count(*) filter (where is_serial) as serial, "
        "count(*) filter (where is_high_harm) as high_harm, "
        "count(*) filter (where breaches_12m > 0) as breached, "
        "count(*) filter (where has_active_order) as with_order, "
        "count(*) filter (where is_high_harm and not has_active_order) as high_harm_no_order "
        "from marts.perpetrators where quarter in (?, ?, ?) group by quarter",
        p.columns,
    ).set_index("quarter")

    def row(label: str, column: str, whole: str | None = "total") -> Figure3:
        def at(q: str) -> Count:
            if q not in frame.index:
                return Count(0)
            part = int(frame.at[q, column])
            if whole is None:
                return protect_count(part, k)
            return subset_count(part, int(frame.at[q, whole]), k)

        return Figure3(label, at(p.quarter), at(p.previous), at(p.year_ago))

    rows = [
        row("Suspects and offenders (resolved people)", "total", None),
        row("Repeat perpetrators", "repeat"),
        row("Serial perpetrators (2+ victims)", "serial"),
        row("High-harm perpetrators (tasking list)", "high_harm"),
        row("With an order breach in the last 12 months", "breached"),
        row("With an active protective order", "with_order"),
        row("High-harm with no active order", "high_harm_no_order", "high_harm"),
    ]
    ctx.figures.update(perpetrators=rows)
    out: dict[str, Any] = {"available": True, "rows": rows}
    if ctx.wh.has("intermediate.int_crime_persons_resolved"):
        rel = ctx.wh.df(
            "select c.quarter, coalesce(r.relationship_to_victim, 'unknown') as cat, "
            "count(*) as n from marts.stalking_crimes c "
            "join intermediate.int_crime_persons_resolved r on r.crime_id = c.crime_id "
            "where r.role <> 'victim' group by 1, 2"
        )
        order = ["partner", "ex_partner", "family", "acquaintance", "stranger", "unknown"]
        rel["cat"] = rel["cat"].where(rel["cat"].isin(order), "unknown")
        rel = rel.groupby(["quarter", "cat"], as_index=False)["n"].sum()
        _, rel_rows = comparison_table(rel, "cat", p, k, order)
        out["relationships"] = [
            Figure3(r.label.replace("_", "-").capitalize(), r.now, r.previous, r.year_ago)
            for r in rel_rows
        ]
    return out


# --------------------------------------------------------------------------- locations
CHANGE_LAYERS = {
    "new": "Hotspot: new",
    "intensifying": "Hotspot: intensifying",
    "persistent": "Hotspot: persistent",
    "diminishing": "Hotspot: diminishing",
    "former": "Former hotspot",
}


def locations(ctx: Context, boundary_path: Path | None) -> dict[str, Any]:
    if not ctx.wh.has("marts.hotspots"):
        return ctx.missing("marts.hotspots", "Hotspot analysis")
    p, k = ctx.periods, ctx.k
    cols = ctx.wh.columns("marts.hotspots")
    change = "change_class" if "change_class" in cols else "null"
    cells = ctx.wh.df(
        "select quarter, cell_id, latitude, longitude, crimes, victims, is_hotspot, "
        f"{change} as change from marts.hotspots where quarter in (?, ?, ?)",
        p.columns,
    )
    cells["crimes"] = cells["crimes"].fillna(0).astype(int)
    cells["is_hotspot"] = cells["is_hotspot"].fillna(False).astype(bool)
    now = cells[cells["quarter"] == p.quarter]
    hot = cells[cells["is_hotspot"]].groupby("quarter").size().rename("n").reset_index()
    hot_cells = _figure3("Predicted hotspot cells (method chosen by back-test)", hot, p, 1)
    in_hot = cells[cells["is_hotspot"]].groupby("quarter")["crimes"].sum()
    located = cells.groupby("quarter")["crimes"].sum()

    def share(q: str) -> Rate:
        return protect_rate(int(in_hot.get(q, 0)), int(located.get(q, 0)), k)

    hot_share = {"now": share(p.quarter), "year_ago": share(p.year_ago)}
    changes = now["change"].fillna("none").value_counts()
    change_rows = [(label, int(changes.get(c, 0))) for c, label in CHANGE_LAYERS.items()]
    ctx.figures.update(hot_cells=hot_cells, hot_share=hot_share)
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
    figure = charts.cell_map(layers, boundary, title)
    backtest = None
    if ctx.wh.has("marts.hotspot_method_backtest"):
        from pipelines.hotspots.predict import backtest_sentence

        backtest = backtest_sentence(ctx.wh.df("select * from marts.hotspot_method_backtest"))
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
            (i + 1, Count(int(r.crimes)), CHANGE_LAYERS.get(r.change, "Not a hotspot"))
            for i, r in enumerate(
                published.sort_values("crimes", ascending=False).head(10).itertuples()
            )
        ],
    }


def lonlat_to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 -> British National Grid metres (pyproj only: the hotspot package pulls in
    PySAL, which takes seconds to import)."""
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(
        np.asarray(lon, float), np.asarray(lat, float)
    )
    return np.asarray(x), np.asarray(y)


def _map_layers(cells: pd.DataFrame, size_m: int) -> dict[str, tuple[list, list, list]]:
    layers: dict[str, tuple[list, list, list]] = {}
    if cells.empty:
        return layers
    x, y = lonlat_to_bng(cells["longitude"].to_numpy(), cells["latitude"].to_numpy())
    half = size_m / 2
    labels = [
        CHANGE_LAYERS.get(c, "Other cells") if h or c == "former" else "Other cells"
        for c, h in zip(cells["change"].fillna("none"), cells["is_hotspot"], strict=True)
    ]
    for cx, cy, n, label in zip(x, y, cells["crimes"], labels, strict=True):
        xs, ys, texts = layers.setdefault(label, ([], [], []))
        # Rounded to 100 m: a published cell is an area, its centre to the metre adds nothing.
        xs += [cx - half, cx + half, cx + half, cx - half, cx - half, None]
        ys += [cy - half, cy - half, cy + half, cy + half, cy - half, None]
        texts += [f"{int(n)} crimes"] * 5 + [""]
    order = [*CHANGE_LAYERS.values(), "Other cells"]
    return {name: layers[name] for name in order if name in layers}


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
ORDER_TYPES = ["SPO", "ISPO", "RO", "NMO", "DVPO", "IAH"]


def _order_labels(ctx: Context) -> dict[str, str]:
    names: dict[str, str] = {}
    if ctx.wh.has("reference.order_types"):
        names = dict(
            ctx.wh.con.execute(
                "select order_type, order_name from reference.order_types"
            ).fetchall()
        )
    return {t: f"{names.get(t, t)} ({t})" for t in ORDER_TYPES}


def _order_events(ctx: Context) -> dict[str, pd.DataFrame] | None:
    """quarter, cat (order type), n per event: from the order marts when built, else staging."""
    if ctx.wh.has("marts.protective_orders"):
        po = ctx.wh.df("select * from marts.protective_orders")
        events = {
            "Applied for": po.rename(columns={"applications": "n"}),
            "Granted": po.rename(columns={"grants": "n"}),
            "Refused": po.rename(columns={"refusals": "n"}),
        }
        if ctx.wh.has("marts.order_breaches"):
            events["Breaches recorded"] = ctx.wh.df("select * from marts.order_breaches").rename(
                columns={"breaches": "n"}
            )
        return {
            k: v[["quarter", "order_type", "n"]].rename(columns={"order_type": "cat"})
            for k, v in events.items()
        }
    if not ctx.wh.has("staging.stg_orders"):
        return None
    frames = {}
    for event, column in (("Applied for", "applied_date"), ("Granted", "granted_date")):
        frames[event] = ctx.wh.df(
            f"select order_type as cat, {column} as day from staging.stg_orders "
            f"where {column} is not null"
        )
    if ctx.wh.has("staging.stg_breaches"):
        frames["Breaches recorded"] = ctx.wh.df(
            "select o.order_type as cat, b.breach_date as day from staging.stg_breaches b "
            "join staging.stg_orders o on o.order_id = b.order_id"
        )
    out = {}
    for event, frame in frames.items():
        frame["quarter"] = pd.PeriodIndex(pd.to_datetime(frame["day"]), freq="Q").strftime("%Y-Q%q")
        out[event] = frame.groupby(["quarter", "cat"]).size().rename("n").reset_index()
    return out


def orders(ctx: Context) -> dict[str, Any]:
    events = _order_events(ctx)
    if events is None:
        return ctx.missing("marts.protective_orders", "Protective orders")
    p, k = ctx.periods, ctx.k
    label = _order_labels(ctx)
    tables = []
    for event, frame in events.items():
        frame = frame.assign(cat=frame["cat"].where(frame["cat"].isin(ORDER_TYPES), "other"))
        frame = frame.groupby(["quarter", "cat"], as_index=False)["n"].sum()
        _, rows = comparison_table(frame, "cat", p, k, ORDER_TYPES)
        rows = [Figure3(label.get(r.label, r.label), r.now, r.previous, r.year_ago) for r in rows]
        tables.append((event, rows))
    spo_active = None
    if ctx.wh.has("staging.stg_orders"):
        active = []
        for q in p.columns:
            end = quarter_end(q)
            n = ctx.wh.scalar(
                "select count(*) from staging.stg_orders "
                "where upper(order_type) in ('SPO', 'ISPO') "
                "and granted_date <= ? and (expiry_date is null or expiry_date > ?) "
                "and lower(status) not in ('discharged', 'refused')",
                [end, end],
            )
            active.append(protect_count(int(n or 0), k))
        spo_active = Figure3(
            "Stalking protection orders in force at quarter end", active[2], active[1], active[0]
        )
    followup = None
    if ctx.wh.has("marts.protective_orders"):
        cols = ctx.wh.columns("marts.protective_orders")
        if {"grants_followed_up", "breached_in_followup"} <= cols:
            row = ctx.wh.con.execute(
                "select sum(grants_followed_up), sum(breached_in_followup), "
                "max(followup_months) from marts.protective_orders "
                "where quarter = ? and is_stalking_order",
                [p.year_ago],
            ).fetchone()
            if row and row[0] is not None:
                followup = {
                    "quarter": p.year_ago,
                    "months": row[2],
                    "rate": protect_rate(int(row[1] or 0), int(row[0] or 0), k),
                    "granted": protect_count(int(row[0] or 0), k),
                }
    ctx.figures.update(orders=tables, spo_active=spo_active)
    return {"available": True, "tables": tables, "spo_active": spo_active, "followup": followup}


# --------------------------------------------------------------------------- compliance
def compliance(ctx: Context) -> dict[str, Any]:
    if not ctx.wh.has("marts.compliance"):
        return ctx.missing("marts.compliance", "Victims' Code and SPO compliance")
    p, k = ctx.periods, ctx.k
    cols = ctx.wh.columns("marts.compliance")
    described = "measure_description" in cols
    split = {"numerator_da", "denominator_da", "numerator_non_da", "denominator_non_da"} <= cols
    extra = (
        "numerator_da, denominator_da, numerator_non_da, denominator_non_da"
        if split
        else "null as numerator_da, null as denominator_da, null as numerator_non_da, "
        "null as denominator_non_da"
    )
    frame = ctx.wh.df(
        "select quarter, measure, numerator, denominator, "
        f"{'measure_description' if described else 'null'} as description, {extra} "
        "from marts.compliance where quarter in (?, ?, ?)",
        p.columns,
    )
    measures = list(dict.fromkeys(frame.sort_values("measure")["measure"]))
    rows = []
    for measure in measures:
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
            if not split or p.quarter not in per_q.index:
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
                "measure": measure.replace("_", " ").capitalize().replace("Spo ", "SPO "),
                "description": str(per_q["description"].dropna().iloc[0])
                if per_q["description"].notna().any()
                else "",
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
SERIES_PRIORITY = ["all_stalking", "all", "total", "domestic_abuse", "non_domestic_abuse"]
SERIES_PRIORITY += ["online", "offline", "breaches"]


def _series_label(name: str) -> str:
    label = name.replace("_", " ").replace("non domestic", "non-domestic")
    return {"all_stalking": "all stalking-universe crimes"}.get(name, label)


def _period_label(day: Any, period: str) -> str:
    stamp = pd.Timestamp(day)
    return f"{stamp.year}-Q{stamp.quarter}" if period == "quarter" else f"{stamp:%Y-%m}"


def _series_family(name: str) -> str:
    if name in ("domestic_abuse", "non_domestic_abuse"):
        return "da"
    if name in ("online", "offline"):
        return "online"
    for prefix in ("identified_", "category_"):
        if name.startswith(prefix):
            return prefix
    return name  # a series on its own (all_stalking, breaches)


def _public_actuals(frame: pd.DataFrame, k: int) -> dict[tuple[str, Any], int | None]:
    """Recorded values as the rest of the profile would publish them: series that split the
    same total (DA / non-DA, online / offline, routes, categories) are suppressed together
    with secondary suppression per period, so no chart can undo a table's suppression."""
    actual = frame[frame["kind"] == "actual"]
    out: dict[tuple[str, Any], int | None] = {}
    for _, family in actual.groupby(actual["series"].map(_series_family)):
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
    if not ctx.wh.has("marts.demand_forecast"):
        return ctx.missing("marts.demand_forecast", "The demand forecast")
    k = ctx.k
    has_period = "period" in ctx.wh.columns("marts.demand_forecast")
    frame = ctx.wh.df(
        "select series, period_start, kind, value, lo80, hi80, lo95, hi95, model, "
        f"{'period' if has_period else 'null'} as period "
        "from marts.demand_forecast order by series, period_start"
    )
    if frame.empty:
        return ctx.missing("marts.demand_forecast (empty)", "The demand forecast")
    # One granularity for the whole section: quarters suit a four-year FMS view.
    periods = set(frame["period"].dropna())
    period = "quarter" if "quarter" in periods else ("month" if "month" in periods else None)
    if period:
        frame = frame[frame["period"] == period]
    else:
        period = "month"
    per_year = 4 if period == "quarter" else 12
    names = list(dict.fromkeys(frame["series"]))
    ordered = [n for n in SERIES_PRIORITY if n in names] + [
        n for n in names if n not in SERIES_PRIORITY
    ]
    public = _public_actuals(frame, k)
    charts_out, summary = [], []
    for i, name in enumerate(ordered):
        s = frame[frame["series"] == name].copy()
        s["label"] = [_period_label(d, period) for d in s["period_start"]]
        fc = (s["kind"] == "forecast").to_numpy()
        if not fc.any():
            continue
        history = [public.get((name, d)) for d in s.loc[~fc, "period_start"]]
        future = s.loc[fc]
        window = history[-per_year:]
        # A 12-month total beside a chart with a suppressed period would reveal it.
        last_year = float(sum(window)) if window and all(v is not None for v in window) else None
        next_year = float(future["value"].head(per_year).sum())
        models = future["model"].dropna()
        summary.append(
            {
                "series": _series_label(name),
                "model": models.iloc[0] if len(models) else "–",
                "last_year": last_year,
                "next_year": next_year,
                "horizon_total": float(future["value"].sum()),
                "end": future["label"].iloc[-1],
                "lo95_end": float(future["lo95"].iloc[-1]),
                "hi95_end": float(future["hi95"].iloc[-1]),
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

        title = f"Forecast demand: {_series_label(name)}"
        if last_year:
            change = (next_year - last_year) / last_year
            verb = "rise" if change > 0.05 else "fall" if change < -0.05 else "stay level"
            title = (
                f"{_series_label(name).capitalize()}: expected to {verb} over the next year "
                f"({change:+.0%})"
            )
        figure = charts.forecast_chart(
            list(s["label"]), actual, only_fc("value"), only_fc("lo80"), only_fc("hi80"),
            only_fc("lo95"), only_fc("hi95"), title,
        )  # fmt: skip
        ticks = [t for t in s["label"] if t.endswith(("-Q1", "-01"))]
        figure.update_xaxes(tickmode="array", tickvals=ticks, ticktext=[t[:4] for t in ticks])
        charts_out.append((_series_label(name), charts.to_div(figure, f"chart-forecast-{i}")))
    ctx.figures["forecast"] = summary[0] if summary else None
    from pipelines.forecasting.accuracy import coverage_lines
    from pipelines.forecasting.tracking import warning_lines

    notes = []
    if ctx.wh.has("marts.forecast_accuracy"):
        acc = ctx.wh.df("select * from marts.forecast_accuracy")
        notes += coverage_lines(acc.to_dict("records")) if "naive_mase" in acc else []
    if ctx.wh.has("marts.forecast_tracking"):
        notes += warning_lines(ctx.wh.df("select * from marts.forecast_tracking"))
    return {
        "available": True,
        "notes": notes,
        "period": period,
        "summary": summary,
        "charts": charts_out,
        "accuracy": _accuracy(ctx, period),
    }


def _accuracy_source(source: object) -> str:
    """'cv' and 'backtest:ho_annual' as an analyst reads them."""
    text = str(source)
    if text == "cv":
        return "cross-validation (model choice)"
    if text.startswith("backtest:"):
        name, _, split = text.split(":", 1)[1].partition(":")
        name = name.removeprefix("ho_").replace("_", " ")
        if split:  # backtest:<dataset>:held_in / held_out (forces split, issue 16)
            return f"back-test, {split.replace('_', '-')} forces: {name}"
        return f"held-out back-test: {name}"
    return text.replace("_", " ")


def _accuracy(ctx: Context, period: str) -> dict[str, Any] | None:
    """The back-test table written beside the forecast (chosen models only)."""
    table = (
        ctx.wh.find("marts", "forecast", "accuracy")
        or ctx.wh.find("marts", "backtest")
        or ctx.wh.find("marts", "forecast", "evaluation")
    )
    if table is None:
        ctx.gaps.append("No back-test accuracy table was found for the demand forecast.")
        return None
    frame = ctx.wh.df(f"select * from {table}")
    if "is_chosen" in frame.columns:
        frame = frame[frame["is_chosen"].fillna(False).astype(bool)]
    if "period" in frame.columns and (frame["period"] == period).any():
        # held-out back-tests carry no period: they are the measured accuracy, keep them
        frame = frame[(frame["period"] == period) | frame["period"].fillna("").eq("")]
    wanted = ["series", "model", "source", "horizon", "mase", "naive_mase"]
    wanted += ["coverage80", "coverage95"]
    keep = [c for c in wanted if c in frame.columns] or list(frame.columns)[:8]
    frame = frame[keep].copy()
    if "series" in frame.columns:
        frame["series"] = frame["series"].map(
            lambda v: "all series" if v == "(all)" else _series_label(v)
        )
    if "source" in frame.columns:
        frame["source"] = frame["source"].map(_accuracy_source)
    if "horizon" in frame.columns:
        frame["horizon"] = frame["horizon"].map(lambda v: "rolling" if v == "cv" else v)
    for column in frame.columns:
        if pd.api.types.is_float_dtype(frame[column]):
            fmt = "{:.0%}" if column.startswith("coverage") else "{:,.2f}"
            frame[column] = frame[column].map(lambda v, f=fmt: "–" if pd.isna(v) else f.format(v))
    labels = {"mase": "MASE", "coverage80": "80% interval coverage", "source": "Test"}
    labels["naive_mase"] = "Naive MASE"
    labels |= {"series": "Series", "model": "Model", "horizon": "Horizon"}
    labels["coverage95"] = "95% interval coverage"
    return {
        "table": table,
        "columns": [labels.get(c, c.replace("_", " ")) for c in frame.columns],
        "rows": frame.astype(str).head(30).values.tolist(),
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
    if not extracts and ctx.wh.has("raw.quarantine"):
        q = ctx.wh.df("select extract, rule, count(*) as n from raw.quarantine group by 1, 2")
        for table in ("crimes", "crime_persons", "intelligence", "orders", "breaches"):
            loaded = (
                ctx.wh.scalar(f"select count(*) from raw.{table}")
                if ctx.wh.has(f"raw.{table}")
                else 0
            )
            rules = q[q["extract"] == table]
            extracts[table] = {
                "loaded": int(loaded or 0),
                "quarantined": int(rules["n"].sum()),
                "read": int(loaded or 0) + int(rules["n"].sum()),
                "by_rule": dict(zip(rules["rule"], rules["n"].astype(int), strict=True)),
            }
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
    scope = {}
    if ctx.wh.has("raw.crimes"):
        first, last = ctx.wh.con.execute(
            "select min(reported_date), max(reported_date) from raw.crimes"
        ).fetchone()
        scope = {"first": first, "last": last}
    caveats = []
    if ctx.wh.has("marts.stalking_crimes"):
        no_loc = ctx.wh.scalar(
            "select avg(case when latitude is null then 1.0 else 0.0 end) "
            "from marts.stalking_crimes where quarter = ?",
            [p.quarter],
        )
        if no_loc is not None:
            caveats.append(
                f"{no_loc:.0%} of this quarter's stalking crimes have no usable location and are "
                "absent from the hotspot analysis."
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
