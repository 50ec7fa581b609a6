"""The suppressed-cell id count: one pass over the text, the same count as `str.count` per id."""

from __future__ import annotations

import random

from pipelines.disclosure.locations import count_ids


def _naive(text: str, ids: frozenset[str]) -> int:
    return sum(text.count(cell_id) for cell_id in ids)


def test_count_ids_agrees_with_str_count_on_overlapping_and_nested_ids() -> None:
    # Ids that overlap themselves ("500m_..._n471500" ends as it starts), ids nested in longer
    # ids of another cell size, ids sharing first characters, and ids shorter than the anchor.
    ids = frozenset(
        {
            "500m_e363000_n471500",
            "500m_e363000_n4715",
            "1500m_e363000_n471500",
            "500m_e1000000_n471500",
            "aaaa",
            "aaaaaa",
            "ab",
            "a",
        }
    )
    pieces = [*ids, "500m_", "m_e363000", "x", " ", "500", "aaa", "0_n471500"]
    rng = random.Random(7)
    for _ in range(500):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        assert count_ids(text, ids) == _naive(text, ids), text
    text = "500m_e363000_n471500m_e363000_n471500 aaaaaaa 1500m_e363000_n471500"
    assert count_ids(text, ids) == _naive(text, ids) > 0
    assert count_ids("", ids) == _naive("", ids)
    assert count_ids("no ids here", frozenset()) == 0
