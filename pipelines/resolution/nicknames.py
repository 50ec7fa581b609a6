"""The nickname list used by the forename comparison.

One home for the list: `pipelines/synthetic/data/nicknames.csv` (name,nickname), shared with
the synthetic generator, which draws its nickname noise from the same file. A force extends
it by adding rows there.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

NICKNAMES_CSV = Path(__file__).resolve().parents[1] / "synthetic" / "data" / "nicknames.csv"


def load_nicknames(path: Path | None = None) -> pd.DataFrame:
    """name,nickname pairs, lower case and de-duplicated (both columns normalised like names)."""
    frame = pd.read_csv(path or NICKNAMES_CSV, dtype=str).dropna()
    out = pd.DataFrame(
        {
            "name": frame["name"].str.lower().str.replace(r"[^a-z]", "", regex=True),
            "nickname": frame["nickname"].str.lower().str.replace(r"[^a-z]", "", regex=True),
        }
    )
    return out[(out["name"] != "") & (out["nickname"] != "")].drop_duplicates()
