"""Inject dirty rows at a small rate. Each injected row breaks exactly one contract rule.

Rows are mutated in place (or, for duplicate keys, a clean row is copied to the end of the
table). Rows that are quarantined only because they reference an injected row
(crime_persons of a quarantined crime, breaches of a quarantined order) are listed too, with
rule `references_quarantined_row` and injected = False.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.contracts.schema import EXTRACTS

RULES: dict[str, tuple[str, ...]] = {
    "crimes": (
        "unparseable_date",
        "unparseable_number",
        "null_required",
        "unknown_code",
        "duplicate_key",
        "lat_without_lon",
        "outside_force_area",
        "end_before_start",
        "not_allowed_value",
    ),
    "crime_persons": (
        "unparseable_date",
        "null_required",
        "missing_reference",
        "not_allowed_value",
        "dob_in_future",
    ),
    "intelligence": (
        "unparseable_date",
        "unparseable_number",
        "null_required",
        "duplicate_key",
        "lat_without_lon",
        "outside_force_area",
    ),
    "orders": ("unparseable_date", "duplicate_key", "not_allowed_value", "end_before_start"),
    "breaches": (
        "null_required",
        "duplicate_key",
        "missing_reference",
        "breach_before_grant",
        "not_allowed_value",
    ),
}
KEY = {
    "crimes": "crime_id",
    "intelligence": "intel_id",
    "orders": "order_id",
    "breaches": "breach_id",
}


def _bad_date(iso: str) -> str:
    """ISO-shaped but impossible (30 February): a typo no lenient parser can rescue."""
    return f"{iso[:4]}-02-30"


def _bad_number(text: str) -> str:
    return text.replace(".", ".O", 1)  # letter O typed for a zero


def _eligible(df: pd.DataFrame, file: str, rule: str) -> np.ndarray:
    n = len(df)
    ok = np.ones(n, bool)
    if rule in ("unparseable_number", "lat_without_lon", "outside_force_area"):
        ok = df["latitude"].notna().to_numpy()
    elif rule == "end_before_start" and file == "crimes":
        ok = (df["offence_start"].notna() & df["offence_end"].notna()).to_numpy()
    elif rule == "end_before_start":
        ok = (df["granted_date"].notna() & df["expiry_date"].notna()).to_numpy()
    elif rule in ("unparseable_date", "dob_in_future") and file == "crime_persons":
        ok = df["date_of_birth"].notna().to_numpy()
    elif rule == "unparseable_date" and file == "orders":
        ok = df["applied_date"].notna().to_numpy()
    return ok


def inject(
    extracts: dict[str, pd.DataFrame],
    rate: float,
    bbox: tuple[float, float, float, float],
    rng: np.random.Generator,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Return mutated extracts and the bad-row list (file, row [0-based], rule, injected, key).

    Tables are processed parents first so a child row is never injected with a rule of its own
    when its parent is already quarantined (it would then break two rules)."""
    out: dict[str, pd.DataFrame] = {}
    records: list[dict] = []
    quarantined: dict[str, set] = {}
    for file in EXTRACTS:
        df = extracts[file].copy()
        blocked = np.zeros(len(df), bool)
        if file == "crime_persons":
            blocked = df["crime_id"].isin(quarantined["crimes"]).to_numpy()
        granted_of = None
        if file == "breaches":
            blocked = df["order_id"].isin(quarantined["orders"]).to_numpy()
            first = out["orders"].drop_duplicates("order_id")
            granted_of = dict(zip(first["order_id"], first["granted_date"], strict=True))
        rules = RULES[file]
        n_bad = max(len(rules), int(round(rate * len(df))))
        n_bad = min(n_bad, len(df) // 2)
        used = blocked.copy()
        perm = rng.permutation(len(df))
        dups: list[pd.Series] = []
        mutated: list[int] = []
        # candidate rows per rule in one random order, consumed with a cursor (O(n) overall)
        cands = {rule: perm[(_eligible(df, file, rule) & ~blocked)[perm]] for rule in rules}
        cursor = dict.fromkeys(rules, 0)
        dob = df["date_of_birth"].to_numpy() if file == "crime_persons" else None
        for i in range(n_bad):
            rule = rules[i % len(rules)]
            cand, r = cands[rule], -1
            while cursor[rule] < len(cand):
                c = int(cand[cursor[rule]])
                cursor[rule] += 1
                # 29 February + 100 years is not always a date
                if not used[c] and not (rule == "dob_in_future" and dob[c].endswith("-02-29")):
                    r = c
                    break
            if r < 0:
                continue
            used[r] = True
            if rule == "duplicate_key":
                dups.append(df.iloc[r].copy())
                continue
            _mutate(df, file, rule, r, bbox, granted_of, rng)
            records.append({"file": file, "row": r, "rule": rule, "injected": True})
            mutated.append(r)
        if dups:
            start = len(df)
            df = pd.concat([df, pd.DataFrame(dups)], ignore_index=True)
            for j in range(len(dups)):
                records.append(
                    {"file": file, "row": start + j, "rule": "duplicate_key", "injected": True}
                )
        if blocked.any():
            for r in np.nonzero(blocked)[0]:
                records.append(
                    {
                        "file": file,
                        "row": int(r),
                        "rule": "references_quarantined_row",
                        "injected": False,
                    }
                )
        quarantined[file] = set(df[KEY[file]].to_numpy()[mutated]) if file in KEY else set()
        out[file] = df.reset_index(drop=True)
    bad = pd.DataFrame(records, columns=["file", "row", "rule", "injected"])
    return out, bad.sort_values(["file", "row"], kind="stable").reset_index(drop=True)


def _mutate(
    df: pd.DataFrame,
    file: str,
    rule: str,
    r: int,
    bbox: tuple[float, float, float, float],
    granted_of: dict[str, str] | None,
    rng: np.random.Generator,
) -> None:
    col = df.columns.get_loc
    if rule == "unparseable_date":
        c = {
            "crimes": "reported_date",
            "crime_persons": "date_of_birth",
            "intelligence": "submitted_date",
            "orders": "applied_date",
        }[file]
        df.iat[r, col(c)] = _bad_date(df.iat[r, col(c)])
    elif rule == "unparseable_number":
        df.iat[r, col("latitude")] = _bad_number(df.iat[r, col("latitude")])
    elif rule == "null_required":
        c = {
            "crimes": "offence_code",
            "crime_persons": "person_id",
            "intelligence": "is_stalking_related",
            "breaches": "breach_date",
        }[file]
        df.iat[r, col(c)] = None
    elif rule == "unknown_code":
        df.iat[r, col("offence_code")] = "999/99"
    elif rule == "lat_without_lon":
        df.iat[r, col("longitude")] = None
    elif rule == "outside_force_area":
        minx, miny, maxx, _ = bbox
        df.iat[r, col("latitude")] = f"{miny - 0.2 - rng.random() * 0.3:.6f}"
        df.iat[r, col("longitude")] = f"{minx + rng.random() * (maxx - minx):.6f}"
    elif rule == "end_before_start" and file == "crimes":
        start = np.datetime64(df.iat[r, col("offence_start")], "s")
        back = np.timedelta64(int(rng.integers(1, 10)) * 86400, "s")
        df.iat[r, col("offence_end")] = str(start - back)
    elif rule == "end_before_start":
        granted = np.datetime64(df.iat[r, col("granted_date")], "D")
        df.iat[r, col("expiry_date")] = str(granted - int(rng.integers(5, 60)))
    elif rule == "not_allowed_value":
        c, v = {
            "crimes": ("risk_level", "very high"),
            "crime_persons": ("role", "witness"),
            "orders": ("order_type", "ASBO"),
            "breaches": ("action_taken", "warning"),
        }[file]
        df.iat[r, col(c)] = v
    elif rule == "missing_reference":
        c = "crime_id" if file == "crime_persons" else "order_id"
        prefix = "CR99" if file == "crime_persons" else "OR99"
        df.iat[r, col(c)] = f"{prefix}{int(rng.integers(0, 10**8)):08d}"
    elif rule == "dob_in_future":
        dob = df.iat[r, col("date_of_birth")]
        df.iat[r, col("date_of_birth")] = f"{int(dob[:4]) + 100}{dob[4:]}"  # 1985 -> 2085
    elif rule == "breach_before_grant":
        granted = np.datetime64(granted_of[df.iat[r, col("order_id")]], "D")
        df.iat[r, col("breach_date")] = str(granted - int(rng.integers(5, 60)))
    else:  # pragma: no cover
        raise ValueError(rule)
