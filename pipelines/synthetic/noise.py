"""Noise profiles: extra recording noise on nominal records, beyond the generator's own.

The generator's default noise (nicknames, one-letter slips, previous surnames, day/month swaps,
missing dates of birth, a new postcode) is what person resolution was built on. A profile adds
other kinds, at its own rates, so resolution can be measured on records it was not tuned on:
second and married surnames, nicknames, transliteration and typos, titles and suffixes in the
name fields, forename and surname entered the wrong way round, day/month swaps and digit
slips in the date of birth, missing dates of birth, an old postcode, names in capitals.

`default` adds nothing and draws no random numbers (the default output is byte-identical).
Rates are per duplicate nominal record; a primary record gets `primary_share` of each rate.
Profiles in HELD_OUT are never used to choose a threshold, a weight or a rule.
"""

from __future__ import annotations

import calendar
import zlib
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from pipelines.synthetic import names


@dataclass(frozen=True)
class NoiseProfile:
    name: str
    second_surname: float = 0.0  # "Smith-Jones" / "Smith Jones" (double-barrelled, Hispanic)
    married_surname: float = 0.0  # another surname altogether (women, mostly)
    nickname: float = 0.0
    transliteration: float = 0.0  # Mohammed ~ Muhammad, ph ~ f, ...
    typo: float = 0.0  # one more keyboard slip in forename or surname
    title: float = 0.0  # "Mr", "Mrs", "Dr" in the forename; "Jr", "Snr" in the surname
    name_swap: float = 0.0  # forename and surname entered the wrong way round
    dob_swap: float = 0.0  # day and month swapped
    dob_digit: float = 0.0  # one digit of the day or the year slips
    dob_missing: float = 0.0
    old_postcode: float = 0.0  # a former address's postcode
    all_caps: float = 0.0
    primary_share: float = 0.2


PROFILES: dict[str, NoiseProfile] = {
    "default": NoiseProfile("default"),
    # roughly what a force's records system shows beyond our default noise
    "messy": NoiseProfile(
        "messy",
        second_surname=0.08,
        married_surname=0.08,
        nickname=0.15,
        transliteration=0.05,
        typo=0.15,
        title=0.08,
        name_swap=0.04,
        dob_swap=0.05,
        dob_digit=0.08,
        dob_missing=0.08,
        old_postcode=0.2,
        all_caps=0.3,
    ),
    # names recorded from speech and other alphabets; few date problems
    "transliterated": NoiseProfile(
        "transliterated",
        transliteration=0.35,
        typo=0.25,
        second_surname=0.15,
        title=0.05,
        all_caps=0.5,
        old_postcode=0.1,
    ),
    # held out of all tuning: every kind at once, at higher rates, more on primaries too
    "heavy": NoiseProfile(
        "heavy",
        second_surname=0.12,
        married_surname=0.12,
        nickname=0.25,
        transliteration=0.15,
        typo=0.25,
        title=0.12,
        name_swap=0.08,
        dob_swap=0.1,
        dob_digit=0.12,
        dob_missing=0.12,
        old_postcode=0.3,
        all_caps=0.4,
        primary_share=0.35,
    ),
}
HELD_OUT = ("heavy",)

TITLES = np.array(["Mr", "Mrs", "Ms", "Miss", "Dr"], dtype=object)
SUFFIXES = np.array(["Jr", "Jnr", "Snr", "II"], dtype=object)
# (pattern, replacement) tried in order; the first that applies is used
TRANSLITERATIONS = (
    ("mohammed", "muhammad"),
    ("muhammad", "mohamed"),
    ("ph", "f"),
    ("f", "ph"),
    ("ck", "k"),
    ("ou", "u"),
    ("ie", "y"),
    ("y", "i"),
    ("ae", "e"),
    ("th", "t"),
    ("k", "c"),
    ("c", "k"),
    ("ss", "s"),
    ("ll", "l"),
    ("v", "w"),
)


def profile(name: str) -> NoiseProfile:
    if name not in PROFILES:
        raise ValueError(f"noise profile must be one of {', '.join(PROFILES)}, got {name!r}")
    return PROFILES[name]


def is_default(p: NoiseProfile) -> bool:
    return all(
        getattr(p, f.name) == 0.0 for f in fields(p) if f.name not in ("name", "primary_share")
    )


def transliterate(name: str, u: float) -> str:
    lower = name.lower()
    options = [(a, b) for a, b in TRANSLITERATIONS if a in lower]
    if not options:
        return name
    a, b = options[int(u * len(options))]
    at = lower.index(a)
    out = lower[:at] + b + lower[at + len(a) :]
    return out[:1].upper() + out[1:]


def _digit_slip(dob_day: int, u: float, v: float) -> int:
    """One digit of the day or the year changes (the date stays valid)."""
    date = np.datetime64("1970-01-01") + np.timedelta64(int(dob_day), "D")
    y, m, d = (int(x) for x in str(date).split("-"))
    if u < 0.5:
        y = y + (1 if v < 0.5 else -1) * (1 if u < 0.25 else 10)
    else:
        d = min(28, max(1, d + (1 if v < 0.5 else -1) * (1 if u < 0.75 else 10)))
    if (m, d) == (2, 29) and not calendar.isleap(y):  # 29 February slipped to a common year
        d = 28
    new = np.datetime64(f"{y:04d}-{m:02d}-{d:02d}")
    return int((new - np.datetime64("1970-01-01")).astype(int))


def apply_noise(
    p: NoiseProfile,
    dup: np.ndarray,
    fore: np.ndarray,
    sur: np.ndarray,
    dob: np.ndarray,
    post: np.ndarray,
    draw_postcodes: Callable[[np.random.Generator, int], np.ndarray],
    seed: int,
) -> None:
    """Add the profile's noise in place (fore/sur/post object arrays, dob day numbers with -1
    missing). `draw_postcodes(rng, n)`: n postcodes in the area (old addresses)."""
    if is_default(p):
        return
    rng = np.random.default_rng([seed, zlib.crc32(p.name.encode())])
    m = len(fore)
    scale = np.where(dup, 1.0, p.primary_share)

    def hit(rate: float) -> np.ndarray:
        return rng.random(m) < rate * scale

    book = names.name_book()
    extra = book.surnames[rng.choice(len(book.surnames), m, p=book.surname_p)].astype(object)
    u = rng.random(m)
    has_s = np.array([isinstance(s, str) for s in sur])
    has_f = np.array([isinstance(s, str) for s in fore])
    married = hit(p.married_surname) & has_s
    sur[married] = extra[married]
    second = hit(p.second_surname) & has_s & ~married
    for i in np.flatnonzero(second):
        sur[i] = f"{sur[i]}-{extra[i]}" if u[i] < 0.5 else f"{sur[i]} {extra[(i + 1) % m]}"
    nick = hit(p.nickname) & has_f
    fore[nick] = names.nickname(fore[nick], rng)
    trans = hit(p.transliteration)
    which = rng.random(m)
    for i in np.flatnonzero(trans):
        if which[i] < 0.5 and has_f[i]:
            fore[i] = transliterate(fore[i], u[i])
        elif has_s[i]:
            sur[i] = transliterate(sur[i], u[i])
    typo = hit(p.typo)
    tf = typo & has_f & (which < 0.5)
    ts = typo & has_s & (which >= 0.5)
    fore[tf] = names.misspell(fore[tf], rng)
    sur[ts] = names.misspell(sur[ts], rng)
    title = hit(p.title)
    t_pick = rng.integers(0, len(TITLES), m)
    s_pick = rng.integers(0, len(SUFFIXES), m)
    for i in np.flatnonzero(title):
        if which[i] < 0.6 and has_f[i]:
            fore[i] = f"{TITLES[t_pick[i]]} {fore[i]}"
        elif has_s[i]:
            sur[i] = f"{sur[i]} {SUFFIXES[s_pick[i]]}"
    swap = hit(p.name_swap) & has_f & has_s
    fore[swap], sur[swap] = sur[swap].copy(), fore[swap].copy()
    known = dob >= 0
    dswap = hit(p.dob_swap) & known
    if dswap.any():
        epoch = np.datetime64("1970-01-01")
        dates = (epoch + dob[dswap].astype("timedelta64[D]")).astype("datetime64[D]")
        dob[dswap] = (names.swap_day_month(dates) - epoch).astype(int)
    slip = hit(p.dob_digit) & known & ~dswap
    v = rng.random(m)
    for i in np.flatnonzero(slip):
        dob[i] = _digit_slip(dob[i], u[i], v[i])
    dob[hit(p.dob_missing)] = -1
    old = hit(p.old_postcode)
    post[old] = draw_postcodes(rng, int(old.sum()))
    caps = hit(p.all_caps)
    for i in np.flatnonzero(caps):
        if isinstance(fore[i], str):
            fore[i] = fore[i].upper()
        if isinstance(sur[i], str):
            sur[i] = sur[i].upper()
