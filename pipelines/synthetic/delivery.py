"""A delivery as it would have looked on an earlier date: the extracts cut to what the records
system held then. Two quarterly runs on one generated force (a delivery cut at the end of the
earlier quarter, then the whole extract) are how identity lineage and movement are checked.

Rows dated after the cut are dropped (crimes by reported date and their people, intelligence
by submission, orders by application or grant, breaches by date); what had not happened yet is
blanked (an outcome, a needs assessment or a referral after the cut; a grant or expiry after
it turns the order back into an application or an order in force). Rows whose date cannot be
read are kept, so the delivery's bad rows still reach the quarantine. CSV extracts only.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb

from pipelines.contracts.schema import BOUNDARY_FILE_NAMES, EXTRACTS


def _on_or_before(column: str) -> str:
    """A row kept at the cut: its date is on or before it, or cannot be read."""
    return f"coalesce(try_cast({column} as date) <= $cut, true)"


def _blank_after(column: str) -> str:
    return f"case when try_cast({column} as date) > $cut then null else {column} end"


def cut_delivery(extracts: Path, as_of: dt.date, out: Path) -> Path:
    """Write into `out` the extracts of `extracts` as they stood at the end of `as_of`."""
    out.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        for name in EXTRACTS:
            con.execute(
                f"create table {name} as select * from read_csv($path, all_varchar = true, "
                "header = true)",
                {"path": str(extracts / f"{name}.csv")},
            )
        queries = {
            "crimes": f"""
                select * replace (
                    {_blank_after("outcome_date")} as outcome_date,
                    case when try_cast(outcome_date as date) > $cut then null
                        else outcome_code end as outcome_code,
                    {_blank_after("needs_assessment_date")} as needs_assessment_date,
                    {_blank_after("support_referral_date")} as support_referral_date
                )
                from crimes where {_on_or_before("reported_date")}""",
            "crime_persons": """
                select * from crime_persons
                where crime_id in (select crime_id from kept_crimes)
                   or crime_id not in (select crime_id from crimes)""",
            "intelligence": f"select * from intelligence where {_on_or_before('submitted_date')}",
            "orders": f"""
                select * replace (
                    case
                        when try_cast(granted_date as date) > $cut then 'applied'
                        when try_cast(expiry_date as date) > $cut and status = 'expired'
                            then 'granted'
                        else status
                    end as status,
                    {_blank_after("granted_date")} as granted_date,
                    case when try_cast(granted_date as date) > $cut then null
                        else expiry_date end as expiry_date
                )
                from orders
                where {_on_or_before("coalesce(applied_date, granted_date)")}""",
            "breaches": f"""
                select * from breaches
                where {_on_or_before("breach_date")}
                  and (order_id in (select order_id from kept_orders)
                       or order_id not in (select order_id from orders))""",
        }
        params = {"cut": as_of}
        con.execute(
            "create table kept_crimes as select crime_id from crimes "
            f"where {_on_or_before('reported_date')}",
            params,
        )
        con.execute(
            "create table kept_orders as select order_id from orders where "
            f"{_on_or_before('coalesce(applied_date, granted_date)')} "
            f"and coalesce(try_cast(granted_date as date) <= $cut, false)",
            params,
        )
        for name, query in queries.items():
            used = {"cut": as_of} if "$cut" in query else {}
            con.execute(f"copy ({query}) to '{out / f'{name}.csv'}' (header, delimiter ',')", used)
    for extra in BOUNDARY_FILE_NAMES:
        if (extracts / extra).exists():
            shutil.copyfile(extracts / extra, out / extra)
    return out
