"""Blocking budget: rules are counted before predicting, tightened with a geographic key when
their blocks are too big, and dropped when even the tightest form is over budget."""

from __future__ import annotations

import itertools
import logging

import duckdb
import pandas as pd

from pipelines.resolution.model import (
    BLOCKING_KEY_COLUMNS,
    COUNTERPART_RULES,
    DISTRICT_REGEX,
    SECTOR_REGEX,
    blocked_pairs_sql,
    blocking_candidates,
    count_block_pairs,
    prediction_blocking_rules,
    prediction_rules,
    select_blocking_rules,
    select_counterpart_rules,
    without_implied_rules,
)


def _table() -> duckdb.DuckDBPyConnection:
    # 40 people sharing a surname and a birth year, spread over four postcode areas, plus
    # eight people without a postcode
    rows = [
        {"surname_std": "smith", "dob_year": 1980, "postcode_std": f"{area}1 2AB"}
        for area in ("LS", "YO", "HG", "BD")
        for _ in range(10)
    ] + [{"surname_std": "smith", "dob_year": 1980, "postcode_std": None} for _ in range(8)]
    rows.append({"surname_std": None, "dob_year": 1980, "postcode_std": "LS1 2AB"})
    con = duckdb.connect()
    con.register("people_df", pd.DataFrame(rows))
    con.execute("create table people as select * from people_df")
    return con


def test_count_block_pairs_equals_brute_force() -> None:
    con = _table()
    frame = con.execute("select * from people").df()
    keys = ("surname_std", "substr(postcode_std, 1, 2)")
    brute = sum(
        1
        for a, b in itertools.combinations(frame.itertuples(), 2)
        if a.surname_std is not None
        and a.surname_std == b.surname_std
        and a.postcode_std is not None
        and b.postcode_std is not None
        and a.postcode_std[:2] == b.postcode_std[:2]
    )
    assert count_block_pairs(con, "people", keys) == brute == 4 * 45


def test_over_budget_rule_is_tightened_then_dropped() -> None:
    con = _table()
    loose = ("surname_std", "dob_year")
    tight = ("surname_std", "dob_year", "coalesce(substr(postcode_std, 1, 2), '')")
    assert count_block_pairs(con, "people", loose) == 48 * 47 // 2
    # within budget: the loose form
    rules, _ = select_blocking_rules(con, "people", [(loose, tight)], budget=2000)
    assert rules == [loose]
    # the loose form is over budget, the area-split form is not (4 x 45 + 28 pairs)
    rules, counts = select_blocking_rules(con, "people", [(loose, tight)], budget=300)
    assert rules == [tight] and counts[0]["pairs"] == 4 * 45 + 28
    # even the tightest form is over budget: dropped, and reported as skipped
    rules, counts = select_blocking_rules(con, "people", [(loose, tight)], budget=100)
    assert rules == [] and counts[0]["skipped"]


def test_candidates_use_optional_fields_only_when_present() -> None:
    plain = {keys for chain in blocking_candidates() for keys in chain}
    with_email = {keys for chain in blocking_candidates(with_email=True) for keys in chain}
    assert not any("email" in k for keys in plain for k in keys)
    assert any("email" in k for keys in with_email for k in keys)


def test_total_budget_tightens_the_largest_rule_first() -> None:
    con = _table()
    loose = ("surname_std", "dob_year")
    tight = ("surname_std", "dob_year", "coalesce(substr(postcode_std, 1, 2), '')")
    small = ("surname_std", "substr(postcode_std, 1, 2)")  # 180 pairs, no tighter form
    # each rule fits its own budget; together (1128 + 180) they exceed the total
    rules, counts = select_blocking_rules(
        con, "people", [(loose, tight), (small,)], budget=2000, total_budget=600
    )
    assert rules == [tight, small]
    assert sum(c["pairs"] for c in counts) == 4 * 45 + 28 + 4 * 45
    # without a total budget nothing changes
    rules, _ = select_blocking_rules(con, "people", [(loose, tight), (small,)], budget=2000)
    assert rules == [loose, small]


def _counterparts(placeholder_suspects: int) -> duckdb.DuckDBPyConnection:
    # three suspects of one victim (N1), a victim of two suspects, and suspects recorded
    # against one placeholder victim nominal id (PUBLIC)
    rows = [
        {"counterparts": ["N1"], "forename_canon": "kyle", "surname_std": name}
        for name in ("savage", "savaue", "savage")
    ] + [{"counterparts": ["S1", "S2"], "forename_canon": "fiona", "surname_std": "lister"}]
    rows += [
        {"counterparts": ["PUBLIC"], "forename_canon": f"f{i % 30}", "surname_std": f"s{i % 31}"}
        for i in range(placeholder_suspects)
    ]
    con = duckdb.connect()
    con.register("people_df", pd.DataFrame(rows))
    con.execute("create table people as select * from people_df")
    return con


def test_counterpart_pairs_are_counted_per_array_element() -> None:
    con = _counterparts(placeholder_suspects=10)
    pairs = count_block_pairs(con, "people", ("counterparts",), ("counterparts",))
    assert pairs == 3 + 45  # the three suspects of N1, the ten against PUBLIC


def test_counterpart_rule_drops_the_name_key_only_within_budget() -> None:
    small = _counterparts(placeholder_suspects=10)
    rules, _ = select_counterpart_rules(small, "people", budget=100)
    assert rules == COUNTERPART_RULES[0] == (("counterparts",),)
    # a placeholder id shared by 300 suspects would block 44,850 pairs on its own
    large = _counterparts(placeholder_suspects=300)
    rules, counts = select_counterpart_rules(large, "people", budget=10_000)
    assert rules == COUNTERPART_RULES[-1]
    assert counts[0]["pairs"] > 10_000 >= counts[1]["pairs"]


def _keyed(records: list[dict]) -> duckdb.DuckDBPyConnection:
    # the Splink input's blocking keys, computed by the production SQL over standardised fields
    frame = pd.DataFrame(records)
    con = duckdb.connect()
    con.register("records_df", frame)
    keys = ", ".join(f"{sql} as {name}" for name, sql in BLOCKING_KEY_COLUMNS.items())
    con.execute(
        "create table base as select * replace (cast(dob as date) as dob), "
        f"nullif(regexp_extract(postcode_std, {SECTOR_REGEX}), '') as postcode_sector, "
        f"nullif(regexp_extract(postcode_std, {DISTRICT_REGEX}), '') as postcode_district, "
        "year(cast(dob as date)) as dob_year from records_df"
    )
    con.execute(f"create table people as select *, {keys} from base")
    return con


def _blocked_together(con: duckdb.DuckDBPyConnection, rules: list[tuple[str, ...]]) -> bool:
    # the first two records meet in some rule: every key of it present and equal
    return any(
        con.execute(
            "select count(*) from people l, people r where l.unique_id = 0 and r.unique_id = 1 "
            + "".join(f"and l.{k} is not null and l.{k} = r.{k} " for k in keys)
        ).fetchone()[0]
        for keys in rules
    )


def test_a_record_without_postcode_meets_a_mistyped_surname_with_one() -> None:
    # an intelligence subject (no postcode, no date of birth, surname mistyped) beside the
    # crime record of the same person (a postcode): only a rule on the canonical forename and
    # the surname's initial without geography puts them together; at this size it fits
    base = {"person_id": None, "dob": None, "sex_std": None, "email_std": None}
    records = [
        {**base, "forename_std": "KATHRYN", "surname_std": "PRESTON", "postcode_std": "LS25 8YG"},
        {**base, "forename_std": "KATHRYN", "surname_std": "PRESTN", "postcode_std": None},
    ] + [
        {**base, "forename_std": f"F{i}", "surname_std": f"S{i}", "postcode_std": "YO1 1AA"}
        for i in range(50)
    ]
    for i, record in enumerate(records):
        record.update(unique_id=i, forename_canon=record["forename_std"])
    con = _keyed(records)
    rules, _ = select_blocking_rules(con, "people", blocking_candidates(), budget=10_000)
    assert _blocked_together(con, rules)
    # the rule is a loose form: where its blocks are too big it tightens to the area split,
    # which leaves the record without a postcode apart again
    tight, _ = select_blocking_rules(con, "people", blocking_candidates(), budget=0)
    assert not _blocked_together(con, tight)


def test_chunking_the_pairs_changes_no_score_and_no_person(
    small_rows, small_resolution, caplog
) -> None:
    """The blocked pairs are scored in chunks of the left-hand records (a memory bound, sized
    by `pairs_per_chunk`): scoring them in several chunks rather than one gives every pair the
    same probability and weights, so the same people and the same evidence."""
    from pipelines.resolution import ResolutionConfig, resolve_mentions

    planned = sum(
        r["pairs"] for r in small_resolution.stats["blocking_rules"] if not r.get("skipped")
    )
    with caplog.at_level(logging.INFO, logger="pipelines.resolution"):
        chunked = resolve_mentions(
            small_rows.copy(), ResolutionConfig(pairs_per_chunk=max(1, planned // 4))
        )
    # the default settings score this input in one chunk (planned is under pairs_per_chunk)
    assert planned <= ResolutionConfig().pairs_per_chunk
    chunks = [r.args[1] for r in caplog.records if r.getMessage().startswith("resolution scored")]
    assert chunks and chunks[0] >= 4
    assert chunked.stats["comparisons_scored"] == small_resolution.stats["comparisons_scored"]
    keys = ["mention_id", "person_key", "cluster_size", "cluster_min_probability"]
    pd.testing.assert_frame_equal(
        chunked.clusters[keys].sort_values("mention_id").reset_index(drop=True),
        small_resolution.clusters[keys].sort_values("mention_id").reset_index(drop=True),
    )
    order = ["person_key", "mention_id_l", "mention_id_r", "joined_by"]
    pd.testing.assert_frame_equal(
        chunked.evidence.sort_values(order).reset_index(drop=True),
        small_resolution.evidence.sort_values(order).reset_index(drop=True),
    )


def test_a_rule_implied_by_an_earlier_one_is_left_out() -> None:
    rules = [
        ("postcode_std", "dob"),
        ("dob", "surname_initial"),
        ("dob", "postcode_std"),  # the first rule's keys in another order
        ("dob", "surname_initial", "forename_initial"),  # the second rule's keys and more
        ("dob",),  # looser than an earlier rule: adds pairs
        ("surname_std", "dob"),  # implied by the rule just kept
    ]
    assert without_implied_rules(rules) == [
        ("postcode_std", "dob"),
        ("dob", "surname_initial"),
        ("dob",),
    ]
    assert without_implied_rules([]) == []


def test_leaving_out_implied_rules_blocks_the_same_pairs() -> None:
    """Splink blocks exactly the same pairs without the implied rules, nulls included (a null
    key joins nothing in either rule)."""
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    values = {
        "dob": ["1980-01-01", "1980-01-01", "1991-05-05", None],
        "postcode_std": ["LS1 1AA", "YO1 1AA", None],
        "surname_initial": ["a", "b", None],
        "forename_initial": ["c", "d", None],
    }
    rows = [
        {
            "unique_id": i,
            **{k: v[(i * (j + 2) + i // 3) % len(v)] for j, (k, v) in enumerate(values.items())},
        }
        for i in range(60)
    ]
    rules = [
        ("postcode_std", "dob"),
        ("surname_initial", "forename_initial"),
        ("dob", "postcode_std"),
        ("forename_initial", "surname_initial", "dob"),
        ("dob", "forename_initial"),
    ]
    kept = without_implied_rules(rules)
    assert len(kept) == 3

    def blocked(chosen: list[tuple[str, ...]]) -> set[tuple[int, int]]:
        con = duckdb.connect()
        db_api = DuckDBAPI(con)
        settings = SettingsCreator(
            link_type="dedupe_only",
            blocking_rules_to_generate_predictions=[block_on(*keys) for keys in chosen],
        )
        linker = Linker(db_api.register(pd.DataFrame(rows)), settings)
        pairs = linker.inference.compute_blocked_pairs_for_predict()
        return set(
            con.execute(f"select join_key_l, join_key_r from {pairs.physical_name}").fetchall()
        )

    assert blocked(kept) == blocked(rules)
    # the comparison can fail: the last rule kept adds pairs of its own
    assert blocked(kept[:-1]) < blocked(rules)


def test_blocked_pairs_sql_writes_splinks_blocked_pairs_chunk_by_chunk() -> None:
    """`blocked_pairs_sql` (no `NOT (earlier rules)` filter, the duplicates removed by the
    group-by) gives exactly the table Splink's blocking gives, chunk by chunk: the same pairs
    and match keys, with nulls, empty and repeated list elements, and pairs found by several
    rules (equi-join and context rules alike)."""
    from splink import DuckDBAPI, Linker, SettingsCreator

    values = {
        "dob": ["1980-01-01", "1980-01-01", "1991-05-05", None],
        "surname_std": ["smith", "jones", None],
        "forename_canon": ["ann", "bob", "cat", None],
        "postcode_std": ["LS1 1AA", "YO1 1AA", None],
    }
    lists = [None, [], ["c1"], ["c1", "c2"], ["c2", "c2"], ["c3"]]
    rows = [
        {
            # spread 64-bit ids, as the nodes' hashed ids are
            "unique_id": (i * 2654435761) % 2**40,
            **{k: v[(i * (j + 2) + i // 3) % len(v)] for j, (k, v) in enumerate(values.items())},
            "crime_roles": lists[i % len(lists)],
            "counterparts": lists[(i // 2) % len(lists)],
        }
        for i in range(90)
    ]
    rules = prediction_rules(
        [("dob",), ("surname_std", "postcode_std"), ("dob", "forename_canon")],
        with_context=True,
        counterpart_rules=COUNTERPART_RULES[-1],
    )
    con = duckdb.connect()
    con.register("rows_df", pd.DataFrame(rows))
    con.execute("create table people as select * from rows_df")
    db_api = DuckDBAPI(con)
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=prediction_blocking_rules(
            [keys for keys, explode in rules if explode is None], True, COUNTERPART_RULES[-1]
        ),
    )
    linker = Linker(db_api.register("people"), settings)
    for n in (1, 3):
        for i in range(1, n + 1):
            splink = linker.inference.compute_blocked_pairs_for_predict_chunk((i, n), (1, 1))
            theirs = con.execute(
                f"select match_key, join_key_l, join_key_r from {splink.physical_name}"
            ).fetchall()
            ours = con.execute(blocked_pairs_sql("people", rules, (i, n))).fetchall()
            assert ours
            assert len(ours) == len({(left, right) for _, left, right in ours})
            assert sorted(ours) == sorted(theirs)
    # the check can fail: rules overlap (a pair found by several rules is one pair, under the
    # first rule's key) and every rule, the context rules too, finds pairs
    count = "select count(*) from ({})"
    per_rule = [
        con.execute(count.format(blocked_pairs_sql("people", [rule], (1, 1)))).fetchall()[0][0]
        for rule in rules
    ]
    all_pairs = con.execute(count.format(blocked_pairs_sql("people", rules, (1, 1))))
    assert min(per_rule) > 0
    assert sum(per_rule) > all_pairs.fetchall()[0][0]
