"""A small reference implementation of the extract rules (spec/extracts.md), in pandas.

Used by the generator's tests to prove that clean rows break no rule and that every injected
bad row breaks exactly the rule the truth claims. The production contracts live in
pipelines/contracts; this is deliberately independent of them.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from pipelines.contracts.schema import EXTRACTS
from pipelines.paths import PROJECT_ROOT

OFFENCE_CODES = PROJECT_ROOT / "dbt_project" / "seeds" / "offence_codes.csv"
BOOL = {"true", "false", "y", "n", "1", "0"}
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}$")
OUTCOMES = {str(i) for i in range(1, 23)}


def read_extracts(folder: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for name in EXTRACTS:
        csv = folder / f"{name}.csv"
        if csv.exists():
            out[name] = pd.read_csv(csv, dtype=str, keep_default_na=False).replace("", None)
        else:
            out[name] = pd.read_parquet(folder / f"{name}.parquet")
    return out


def _bad_date(s: pd.Series) -> np.ndarray:
    parsed = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
    return (s.notna() & parsed.isna()).to_numpy()


def _bad_ts(s: pd.Series) -> np.ndarray:
    parsed = pd.to_datetime(s, format="ISO8601", errors="coerce")
    return (s.notna() & parsed.isna()).to_numpy()


def _bad_num(s: pd.Series) -> np.ndarray:
    return (s.notna() & pd.to_numeric(s, errors="coerce").isna()).to_numpy()


def _not_in(s: pd.Series, allowed: set) -> np.ndarray:
    return (s.notna() & ~s.str.lower().isin(allowed)).to_numpy()


def _null(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    return df[cols].isna().any(axis=1).to_numpy()


def _dup(s: pd.Series) -> np.ndarray:
    return (s.notna() & s.duplicated(keep="first")).to_numpy()


def _location(df: pd.DataFrame, area) -> dict[str, np.ndarray]:
    lat, lon = df["latitude"], df["longitude"]
    half = (lat.isna() != lon.isna()).to_numpy()
    la = pd.to_numeric(lat, errors="coerce").to_numpy()
    lo = pd.to_numeric(lon, errors="coerce").to_numpy()
    both = ~np.isnan(la) & ~np.isnan(lo)
    outside = np.zeros(len(df), bool)
    if area is not None and both.any():
        outside[both] = ~shapely.contains_xy(area, lo[both], la[both])
    return {
        "unparseable_number": _bad_num(lat) | _bad_num(lon),
        "lat_without_lon": half,
        "outside_force_area": outside,
    }


def rules_broken(
    ex: dict[str, pd.DataFrame], area: shapely.Geometry | None, run_date: dt.date
) -> pd.DataFrame:
    """Every (file, row [0-based], rule) broken. Parent quarantine propagates to children."""
    codes = set(pd.read_csv(OFFENCE_CODES, dtype=str)["offence_code"])
    found: list[pd.DataFrame] = []

    def add(file: str, rule: str, mask: np.ndarray) -> None:
        rows = np.nonzero(mask)[0]
        found.append(pd.DataFrame({"file": file, "row": rows, "rule": rule}))

    c = ex["crimes"]
    add("crimes", "duplicate_key", _dup(c["crime_id"]))
    add(
        "crimes",
        "null_required",
        _null(c, ["crime_id", "reported_date", "offence_code", "is_domestic_abuse", "is_online"]),
    )
    bad_dates = np.zeros(len(c), bool)
    for col in ("reported_date", "outcome_date", "needs_assessment_date", "support_referral_date"):
        bad_dates |= _bad_date(c[col])
    for col in ("offence_start", "offence_end"):
        bad_dates |= _bad_ts(c[col])
    add("crimes", "unparseable_date", bad_dates)
    inc = c["included_offence_codes"].fillna("").str.split("|")
    inc_bad = inc.apply(lambda xs: any(x and x not in codes for x in xs)).to_numpy()
    add(
        "crimes",
        "unknown_code",
        (c["offence_code"].notna() & ~c["offence_code"].isin(codes)).to_numpy() | inc_bad,
    )
    nav = _not_in(c["risk_level"], {"standard", "medium", "high"})
    for col in ("is_domestic_abuse", "is_online", "right_to_review_informed", "spo_considered"):
        nav |= _not_in(c[col], BOOL)
    nav |= (c["outcome_code"].notna() & ~c["outcome_code"].isin(OUTCOMES)).to_numpy()
    add("crimes", "not_allowed_value", nav)
    for rule, mask in _location(c, area).items():
        add("crimes", rule, mask)
    s = pd.to_datetime(c["offence_start"], format="ISO8601", errors="coerce")
    e = pd.to_datetime(c["offence_end"], format="ISO8601", errors="coerce")
    r = pd.to_datetime(c["reported_date"], format="%Y-%m-%d", errors="coerce")
    o = pd.to_datetime(c["outcome_date"], format="%Y-%m-%d", errors="coerce")
    add("crimes", "end_before_start", ((e < s) | (o < r)).to_numpy())

    bad_crime_rows = pd.concat(found)
    bad_crime_rows = bad_crime_rows[bad_crime_rows.file == "crimes"]
    first_bad = c.index[
        np.unique(bad_crime_rows.loc[bad_crime_rows.rule != "duplicate_key", "row"])
    ]
    bad_crime_ids = set(c.loc[first_bad, "crime_id"])

    p = ex["crime_persons"]
    add("crime_persons", "null_required", _null(p, ["crime_id", "person_id"]))
    add(
        "crime_persons",
        "missing_reference",
        (p["crime_id"].notna() & ~p["crime_id"].isin(set(c["crime_id"]))).to_numpy(),
    )
    add("crime_persons", "references_quarantined_row", p["crime_id"].isin(bad_crime_ids).to_numpy())
    nav = _not_in(p["role"], {"victim", "suspect", "offender"}) | _not_in(
        p["sex"], {"f", "m", "x", "u"}
    )
    nav |= _not_in(
        p["relationship_to_victim"],
        {"partner", "ex_partner", "family", "acquaintance", "stranger", "unknown"},
    )
    nav |= (p["postcode"].notna() & ~p["postcode"].fillna("").str.match(POSTCODE)).to_numpy()
    add("crime_persons", "not_allowed_value", nav)
    add("crime_persons", "unparseable_date", _bad_date(p["date_of_birth"]))
    dob = pd.to_datetime(p["date_of_birth"], format="%Y-%m-%d", errors="coerce")
    add("crime_persons", "dob_in_future", (dob > pd.Timestamp(run_date)).to_numpy())

    i = ex["intelligence"]
    add("intelligence", "duplicate_key", _dup(i["intel_id"]))
    add(
        "intelligence",
        "null_required",
        _null(i, ["intel_id", "submitted_date", "is_stalking_related"]),
    )
    add(
        "intelligence",
        "unparseable_date",
        _bad_date(i["submitted_date"]) | _bad_date(i["subject_date_of_birth"]),
    )
    add(
        "intelligence",
        "not_allowed_value",
        _not_in(i["is_stalking_related"], BOOL) | _not_in(i["is_online"], BOOL),
    )
    for rule, mask in _location(i, area).items():
        add("intelligence", rule, mask)

    o = ex["orders"]
    add("orders", "duplicate_key", _dup(o["order_id"]))
    add("orders", "null_required", _null(o, ["order_id"]))
    add(
        "orders",
        "not_allowed_value",
        _not_in(o["order_type"], {"spo", "ispo", "ro", "nmo", "dvpo", "iah"})
        | _not_in(o["status"], {"applied", "granted", "refused", "expired", "discharged"}),
    )
    bd = np.zeros(len(o), bool)
    for col in ("applied_date", "granted_date", "expiry_date", "subject_date_of_birth"):
        bd |= _bad_date(o[col])
    add("orders", "unparseable_date", bd)
    a = pd.to_datetime(o["applied_date"], format="%Y-%m-%d", errors="coerce")
    g = pd.to_datetime(o["granted_date"], format="%Y-%m-%d", errors="coerce")
    x = pd.to_datetime(o["expiry_date"], format="%Y-%m-%d", errors="coerce")
    add("orders", "end_before_start", ((g < a) | (x < g)).to_numpy())
    ofound = pd.concat(found)
    ofound = ofound[(ofound.file == "orders") & (ofound.rule != "duplicate_key")]
    bad_order_ids = set(o.loc[np.unique(ofound["row"]), "order_id"])

    b = ex["breaches"]
    add("breaches", "duplicate_key", _dup(b["breach_id"]))
    add("breaches", "null_required", _null(b, ["breach_id", "order_id", "breach_date"]))
    add("breaches", "unparseable_date", _bad_date(b["breach_date"]))
    add(
        "breaches",
        "not_allowed_value",
        _not_in(b["action_taken"], {"arrest", "charge", "caution", "no_further_action", "other"}),
    )
    add(
        "breaches",
        "missing_reference",
        (b["order_id"].notna() & ~b["order_id"].isin(set(o["order_id"]))).to_numpy(),
    )
    add("breaches", "references_quarantined_row", b["order_id"].isin(bad_order_ids).to_numpy())
    first = o.drop_duplicates("order_id").set_index("order_id")["granted_date"]
    granted = pd.to_datetime(b["order_id"].map(first), format="%Y-%m-%d", errors="coerce")
    bdate = pd.to_datetime(b["breach_date"], format="%Y-%m-%d", errors="coerce")
    known = b["order_id"].isin(set(o["order_id"])) & ~b["order_id"].isin(bad_order_ids)
    add(
        "breaches",
        "breach_before_grant",
        (known & bdate.notna() & (granted.isna() | (bdate < granted))).to_numpy(),
    )
    return (
        pd.concat(found, ignore_index=True)
        .sort_values(["file", "row", "rule"])
        .reset_index(drop=True)
    )


def force_area(folder: Path) -> shapely.Geometry:
    geom = shapely.from_geojson((folder / "force_area.geojson").read_text())
    parts = shapely.get_parts(geom)
    area = shapely.union_all(parts) if len(parts) > 1 else parts[0]
    shapely.prepare(area)
    return area
