"""The tasking list's weakest link is the lowest match probability among the links that join
the records the rank rests on (the subject's stalking crimes in the look-back and their counted
victims), not the whole identity's: a subject whose crimes sit on one nominal while a weak join
ties on an intelligence report ranks on no scored link. Checked on a real run's warehouse
against networkx: each person's holding links form a tree; the links that join some of its
records are those of the smallest subtree that holds them all."""

from __future__ import annotations

from pathlib import Path

import duckdb
import networkx as nx
import pytest

from pipelines.settings import Settings


def rank_records(con: duckdb.DuckDBPyConnection, months: int) -> dict:
    """(quarter, subject) -> {person_key: the person's records the rank rests on, each with
    its nominal id}."""
    rows = con.execute(
        f"""
        with subjects as (
            select p.quarter, p.person_key, q.q_end
            from marts.perpetrators p join intermediate.int_quarters q using (quarter)
            where p.is_high_harm
        ),
        crimes as (
            select distinct s.quarter, s.person_key, c.crime_id
            from subjects s join intermediate.int_perpetrations c
                on c.person_key = s.person_key
                and c.reported_date > s.q_end - interval {months} month
                and c.reported_date <= s.q_end
        )
        select c.quarter, c.person_key, r.person_key, r.source || ':' || r.record_key, r.person_id
        from crimes c join marts.person_records r
            on r.crime_id = c.crime_id and r.source = 'crime_persons'
        left join intermediate.int_perpetrator_victims v
            on v.quarter = c.quarter and v.person_key = c.person_key
            and v.victim_person_key = r.person_key and v.is_established
        where (r.role_side = 'perpetrator' and r.person_key = c.person_key)
            or (r.role_side = 'victim' and v.victim_person_key is not null)
        """
    ).fetchall()
    out: dict = {}
    for quarter, subject, person, mention, nominal in rows:
        out.setdefault((quarter, subject), {}).setdefault(person, set()).add((mention, nominal))
    return out


def weakest_among(
    tree: nx.Graph, records: set[tuple[str, str]], nominals: dict[str, str]
) -> tuple[float, set[str]]:
    """The lowest probability on the smallest subtree holding `records`, and its rule joins.
    The evidence lists one record of a nominal id's records: another stands as a listed one of
    its nominal (joined at 1.0)."""
    records = {
        mention if mention in tree else min(node for node in tree if nominals.get(node) == nominal)
        for mention, nominal in records
    }
    if len(records) < 2:
        return 1.0, set()
    first, *others = sorted(records)
    edges = {
        frozenset(pair)
        for other in others
        for pair in nx.utils.pairwise(nx.shortest_path(tree, first, other))
    }
    links = [tree.edges[tuple(edge)] for edge in edges]
    rules = {link["joined_by"] for link in links} & {"second_id", "unknown_suspect"}
    return min(link["p"] for link in links), rules


@pytest.fixture(scope="module")
def con(fixture_db: Path):
    with duckdb.connect(str(fixture_db), read_only=True) as connection:
        yield connection


def test_the_weakest_link_covers_only_the_records_the_rank_rests_on(
    con: duckdb.DuckDBPyConnection,
) -> None:
    settings = Settings()
    figure = settings.resolution.rule_joins.probabilities()
    trees: dict[str, nx.Graph] = {}
    for person, left, right, joined_by, p in con.execute(
        "select person_key, mention_id_l, mention_id_r, joined_by, match_probability "
        "from marts.person_match_evidence where holds_person"
    ).fetchall():
        p = figure.get(joined_by, p)
        trees.setdefault(person, nx.Graph()).add_edge(left, right, p=p, joined_by=joined_by)
    nominals = dict(
        con.execute(
            "select source || ':' || record_key, person_id from marts.person_records"
        ).fetchall()
    )
    months = max(settings.perpetrators.serial_lookback_years * 12, settings.rfgv.lookback_months)
    records = rank_records(con, months)
    listed = con.execute(
        "select quarter, person_key, weakest_link_probability, weakest_link_rule_joins "
        "from reporting.rpt_tasking_list"
    ).fetchall()
    assert listed
    exercised = 0
    for quarter, subject, printed, rules in listed:
        expected, expected_rules = 1.0, set()
        for person, mentions in records.get((quarter, subject), {}).items():
            if person in trees:
                weakest, found = weakest_among(trees[person], mentions, nominals)
                expected, expected_rules = min(expected, weakest), expected_rules | found
        assert printed == pytest.approx(round(expected, 4)), (quarter, subject)
        assert set((rules or "").split(",")) - {""} == expected_rules, (quarter, subject)
        exercised += any(len(m) > 1 for m in records.get((quarter, subject), {}).values())
    # subjects whose rank rests on two or more records of one person: the subtree is worked out
    assert exercised > 0
