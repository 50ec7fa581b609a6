"""Person keys are unique across people even where two people's hashes share their digits: a
shared key would merge two people in every output."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.resolution.resolve import PERSON_KEY_HEX_DIGITS, assign_key_digits


def _people(con: duckdb.DuckDBPyConnection, n_people: int) -> None:
    # person i holds two nodes, with mentions "10 i" and "10 i + 1" (mention ids are strings)
    con.execute(
        f"""create table _res_clusters as
        select 'n' || i || '_' || j as unique_id, 'c' || i as cluster_id
        from range({n_people}) as a(i), range(2) as b(j)"""
    )
    con.execute(
        """create table nodes as
        select unique_id,
            (10 * split_part(substr(unique_id, 2), '_', 1)::int
             + split_part(unique_id, '_', 2)::int)::varchar as first_mention_id
        from _res_clusters"""
    )


def _keys(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("select cluster_id, key_hex from _res_person_keys").fetchall())


def test_people_whose_hashes_share_their_digits_get_different_keys() -> None:
    con = duckdb.connect()
    _people(con, 150)
    digits = 3  # 4,096 values for 150 people: five clashes
    assign_key_digits(con, digits)
    keys = _keys(con)
    hashed = dict(
        con.execute(
            f"""select c.cluster_id, substr(md5(min(n.first_mention_id)), 1, {digits})
            from _res_clusters as c join nodes as n using (unique_id) group by c.cluster_id"""
        ).fetchall()
    )
    clashing = {h for h in hashed.values() if list(hashed.values()).count(h) > 1}
    assert clashing, "the case must contain a clash"
    assert len(set(keys.values())) == len(keys) == 150
    for cluster, digest in hashed.items():
        first = str(10 * int(cluster[1:]))  # the person's smallest mention id
        keepers = {
            h: min(str(10 * int(c[1:])) for c, d in hashed.items() if d == h) for h in clashing
        }
        if digest not in clashing or keepers[digest] == first:
            assert keys[cluster] == digest  # a key that does not clash, or its keeper, stays
        else:
            assert keys[cluster] != digest and len(keys[cluster]) == digits


def test_the_production_keys_are_the_hash_prefix_where_nothing_clashes() -> None:
    con = duckdb.connect()
    _people(con, 200)
    assign_key_digits(con, PERSON_KEY_HEX_DIGITS)
    assert _keys(con) == dict(
        con.execute(
            f"""select c.cluster_id,
                substr(md5(min(n.first_mention_id)), 1, {PERSON_KEY_HEX_DIGITS})
            from _res_clusters as c join nodes as n using (unique_id) group by c.cluster_id"""
        ).fetchall()
    )


def test_a_clash_the_rule_cannot_separate_stops_the_run() -> None:
    con = duckdb.connect()
    _people(con, 60)
    with pytest.raises(RuntimeError, match="share a person key"):
        assign_key_digits(con, 1)  # 16 values for 60 people: the next digit clashes too
