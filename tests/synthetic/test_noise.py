"""Noise profiles: the default adds nothing; each kind of noise does what it says."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pipelines.synthetic import noise


def _records(n: int = 400) -> tuple[np.ndarray, ...]:
    fore = np.array(["Robert", "Sophie", "Mohammed", "Philip"] * (n // 4), dtype=object)
    sur = np.array(["Smith", "Jackson", "Khan", "Phelps"] * (n // 4), dtype=object)
    dob = np.full(n, 7014)  # mid-March 1989: a day slip stays in the month
    post = np.array(["YO1 7HH"] * n, dtype=object)
    dup = np.ones(n, dtype=bool)
    return dup, fore, sur, dob, post


def _apply(profile: noise.NoiseProfile, n: int = 400) -> tuple[np.ndarray, ...]:
    dup, fore, sur, dob, post = _records(n)
    noise.apply_noise(
        profile,
        dup,
        fore,
        sur,
        dob,
        post,
        lambda rng, k: np.array(["LS1 1AA"] * k, dtype=object),
        seed=1,
    )
    return fore, sur, dob, post


def test_default_profile_changes_nothing() -> None:
    before = _records()
    after = _apply(noise.profile("default"))
    assert list(after[0]) == list(before[1])
    assert list(after[1]) == list(before[2])
    assert (after[2] == before[3]).all()
    assert list(after[3]) == list(before[4])


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("all_caps", lambda f, s, d, p: all(x == x.upper() for x in f)),
        ("name_swap", lambda f, s, d, p: set(f) == {"Smith", "Jackson", "Khan", "Phelps"}),
        ("dob_missing", lambda f, s, d, p: (d == -1).all()),
        ("old_postcode", lambda f, s, d, p: set(p) == {"LS1 1AA"}),
        ("title", lambda f, s, d, p: all(" " in a or " " in b for a, b in zip(f, s, strict=True))),
        ("second_surname", lambda f, s, d, p: all(("-" in x) or (" " in x) for x in s)),
        ("dob_digit", lambda f, s, d, p: (d != 7014).all()),
    ],
)
def test_each_kind_at_rate_one(kind: str, check) -> None:
    profile = dataclasses.replace(noise.NoiseProfile("test"), **{kind: 1.0})
    fore, sur, dob, post = _apply(profile)
    assert check(fore, sur, dob, post), kind


def test_transliteration_changes_spelling() -> None:
    assert noise.transliterate("Mohammed", 0.0) == "Muhammad"
    assert noise.transliterate("Philip", 0.0) != "Philip"


def test_held_out_profile_exists_and_unknown_is_refused() -> None:
    assert set(noise.HELD_OUT) <= set(noise.PROFILES)
    with pytest.raises(ValueError):
        noise.profile("nope")


def test_digit_slip_of_the_year_keeps_29_february_a_valid_date() -> None:
    leap_day = int((np.datetime64("2004-02-29") - np.datetime64("1970-01-01")).astype(int))
    # u < 0.25: the year moves by one, to 2005 or 2003, neither a leap year
    for v in (0.1, 0.9):
        slipped = np.datetime64("1970-01-01") + np.timedelta64(
            noise._digit_slip(leap_day, 0.1, v), "D"
        )
        assert str(slipped) in {"2005-02-28", "2003-02-28"}
