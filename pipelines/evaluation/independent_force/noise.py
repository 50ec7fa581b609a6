"""How a person's details come out when an officer or call handler types them.

A nominal record is created once and its details are then repeated on every crime it is
linked to, so most noise is drawn per nominal, not per row; a duplicate nominal is a second
typing of the same person, usually by someone who did not find the first. Intelligence subjects
are typed from scratch, in a hurry, more often partially.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from pipelines.evaluation.independent_force.names import (
    SUFFIXES_AFTER,
    TITLES_BEFORE,
    variant_map,
)

VARIANTS = variant_map()

_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(_KEYBOARD_ROWS):
    for _c, _ch in enumerate(_row):
        near = []
        if _c > 0:
            near.append(_row[_c - 1])
        if _c < len(_row) - 1:
            near.append(_row[_c + 1])
        for _other in (_r - 1, _r + 1):
            if 0 <= _other < len(_KEYBOARD_ROWS) and _c < len(_KEYBOARD_ROWS[_other]):
                near.append(_KEYBOARD_ROWS[_other][_c])
        _NEIGHBOURS[_ch] = "".join(near)


@dataclass(frozen=True)
class NoiseRates:
    """Per-typing probabilities of each kind of slip (independent of each other)."""

    nickname: float = 0.10
    other_surname: float = 0.45  # of people who have one (maiden/married/second surname)
    transliteration: float = 0.35  # of names that have variant spellings
    typo_forename: float = 0.05
    typo_surname: float = 0.06
    title_or_suffix: float = 0.03
    swapped: float = 0.025
    initial_only: float = 0.03
    case_style: float = 0.30  # ALL CAPS surname, all caps, lower case, extra spaces
    dob_missing: float = 0.06
    dob_day_month_swap: float = 0.03
    dob_digit_slip: float = 0.03
    dob_age_estimate: float = 0.025  # only the year known: recorded as 1 January
    postcode_old: float = 0.25  # of people who moved: the previous address's postcode
    postcode_retired: float = 0.5  # of homes whose unit was recoded: the old code
    postcode_missing: float = 0.10
    postcode_format: float = 0.10  # no space / lower case

    def scaled(self, factor: float) -> NoiseRates:
        values = {k: min(0.95, v * factor) for k, v in self.__dict__.items()}
        return NoiseRates(**values)


FIRST_TYPING = NoiseRates().scaled(0.5)  # the original nominal is usually the careful one
DUPLICATE_TYPING = NoiseRates()
INTEL_TYPING = NoiseRates(
    nickname=0.25, typo_forename=0.07, typo_surname=0.08, initial_only=0.08, case_style=0.4
)


def typo(rng: np.random.Generator, word: str) -> str:
    if len(word) < 3:
        return word
    i = int(rng.integers(1, len(word)))
    kind = rng.random()
    ch = word[i]
    if kind < 0.35 and ch.lower() in _NEIGHBOURS:  # neighbouring key
        rep = _NEIGHBOURS[ch.lower()][int(rng.integers(len(_NEIGHBOURS[ch.lower()])))]
        rep = rep.upper() if ch.isupper() else rep
        return word[:i] + rep + word[i + 1 :]
    if kind < 0.6 and i < len(word) - 1:  # transposed pair
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind < 0.8:  # dropped letter
        return word[:i] + word[i + 1 :]
    return word[:i] + ch + word[i:]  # doubled letter


def case_style(rng: np.random.Generator, forename: str, surname: str) -> tuple[str, str]:
    k = rng.random()
    if k < 0.5:
        return forename, surname.upper()  # PNC habit: surname in capitals
    if k < 0.75:
        return forename.upper(), surname.upper()
    if k < 0.88:
        return forename.lower(), surname.lower()
    return f" {forename} ", f"{surname}  "


def record_name(
    rng: np.random.Generator,
    forename: str,
    surname: str,
    nicknames: tuple[str, ...],
    other_surname: str,
    rates: NoiseRates,
    sex: str = "",
) -> tuple[str, str]:
    f, s = forename, surname
    if other_surname and rng.random() < rates.other_surname:
        s = other_surname
    if nicknames and rng.random() < rates.nickname:
        f = nicknames[int(rng.integers(len(nicknames)))]
    if f in VARIANTS and rng.random() < rates.transliteration:
        f = VARIANTS[f][int(rng.integers(len(VARIANTS[f])))]
    if s in VARIANTS and rng.random() < rates.transliteration:
        s = VARIANTS[s][int(rng.integers(len(VARIANTS[s])))]
    if rng.random() < rates.typo_forename:
        f = typo(rng, f)
    if rng.random() < rates.typo_surname:
        s = typo(rng, s)
    if rng.random() < rates.initial_only:
        f = f[0] if rng.random() < 0.7 else f"{f[0]}."
    if rng.random() < rates.title_or_suffix:
        titles = TITLES_BEFORE.get(sex, ())
        if titles and rng.random() < 0.6:
            f = f"{titles[int(rng.integers(len(titles)))]} {f}"
        else:
            s = f"{s} {SUFFIXES_AFTER[int(rng.integers(len(SUFFIXES_AFTER)))]}"
    if rng.random() < rates.swapped:
        f, s = s, f
    if rng.random() < rates.case_style:
        f, s = case_style(rng, f, s)
    return f, s


def record_dob(
    rng: np.random.Generator, dob: dt.date, rates: NoiseRates, latest: dt.date
) -> dt.date | None:
    """The date of birth as typed; a slip never lands after `latest` (the extract's last day):
    future dates are the deliberately bad rows' job, marked in truth."""
    k = rng.random()
    if k < rates.dob_missing:
        return None
    k -= rates.dob_missing
    if k < rates.dob_day_month_swap:
        if dob.day <= 12 and dob.day != dob.month:
            return dt.date(dob.year, dob.day, dob.month)
        return dob
    k -= rates.dob_day_month_swap
    if k < rates.dob_digit_slip:
        text = dob.strftime("%Y%m%d")
        for _ in range(5):
            i = int(rng.choice([2, 3, 5, 7]))  # decade, year, month unit, day unit
            digit = str((int(text[i]) + int(rng.choice([-1, 1]))) % 10)
            slipped = text[:i] + digit + text[i + 1 :]
            try:
                typed = dt.datetime.strptime(slipped, "%Y%m%d").date()
            except ValueError:
                continue
            if typed <= latest:
                return typed
        return dob
    k -= rates.dob_digit_slip
    if k < rates.dob_age_estimate:
        return min(dt.date(dob.year + int(rng.integers(-1, 2)), 1, 1), latest)
    return dob


def record_postcode(
    rng: np.random.Generator,
    current: str,
    previous: str,
    retired: str,
    rates: NoiseRates,
) -> str:
    if rng.random() < rates.postcode_missing:
        return ""
    code = current
    if previous and rng.random() < rates.postcode_old:
        code = previous
    elif retired and rng.random() < rates.postcode_retired:
        code = retired
    if rng.random() < rates.postcode_format:
        code = code.replace(" ", "") if rng.random() < 0.5 else code.lower()
    return code
