"""The comparison levels written for speed answer as Splink's own levels do, pair by pair."""

from __future__ import annotations

import itertools

import duckdb
import pandas as pd
import splink.comparison_level_library as cll

from pipelines.resolution.model import _one_edit, _one_slip_same_length, _shares_element

NAMES = ["smith", "smiht", "smyth", "smithe", "smit", "mist", "jones", "", None]
DATES = ["1985-06-08", "1985-06-80", "1985-60-08", "1958-06-08", "1985-06-09", "1975-07-08"]
DATES += ["985-06-08", None]
LISTS = [[1, 2], [2, 3], [4], [], None, [5, 1]]


def _agree(ours: cll.CustomLevel, splinks: cll.ComparisonLevelCreator, values: list) -> None:
    pairs = pd.DataFrame(itertools.product(values, values), columns=["x_l", "x_r"])
    con = duckdb.connect()
    con.register("pairs", pairs)

    def answers(level: cll.ComparisonLevelCreator) -> list:
        sql = level.get_comparison_level("duckdb").sql_condition
        return [
            row[0] for row in con.execute(f"select coalesce({sql}, false) from pairs").fetchall()
        ]

    assert answers(ours) == answers(splinks)


def test_one_edit_is_splinks_damerau_levenshtein_level() -> None:
    _agree(_one_edit("x", "one edit"), cll.DamerauLevenshteinLevel("x", 1), NAMES)


def test_one_slip_is_splinks_damerau_levenshtein_level_on_dates() -> None:
    _agree(_one_slip_same_length("x", "typo"), cll.DamerauLevenshteinLevel("x", 1), DATES)


def test_shares_element_is_splinks_array_intersect_level() -> None:
    _agree(_shares_element("x", "shared"), cll.ArrayIntersectLevel("x", min_intersection=1), LISTS)
