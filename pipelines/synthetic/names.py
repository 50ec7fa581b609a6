"""Names and the recording noise applied to them.

Name lists ship as package data (drawn once from faker's en_GB provider) so output does not
change when faker is upgraded. nicknames.csv is shared with person resolution
(pipelines/resolution/nicknames.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class NameBook:
    female: np.ndarray
    male: np.ndarray
    surnames: np.ndarray
    surname_p: np.ndarray
    nick_of: dict[str, np.ndarray]  # formal name -> its nicknames


@functools.lru_cache(maxsize=1)
def name_book() -> NameBook:
    fore = pd.read_csv(DATA_DIR / "forenames.csv", dtype=str)
    sur = pd.read_csv(DATA_DIR / "surnames.csv", dtype={"surname": str, "weight": float})
    nick = pd.read_csv(DATA_DIR / "nicknames.csv", dtype=str)
    nick_of = {k: g["nickname"].to_numpy() for k, g in nick.groupby("name", sort=True)}
    p = sur["weight"].to_numpy()
    return NameBook(
        fore.loc[fore.sex == "F", "forename"].to_numpy(),
        fore.loc[fore.sex == "M", "forename"].to_numpy(),
        sur["surname"].to_numpy(),
        p / p.sum(),
        nick_of,
    )


def draw_forenames(sex: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    book = name_book()
    out = book.male[rng.integers(0, len(book.male), len(sex))].astype(object)
    female = sex == "F"
    out[female] = book.female[rng.integers(0, len(book.female), int(female.sum()))]
    return out


def draw_surnames(n: int, rng: np.random.Generator) -> np.ndarray:
    book = name_book()
    return book.surnames[rng.choice(len(book.surnames), n, p=book.surname_p)].astype(object)


def nickname(names: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Replace a formal name by one of its nicknames where one exists (Robert -> Bob)."""
    book = name_book()
    u = rng.random(len(names))
    out = names.copy()
    for i, name in enumerate(names):
        options = book.nick_of.get(name)
        if options is not None:
            out[i] = options[int(u[i] * len(options))]
    return out


def misspell(names: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One keyboard-style slip per name: drop, double, swap adjacent, or vowel change."""
    kinds = rng.integers(0, 4, len(names))
    pos_u = rng.random(len(names))
    vowels = "aeiou"
    vow_u = rng.integers(0, 5, len(names))
    out = names.copy()
    for i, name in enumerate(names):
        if not isinstance(name, str) or len(name) < 4:
            continue
        p = 1 + int(pos_u[i] * (len(name) - 2))  # never the first letter: people get that right
        k = kinds[i]
        if k == 0:
            s = name[:p] + name[p + 1 :]
        elif k == 1:
            s = name[:p] + name[p] + name[p:]
        elif k == 2:
            s = name[:p] + name[p + 1] + name[p] + name[p + 2 :]
        else:
            c = vowels[vow_u[i]]
            s = name[:p] + (c if c != name[p] else "y") + name[p + 1 :]
        out[i] = s
    return out


def swap_day_month(dob: np.ndarray) -> np.ndarray:
    """Swap day and month where the result is still a valid date (day <= 12)."""
    d = pd.DatetimeIndex(dob)
    ok = (d.day <= 12) & (d.day != d.month)
    swapped = pd.to_datetime(
        {"year": d.year, "month": np.where(ok, d.day, d.month), "day": np.where(ok, d.month, d.day)}
    )
    return swapped.to_numpy(dtype="datetime64[D]")
