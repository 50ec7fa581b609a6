"""Section 9's order-effectiveness split keeps a small group from hiding the sides it is no
part of, and no small count can be worked out from the published cells.

Each order type's groups (domestic abuse, not domestic abuse, no crime linked) add up to its
All row, which the orders-granted-per-quarter tables print too (a cohort's four quarters add up
to it); each group adds up over the order types to the all-order-types row. A reader who
differences the published cells solves these equations: the tests bound every hidden count by
linear programming over them, and a small count must not be pinned to one value."""

from __future__ import annotations

import duckdb
import numpy as np
from scipy.optimize import linprog

from pipelines.disclosure import SUPPRESSED
from pipelines.report.printed import printed_table

K = 5
MODEL = "rpt_profile_order_effectiveness"
GROUPS = ("domestic_abuse", "not_domestic_abuse", "no_crime")
MERGED = "Not domestic abuse or no crime linked"
LABELS = {"All": "all", "Domestic abuse": "domestic_abuse", "Not domestic abuse": GROUPS[1]}
LABELS |= {"No crime linked": "no_crime", MERGED: "merged"}
GRANTED = {"granted_3m": 2, "granted_6m": 5, "granted_12m": 8}  # printed column positions

# The demo force's cohorts in 2026-Q3 (granted 3m, 6m, 12m per order type and group): the
# restraining orders' no-crime group is 1-2 orders, the non-molestation orders' not domestic
# abuse 3, 1 and 0.
DEMO = {
    "ISPO": {"domestic_abuse": (8, 4, 7), "not_domestic_abuse": (6, 5, 3), "no_crime": (0, 0, 0)},
    "SPO": {
        "domestic_abuse": (14, 18, 25),
        "not_domestic_abuse": (14, 16, 15),
        "no_crime": (0,) * 3,
    },
    "DVPO": {"domestic_abuse": (37, 35, 28), "not_domestic_abuse": (0, 1, 2), "no_crime": (0,) * 3},
    "IAH": {"domestic_abuse": (0, 0, 0), "not_domestic_abuse": (0, 0, 0), "no_crime": (34, 44, 48)},
    "NMO": {
        "domestic_abuse": (24, 26, 20),
        "not_domestic_abuse": (3, 1, 0),
        "no_crime": (49, 37, 43),
    },
    "RO": {
        "domestic_abuse": (86, 91, 92),
        "not_domestic_abuse": (153, 151, 158),
        "no_crime": (1, 1, 2),
    },
}


def _demo_table() -> dict:
    """The demo's cohorts as the reporting view holds them (breaches and re-offending a fixed
    share of each count: only the counts are audited here), printed."""
    rows = []
    types = {
        **DEMO,
        "ALL": {
            g: tuple(map(sum, zip(*(t[g] for t in DEMO.values()), strict=True))) for g in GROUPS
        },
    }
    for order, (order_type, groups) in enumerate(types.items()):
        cohorts = {"all": tuple(map(sum, zip(*groups.values(), strict=True))), **groups}
        for da_order, (group, counts) in enumerate(cohorts.items()):
            figures = ", ".join(f"{n}, {n // 3}, {n // 4}" for n in counts)
            label = next(name for name, key in LABELS.items() if key == group)
            rows.append(
                f"('Q', '{order_type}', '{order_type}', {order}, '{group}', '{label}', "
                f"{da_order}, {figures})"
            )
    with duckdb.connect() as con:
        con.execute("create schema reporting")
        con.execute(
            f"create table reporting.{MODEL} as select * from (values {', '.join(rows)}) as t ("
            "quarter, order_type, order_type_label, order_type_order, da_group, da_label, "
            "da_order, granted_3m, breached_3m, reoffended_3m, granted_6m, breached_6m, "
            "reoffended_6m, granted_12m, breached_12m, reoffended_12m)"
        )
        return printed_table(con, MODEL, "profile", K, "order by order_type_order, da_order")


def pinned_small_counts(
    printed: list[list[str]], truth: dict[str, dict[str, int]], column: int
) -> list[tuple[str, str, float, float]]:
    """The small counts (1 to K-1) of one printed count column that a reader can work out:
    every published cell is an equation on the unknown per-type group counts (All, a group, the
    merged pair, or a group over all types), each type's All is known from the per-quarter
    tables, and linear programming bounds each small count. Returns (type, group, low, high)
    of those whose bounds meet."""
    types = [t for t in truth if t != "ALL"]
    unknowns = [(t, g) for t in types for g in GROUPS]
    where = {u: i for i, u in enumerate(unknowns)}

    def equation(order_type: str, group: str) -> np.ndarray:
        row = np.zeros(len(unknowns))
        for t in types if order_type == "ALL" else [order_type]:
            for g in (
                GROUPS
                if group == "all"
                else [GROUPS[1], GROUPS[2]]
                if group == "merged"
                else [group]
            ):
                row[where[t, g]] = 1
        return row

    equations, values = [], []
    for order_type in types:  # each type's All: printed in the per-quarter tables too
        equations.append(equation(order_type, "all"))
        values.append(sum(truth[order_type].values()))
    for cells in printed:
        if cells[column] != SUPPRESSED:
            equations.append(equation(cells[0], LABELS[cells[1]]))
            values.append(float(cells[column].replace(",", "")))
    pinned = []
    for (t, g), i in where.items():
        if not 0 < truth[t][g] < K:
            continue
        objective = np.zeros(len(unknowns))
        objective[i] = 1
        bounds = [
            linprog(sign * objective, A_eq=np.array(equations), b_eq=values, bounds=(0, None)).fun
            * sign
            for sign in (1, -1)
        ]
        if bounds[1] - bounds[0] < 1 - 1e-9:
            pinned.append((t, g, *bounds))
    return pinned


def test_a_small_group_is_merged_and_no_small_count_can_be_worked_out() -> None:
    table = _demo_table()
    printed = table["rows"]
    for name, column in GRANTED.items():
        cohort = ("granted_3m", "granted_6m", "granted_12m").index(name)
        truth = {t: {g: DEMO[t][g][cohort] for g in GROUPS} for t in DEMO} | {"ALL": {}}
        assert pinned_small_counts(printed, truth, column) == [], name
    restraining = {row[1]: row for row in printed if row[0] == "RO"}
    # the 1-2 restraining orders without a crime no longer hide the domestic-abuse side: it and
    # the rest print, the small group merged with not domestic abuse
    assert list(restraining) == ["All", "Domestic abuse", MERGED]
    assert restraining["Domestic abuse"][2] == "86"
    assert restraining[MERGED][2] == "154"
