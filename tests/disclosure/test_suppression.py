"""Primary and secondary suppression: no published total can reveal a suppressed cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.disclosure import (
    protect_count,
    protect_rate,
    protect_series,
    protect_table,
    suppress_together,
)
from pipelines.disclosure.suppression import TOTAL

K = 5


def _relations(values: pd.DataFrame, rows: bool, cols: bool) -> list[list[tuple]]:
    out = []
    if rows:
        inner = [c for c in values.columns if c != TOTAL]
        out += [[(r, c) for c in inner] + [(r, TOTAL)] for r in values.index]
    if cols:
        inner = [r for r in values.index if r != TOTAL]
        out += [[(r, c) for r in inner] + [(TOTAL, c)] for c in values.columns]
    return out


def _assert_safe(table, rows: bool, cols: bool) -> None:
    values, hidden = table.values, table.suppressed
    # Primary: every small non-zero count is hidden; zero and large counts only by necessity.
    small = values.map(lambda v: 0 < v < K)
    assert (hidden | ~small).all().all(), "a count below the threshold was published"
    for members in _relations(values, rows, cols):
        suppressed = [m for m in members if hidden.at[m]]
        nonzero_published = [m for m in members if not hidden.at[m] and values.at[m] > 0]
        # A lone suppressed member of a relation can be recovered by subtraction.
        assert len(suppressed) != 1 or not nonzero_published, (
            f"relation {members} has a single suppressed cell"
        )


def test_primary_suppression_hides_small_counts_only() -> None:
    table = protect_series({"a": 0, "b": 3, "c": 12, "d": 40}, K, total=False)
    shown = table.display()["count"].to_dict()
    assert shown == {"a": "0", "b": "[c]", "c": "12", "d": "40"}


def test_secondary_suppression_protects_a_lone_small_cell() -> None:
    table = protect_series({"a": 3, "b": 12, "c": 40}, K)
    shown = table.display()["count"].to_dict()
    assert shown["a"] == "[c]"
    # 55 total published: the smallest other cell (12) must go too, or a = 55 - 12 - 40.
    assert shown["b"] == "[c]"
    assert shown["c"] == "40" and shown[TOTAL] == "55"
    _assert_safe(table, rows=False, cols=True)


def test_small_total_is_suppressed_and_protected() -> None:
    table = pd.DataFrame({"q1": [2, 1], "q2": [30, 25]}, index=["x", "y"])
    protected = protect_table(table, K, row_totals=True, column_totals=True)
    assert protected.suppressed.at[TOTAL, "q1"]  # 3 < 5
    _assert_safe(protected, rows=True, cols=True)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 6),
    st.data(),
    st.booleans(),
    st.booleans(),
)
def test_no_relation_ever_has_a_lone_suppressed_cell(n_rows, n_cols, data, rows, cols) -> None:
    cells = data.draw(
        st.lists(
            st.integers(0, 30) | st.integers(0, 6),
            min_size=n_rows * n_cols,
            max_size=n_rows * n_cols,
        )
    )
    frame = pd.DataFrame(
        np.array(cells).reshape(n_rows, n_cols),
        index=[f"r{i}" for i in range(n_rows)],
        columns=[f"c{j}" for j in range(n_cols)],
    )
    protected = protect_table(frame, K, row_totals=rows, column_totals=cols)
    _assert_safe(protected, rows, cols)


def test_public_values_never_contain_a_suppressed_number() -> None:
    frame = pd.DataFrame({"2025-Q1": [1, 20, 7], "2025-Q2": [9, 0, 3]}, index=list("abc"))
    protected = protect_table(frame, K, row_totals=False, column_totals=True)
    public = protected.public()
    hidden = protected.suppressed
    # The two small counts (1 and 3) are hidden, so the loop below checks hidden cells.
    assert hidden.at["a", "2025-Q1"] and hidden.at["c", "2025-Q2"]
    for (r, c), is_hidden in hidden.stack().items():
        assert public.at[r, c] == (None if is_hidden else protected.values.at[r, c]), (r, c)


def test_rates_on_suppressed_or_small_counts_are_suppressed() -> None:
    assert protect_rate(3, 50, K).suppressed  # small numerator
    assert protect_rate(48, 50, K).suppressed  # small complement (2 did not)
    assert protect_rate(2, 3, K).suppressed  # small denominator
    assert not protect_rate(0, 50, K).suppressed  # a true 0% discloses no one
    rate = protect_rate(20, 50, K)
    assert not rate.suppressed and rate.value == 0.4
    table = protect_series({"a": 3, "b": 12}, K)
    assert protect_rate(table.count("b", "count"), table.count(TOTAL, "count"), K).suppressed


def test_a_share_of_people_at_none_or_all_is_suppressed() -> None:
    """Rule 4: 0 % or 100 % of a group of people tells every member's attribute."""
    assert protect_rate(0, 50, K, attribute=True).suppressed
    assert protect_rate(50, 50, K, attribute=True).suppressed
    assert protect_rate(400, 400, K, attribute=True).suppressed  # at any group size
    rate = protect_rate(20, 50, K, attribute=True)
    assert not rate.suppressed and rate.value == 0.4
    assert not protect_rate(0, 0, K, attribute=True).suppressed  # no one: nothing to tell
    # a rate of police process per crime keeps rule 3 only
    assert not protect_rate(50, 50, K).suppressed


def test_sides_of_a_split_are_suppressed_together() -> None:
    k = 3
    hidden_side = [protect_count(2, k), protect_count(40, k), protect_rate(30, 40, k)]
    assert all(f.suppressed for f in suppress_together(hidden_side))
    shown = [protect_count(12, k), protect_count(40, k)]
    assert suppress_together(shown) == shown
