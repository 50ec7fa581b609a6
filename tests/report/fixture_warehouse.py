"""A small hand-made warehouse with the raw, staging and marts tables the profile reads
(columns per ../shared/spec/outputs.md), for fast render and disclosure tests that do not
need the whole pipeline. Values are random but seeded; tests compute their expectations
from these tables independently of the report code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipelines.quarters import quarter_of, quarter_range, quarter_start

QUARTERS = quarter_range("2023-Q1", "2025-Q4")
FORENAMES = ["Alice", "Bethany", "Carys", "Dominic", "Eliot", "Farah", "Gideon", "Hollis"]
SURNAMES = ["Abernethy", "Brackenbury", "Cattermole", "Dunstable", "Entwistle", "Fairbrother"]


def build(path: Path, seed: int = 3, crimes_per_quarter: int = 60) -> Path:
    rng = np.random.default_rng(seed)
    crimes, persons = [], []
    pid = 0
    for qi, quarter in enumerate(QUARTERS):
        n = int(crimes_per_quarter * (1 + 0.04 * qi) + rng.integers(-5, 6))
        start = quarter_start(quarter)
        for i in range(n):
            crime_id = f"CR{quarter[:4]}{quarter[-1]}{i:05d}"
            day = start + dt.timedelta(days=int(rng.integers(0, 88)))
            crimes.append(
                {
                    "crime_id": crime_id,
                    "reported_date": day,
                    "quarter": quarter_of(day),
                    "identified_by": rng.choice(
                        ["principal", "included", "screened"], p=[0.7, 0.2, 0.1]
                    ),
                    "is_domestic_abuse": bool(rng.random() < 0.55),
                    "is_online": bool(rng.random() < 0.3),
                    "offence_category": rng.choice(
                        ["stalking", "harassment", "malicious_communications"]
                    ),
                    "latitude": 54.0 + float(rng.normal(0, 0.02)) if rng.random() < 0.9 else None,
                    "longitude": -1.08 + float(rng.normal(0, 0.03)) if rng.random() < 0.9 else None,
                }
            )
            for role in ("victim", "suspect"):
                pid += 1
                persons.append(
                    {
                        "crime_id": crime_id,
                        "person_id": f"P{pid:07d}",
                        "role": role,
                        "forename": rng.choice(FORENAMES),
                        "surname": rng.choice(SURNAMES),
                        "date_of_birth": dt.date(1960, 1, 1)
                        + dt.timedelta(days=int(rng.integers(0, 15000))),
                        "sex": rng.choice(["F", "M", "U"], p=[0.7, 0.28, 0.02]),
                        "postcode": f"YO{rng.integers(1, 32)} {rng.integers(1, 9)}"
                        + "".join(rng.choice(list("ABDEFGHJLNPQ"), 2)),
                        "relationship_to_victim": None
                        if role == "victim"
                        else rng.choice(["ex_partner", "stranger", "acquaintance", "family"]),
                    }
                )
    crimes_df = pd.DataFrame(crimes)
    persons_df = pd.DataFrame(persons)
    perps = []
    for quarter in QUARTERS:
        n = int(rng.integers(40, 70))
        for i in range(n):
            score = float(rng.uniform(0, 100))
            perps.append(
                {
                    "quarter": quarter,
                    "person_key": f"K{i:05d}",
                    "crimes_total": int(rng.integers(1, 6)),
                    "victims_total": int(rng.integers(1, 4)),
                    "is_repeat": bool(rng.random() < 0.4),
                    "is_serial": bool(rng.random() < 0.2),
                    "recency_score": score / 4,
                    "frequency_score": score / 4,
                    "gravity_score": score / 4,
                    "victims_score": score / 4,
                    "rfgv_score": score,
                    "rank": i + 1,
                    "breaches_12m": int(rng.integers(0, 3)),
                    "has_active_order": bool(rng.random() < 0.3),
                    "is_high_harm": score > 80,
                }
            )
    hot = []
    for quarter in QUARTERS:
        for c in range(30):
            crimes_n = int(rng.poisson(4))
            hot.append(
                {
                    "quarter": quarter,
                    "cell_id": f"500m_E{460000 + 500 * (c % 6)}_N{451000 + 500 * (c // 6)}",
                    "latitude": 53.95 + 0.0045 * (c // 6),
                    "longitude": -1.1 + 0.0076 * (c % 6),
                    "easting": 460250.0 + 500 * (c % 6),
                    "northing": 451250.0 + 500 * (c // 6),
                    "cell_size_m": 500,
                    "crimes": crimes_n,
                    # A repeat victim in some cells: fewer victims than crimes.
                    "victims": max(crimes_n - 2, 0),
                    "gi_z": float(rng.normal()),
                    "is_hotspot": crimes_n >= 7,
                    "change_class": "persistent" if crimes_n >= 7 else "none",
                }
            )
    compliance = []
    for quarter in QUARTERS:
        for measure in (
            "needs_assessment",
            "support_referral",
            "spo_considered",
            "right_to_review",
        ):
            den = int(rng.integers(20, 60))
            compliance.append(
                {
                    "quarter": quarter,
                    "measure": measure,
                    "numerator": int(rng.integers(0, den + 1)),
                    "denominator": den,
                }
            )
    comp = pd.DataFrame(compliance)
    comp["rate"] = comp["numerator"] / comp["denominator"]
    months = pd.date_range("2021-01-01", "2029-12-01", freq="MS")
    fc = pd.DataFrame({"series": "all_stalking", "period": "month", "period_start": months.date})
    actual = fc["period_start"] < dt.date(2026, 1, 1)
    fc["kind"] = np.where(actual, "actual", "forecast")
    fc["value"] = 20 + 0.1 * np.arange(len(fc)) + rng.normal(0, 2, len(fc))
    for lo, hi, w in (("lo80", "hi80", 3), ("lo95", "hi95", 5)):
        fc[lo] = np.where(actual, np.nan, fc["value"] - w)
        fc[hi] = np.where(actual, np.nan, fc["value"] + w)
    fc["model"] = np.where(actual, None, "AutoETS")
    acc = pd.DataFrame(
        {
            "source": "synthetic",
            "series": ["all_stalking", "all_stalking"],
            "period": "month",
            "horizon": "12",
            "model": ["AutoETS", "SeasonalNaive"],
            "mase": [0.82, 1.0],
            "coverage80": [0.78, 0.7],
            "coverage95": [0.93, 0.9],
            "is_chosen": [True, False],
        }
    )

    with duckdb.connect(str(path)) as con:
        for schema in ("raw", "staging", "intermediate", "marts", "reference"):
            con.execute(f"create schema if not exists {schema}")
        con.register("crimes_df", crimes_df)
        con.register("persons_df", persons_df)
        con.execute(
            "create or replace table raw.crimes as select crime_id, reported_date, "
            "is_domestic_abuse, is_online, latitude, longitude from crimes_df"
        )
        con.execute("create or replace table raw.crime_persons as select * from persons_df")
        con.execute(
            "create or replace table staging.stg_crime_persons as select *, "
            "crime_id || '|' || person_id as crime_person_key from persons_df"
        )
        con.execute("create or replace table marts.stalking_crimes as select * from crimes_df")
        con.execute(
            "create or replace table raw.quarantine (extract varchar, source_row integer, "
            "original_row json, rule varchar, detail varchar, run_id varchar)"
        )
        con.execute(
            "insert into raw.quarantine values ('crime_persons', 9, "
            '\'{"crime_id": "CRQ0001", "person_id": "PQ0001", "forename": "Quentin", '
            '"surname": "Quarantineson", "postcode": "ZZ9 9ZZ", "date_of_birth": "2099-01-01"}\', '
            "'future_date', 'date_of_birth after run date', 'r1')"
        )
        rv = crimes_df[["quarter"]].drop_duplicates()
        rows = []
        for quarter in rv["quarter"]:
            for i in range(int(rng.integers(3, 25))):
                rows.append(
                    {
                        "quarter": quarter,
                        "person_key": f"V{i}",
                        "crimes_12m": int(rng.integers(2, 7)),
                    }
                )
        con.register("rv_df", pd.DataFrame(rows))
        con.execute("create or replace table marts.repeat_victims as select * from rv_df")
        for name, frame in (
            ("perpetrators", pd.DataFrame(perps)),
            ("hotspots", pd.DataFrame(hot)),
            ("compliance", comp),
            ("demand_forecast", fc),
            ("forecast_accuracy", acc),
        ):
            con.register("f", frame)
            con.execute(f"create or replace table marts.{name} as select * from f")
            con.unregister("f")
        orders = pd.DataFrame(
            {
                "order_id": [f"ORD{i:04d}" for i in range(80)],
                "order_type": rng.choice(["SPO", "ISPO", "RO", "NMO"], 80),
                "status": rng.choice(["applied", "granted", "refused", "expired"], 80),
                "subject_person_id": [f"P{int(v):07d}" for v in rng.integers(1, pid, 80)],
                "applied_date": [
                    dt.date(2023, 1, 1) + dt.timedelta(days=int(d))
                    for d in rng.integers(0, 1090, 80)
                ],
            }
        )
        orders["granted_date"] = [
            a + dt.timedelta(days=14) if s != "applied" else None
            for a, s in zip(orders["applied_date"], orders["status"], strict=True)
        ]
        orders["expiry_date"] = [
            g + dt.timedelta(days=730) if g else None for g in orders["granted_date"]
        ]
        con.register("o", orders)
        con.execute("create or replace table raw.orders as select * from o")
        con.execute("create or replace table staging.stg_orders as select * from o")
        breaches = pd.DataFrame(
            {
                "breach_id": [f"BR{i:04d}" for i in range(30)],
                "order_id": rng.choice(orders["order_id"], 30),
            }
        )
        breaches["breach_date"] = [
            dt.date(2023, 3, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 1000, 30)
        ]
        con.register("b", breaches)
        con.execute("create or replace table raw.breaches as select * from b")
        con.execute("create or replace table staging.stg_breaches as select * from b")
        con.execute(
            "create or replace table reference.order_types as select * from (values "
            "('SPO', 'Stalking protection order'), "
            "('ISPO', 'Interim stalking protection order'), ('RO', 'Restraining order'), "
            "('NMO', 'Non-molestation order')) t(order_type, order_name)"
        )
    return path
