"""From scored pairs to people, under the domain constraints.

1. Pairs at or above the threshold become edges, except pairs that put the victim side and the
   perpetrator side of one incident (crime, intelligence report or order) together.
2. Mentions sharing a nominal id are joined by forced edges (probability 1).
3. Connected components cluster the edges (`component_representatives`: Splink's
   representatives, computed with SciPy).
4. Components are checked for the constraints again, because connected components chains:
   A~B and B~C can put the victim and the suspect of one crime, or two far-apart dates of birth,
   in one component without any direct edge between them. (Far-apart dates of birth on the two
   records of a direct edge are evidence the model has weighed, not a veto: the edge stands.)
   Only the offending components are re-clustered, greedily: forced edges first, then the
   strongest scored edge first, and an edge is taken only if joining its two groups breaks no
   constraint (nominal-id edges give way only to the incident rule, as rule 2 yields to rule 1).
5. Rule joins without a score, on the people so formed: a bare second nominal id joins the one
   known person of its counterpart (`attach_second_ids`), and a victim's unknown suspects are
   one unknown person (`join_unknown_suspects`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipelines.resolution.model import dob_year_typo, dob_year_typo_sql, one_slip


@dataclass(frozen=True)
class ClusterStats:
    edges_scored_above_threshold: int
    edges_dropped_same_incident: int
    nominal_edges: int
    components_reclustered: int
    edges_rejected_by_constraints: int


def _far_apart(a: dt.date, b: dt.date, years: float) -> bool:
    """Dates of birth that cannot be one person's: more than `years` apart, and not a typo
    (one character), a day/month swap or a mistyped year beside a near day and month
    (`model.dob_year_typo`) of each other."""
    if abs((a - b).days) <= years * 365.25:
        return False
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return False
    return not (one_slip(a.isoformat(), b.isoformat()) or dob_year_typo(a, b))


@dataclass
class _Group:
    members: list[str]
    sides: dict[str, set[str]] = field(default_factory=dict)  # incident key -> sides present
    dobs: dict[str, dt.date] = field(default_factory=dict)  # member node -> date of birth


def _incident_conflict(a: _Group, b: _Group) -> bool:
    small, large = (a, b) if len(a.sides) <= len(b.sides) else (b, a)
    return any(len(sides | large.sides.get(key, set())) > 1 for key, sides in small.sides.items())


def _dob_conflict(a: _Group, b: _Group, years: float, direct: set[tuple[Any, Any]]) -> bool:
    """Far-apart dates of birth that only a chain would join: a direct edge between the two
    records has already weighed their dates against the rest of their evidence."""
    return any(
        _far_apart(x, y, years) and (min(nx, ny), max(nx, ny)) not in direct
        for nx, x in a.dobs.items()
        for ny, y in b.dobs.items()
    )


def constrained_greedy(
    nodes: pd.DataFrame, incidents: pd.DataFrame, edges: pd.DataFrame, dob_conflict_years: float
) -> tuple[dict[Any, Any], int]:
    """Greedy agglomeration of one or more components under cannot-link rules.

    nodes: unique_id, dob. incidents: unique_id, incident_key, role_side. edges: unique_id_l,
    unique_id_r, match_probability, is_nominal. Returns (unique_id -> group id, the smallest
    member id) and the number of edges rejected.
    """
    groups: dict[str, _Group] = {}
    owner: dict[str, str] = {}
    for row in nodes.itertuples(index=False):
        group = _Group([row.unique_id])
        if isinstance(row.dob, dt.date):
            group.dobs[row.unique_id] = row.dob
        groups[row.unique_id] = group
        owner[row.unique_id] = row.unique_id
    for row in incidents.itertuples(index=False):
        groups[row.unique_id].sides.setdefault(row.incident_key, set()).add(row.role_side)
    ordered = edges.sort_values(
        ["is_nominal", "match_probability", "unique_id_l", "unique_id_r"],
        ascending=[False, False, True, True],
    )
    direct = {
        (min(left, right), max(left, right))
        for left, right in zip(edges["unique_id_l"], edges["unique_id_r"], strict=True)
    }
    rejected = 0
    for edge in ordered.itertuples(index=False):
        ga, gb = owner[edge.unique_id_l], owner[edge.unique_id_r]
        if ga == gb:
            continue
        a, b = groups[ga], groups[gb]
        if _incident_conflict(a, b) or (
            not edge.is_nominal and _dob_conflict(a, b, dob_conflict_years, direct)
        ):
            rejected += 1
            continue
        if len(a.members) < len(b.members):
            ga, gb, a, b = gb, ga, b, a
        a.members.extend(b.members)
        for key, sides in b.sides.items():
            a.sides.setdefault(key, set()).update(sides)
        a.dobs.update(b.dobs)
        for member in b.members:
            owner[member] = ga
        del groups[gb]
    return {uid: min(groups[rep].members) for uid, rep in owner.items()}, rejected


def _positions(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """np.searchsorted(ids, values), looked up in sorted order: the same positions, found
    ~4x faster at 10^6-10^7 values (each lookup lands near the last one in memory)."""
    order = np.argsort(values)
    positions = np.empty(len(values), dtype=np.int64)
    positions[order] = np.searchsorted(ids, values[order])
    return positions


def component_representatives(
    nodes: np.ndarray, left: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Connected components of the graph of `nodes` (integer ids) joined by the edges
    `left`[i] - `right`[i]. Returns (ids, cluster_ids): every distinct node once, in id order,
    and the smallest id of its component (a node without edges is its own component): the
    representative Splink's connected components gives each node (the minimum over its
    neighbours' representatives, iterated until nothing changes).

    Why not Splink's: its algorithm is SQL that re-joins every node and edge once per iteration
    (a dozen passes over ~10^7 nodes nationally); SciPy labels the components in one pass over
    a sparse matrix, and the representative is the same number."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    # sorted with np.sort: np.unique (hashing in NumPy 2) took ~100x as long on 10^6 ids
    ids = np.sort(nodes)
    if len(ids) > 1:
        ids = ids[np.concatenate(([True], ids[1:] != ids[:-1]))]
    if len(ids) == 0:
        return ids, ids.copy()
    left_no, right_no = _positions(ids, left), _positions(ids, right)
    for side, numbers in ((left, left_no), (right, right_no)):
        # an edge to a node that is not in the nodes would be silently dropped (or land on
        # another node's number): stop instead
        if len(side) and (numbers.max() >= len(ids) or not np.array_equal(ids[numbers], side)):
            raise ValueError("connected components: an edge names a node that is not in nodes")
    n = len(ids)
    graph = coo_matrix((np.ones(len(left), dtype=np.int32), (left_no, right_no)), shape=(n, n))
    n_components, labels = connected_components(graph, directed=False)
    # the smallest node number of each component: ids are in ascending order, so its id
    smallest = np.full(n_components, n, dtype=np.int64)
    np.minimum.at(smallest, labels, np.arange(n))
    return ids, ids[smallest[labels]]


def cluster_with_constraints(
    con: duckdb.DuckDBPyConnection,
    nodes_table: str,
    incidents_table: str,
    predictions_table: str,
    threshold: float,
    dob_conflict_years: float,
) -> ClusterStats:
    """nodes_table: unique_id, person_id, dob (every node). incidents_table: unique_id,
    incident_key, role_side (the incidents each node takes part in, and on which side).
    predictions_table: Splink predictions (unique_id_l, unique_id_r, match_probability).

    Everything stays in DuckDB (millions of nodes): writes the tables `_res_clusters`
    (unique_id, cluster_id) and `_res_edges_ok` (edges kept: unique_id_l, unique_id_r,
    match_probability, is_nominal) on `con`, and returns counts. Only the components that
    break a constraint (a few dozen per hundred thousand records) come into Python.
    """
    scored = con.execute(
        f"select count(*) from {predictions_table} where match_probability >= ?", [threshold]
    ).fetchall()[0][0]
    # Candidate edges: scored pairs above the threshold plus nominal-id stars.
    con.execute(
        f"""
        create or replace temp table _res_edges as
        with scored as (
            select unique_id_l, unique_id_r, match_probability, false as is_nominal
            from {predictions_table}
            where match_probability >= {float(threshold)}
        ),
        nominal as (
            select
                min(unique_id) over (partition by person_id) as unique_id_l,
                unique_id as unique_id_r,
                1.0 as match_probability,
                true as is_nominal
            from {nodes_table}
            where person_id is not null
        ),
        unioned as (
            select * from scored
            union all
            select * from nominal where unique_id_l <> unique_id_r
        )
        select
            least(unique_id_l, unique_id_r) as unique_id_l,
            greatest(unique_id_l, unique_id_r) as unique_id_r,
            max(match_probability) as match_probability,
            bool_or(is_nominal) as is_nominal
        from unioned
        group by 1, 2
        """
    )
    nominal = con.execute("select count(*) from _res_edges where is_nominal").fetchall()[0][0]
    # Rule 1 on direct edges: the two sides of one incident are never joined.
    con.execute(
        f"""
        create or replace temp table _res_edges_ok as
        select e.*
        from _res_edges as e
        anti join (
            select distinct l.unique_id as unique_id_l, r.unique_id as unique_id_r
            from {incidents_table} as l
            join {incidents_table} as r
                on l.incident_key = r.incident_key and l.role_side <> r.role_side
        ) as x using (unique_id_l, unique_id_r)
        """
    )
    dropped = con.execute(
        "select (select count(*) from _res_edges) - (select count(*) from _res_edges_ok)"
    ).fetchall()[0][0]
    con.execute("drop table _res_edges")

    nodes = con.execute(f"select unique_id from {nodes_table}").fetchnumpy()["unique_id"]
    edges = con.execute("select unique_id_l, unique_id_r from _res_edges_ok").fetchnumpy()
    ids, cluster_ids = component_representatives(
        np.asarray(nodes), np.asarray(edges["unique_id_l"]), np.asarray(edges["unique_id_r"])
    )
    con.register("_res_cc_view", pd.DataFrame({"unique_id": ids, "cluster_id": cluster_ids}))
    con.execute(
        "create or replace temp table _res_cc as select unique_id, cluster_id from _res_cc_view"
    )
    con.unregister("_res_cc_view")

    # Components that chain across a constraint (no direct edge breaks it, a path does).
    con.execute(
        f"""
        create or replace temp table _res_bad as
        with incident as (
            select c.cluster_id
            from {incidents_table} as i join _res_cc as c using (unique_id)
            group by c.cluster_id, i.incident_key
            having count(distinct i.role_side) > 1
        ),
        sizes as (select cluster_id from _res_cc group by cluster_id having count(*) > 1),
        dobs as (
            select c.cluster_id, n.unique_id, n.dob, n.person_id
            from {nodes_table} as n
            join _res_cc as c using (unique_id)
            semi join sizes as s on c.cluster_id = s.cluster_id
            where n.dob is not null
        ),
        dob_far as (
            select a.cluster_id from dobs as a join dobs as b
                on a.cluster_id = b.cluster_id and a.dob < b.dob
            where date_diff('day', a.dob, b.dob) > {float(dob_conflict_years)} * 365.25
              and (a.person_id is null or b.person_id is null or a.person_id <> b.person_id)
              -- not a typo or a day/month swap of each other (as _far_apart): only real
              -- conflicts go to the re-clustering in Python
              and damerau_levenshtein(strftime(a.dob, '%Y-%m-%d'), strftime(b.dob, '%Y-%m-%d')) > 1
              and not (year(a.dob) = year(b.dob) and month(a.dob) = day(b.dob)
                  and day(a.dob) = month(b.dob))
              and not ({dob_year_typo_sql("a.dob", "b.dob")})
              -- a direct edge has weighed the two dates against the rest of the evidence
              and not exists (
                  select 1 from _res_edges_ok as e
                  where e.unique_id_l = least(a.unique_id, b.unique_id)
                    and e.unique_id_r = greatest(a.unique_id, b.unique_id)
              )
        )
        select distinct cluster_id from incident
        union
        select distinct cluster_id from dob_far
        """
    )
    n_bad = con.execute("select count(*) from _res_bad").fetchall()[0][0]
    rejected = 0
    mapping: dict[str, str] = {}
    if n_bad:
        in_bad = (
            "unique_id in (select unique_id from _res_cc where cluster_id in "
            "(select cluster_id from _res_bad))"
        )
        sub_nodes = con.execute(f"select unique_id, dob from {nodes_table} where {in_bad}").df()
        sub_incidents = con.execute(
            f"select unique_id, incident_key, role_side from {incidents_table} where {in_bad}"
        ).df()
        edges_in_bad = in_bad.replace("unique_id in", "unique_id_l in", 1)
        sub_edges = con.execute(f"select * from _res_edges_ok where {edges_in_bad}").df()
        sub_nodes["dob"] = [
            None if pd.isna(d) else (d.date() if isinstance(d, dt.datetime) else d)
            for d in sub_nodes["dob"]
        ]
        mapping, rejected = constrained_greedy(
            sub_nodes, sub_incidents, sub_edges, dob_conflict_years
        )
    con.register(
        "_res_fix",
        pd.DataFrame(
            {
                "unique_id": pd.array(list(mapping), dtype="int64"),
                "fixed": pd.array([str(v) for v in mapping.values()], dtype="string"),
            }
        ),
    )
    con.execute(
        """create or replace temp table _res_clusters as
        select c.unique_id, coalesce(f.fixed, c.cluster_id::varchar) as cluster_id
        from _res_cc as c left join _res_fix as f using (unique_id)"""
    )
    con.unregister("_res_fix")
    con.execute("drop table _res_cc")
    return ClusterStats(
        edges_scored_above_threshold=int(scored),
        edges_dropped_same_incident=int(dropped),
        nominal_edges=int(nominal),
        components_reclustered=int(n_bad),
        edges_rejected_by_constraints=rejected,
    )


# How a rule join (no score) is listed in the evidence (marts.person_match_evidence.joined_by)
SECOND_ID = "second_id"
UNKNOWN_SUSPECT = "unknown_suspect"


def attach_second_ids(
    con: duckdb.DuckDBPyConnection,
    nodes_table: str,
    mentions_table: str,
    incidents_table: str,
    max_gap_days: int,
) -> int:
    """Join a nominal id that holds no name and no date of birth anywhere (an intelligence
    victim or a protected person recorded under a second id) to the one person its
    counterpart points to; returns the number of ids joined. Updates `_res_clusters` and
    writes `_res_second_id_edges` (unique_id_l, unique_id_r): one edge per id joined, from the
    id's first node to the first record with details that made the person its candidate.

    Such an id has nothing for the model to compare, only a counterpart: the person (as
    resolved, so a subject recorded without a nominal id counts) on the other side of its
    report or order. It is joined where the records with details on the same side of that
    person's incidents are all one person (a suspect with two known victims could mean
    either, and telling victims apart is what the serial judgment rests on), and that person
    was active within `max_gap_days` of the id (a later victim of the same suspect is
    recorded years apart). Ids recorded as a party to a crime itself are left alone: a
    crime's victim recorded without details is that crime's own (unknown) victim, not a
    second id of the suspect's known one (on the force preset's held-in part such ids with
    one candidate were that candidate 9 times in 50). Chosen on the force preset's held-in
    part: 25 ids joined, all to their own person (without the time limit 26, one wrong; within
    90 days 23)."""
    details = "forename_std is not null or surname_std is not null or dob is not null"
    con.execute(
        f"""
        create or replace temp table _res_second_ids as
        with bare as (
            select n.unique_id, n.person_id, n.event_first, n.event_last
            from {nodes_table} as n
            where n.person_id is not null
                and n.person_id not in (
                    select person_id from {nodes_table}
                    where person_id is not null and ({details})
                )
                and n.person_id not in (
                    select person_id from {mentions_table}
                    where person_id is not null and event_key = crime_id
                )
        ),
        sizes as (select cluster_id, count(*) as n from _res_clusters group by cluster_id),
        -- the id still stands alone (no scored or nominal edge joined it to anyone else)
        alone as (
            select b.person_id, any_value(c.cluster_id) as cluster_id, count(*) as n,
                min(b.unique_id) as bare_node,
                min(b.event_first) as event_first, max(b.event_last) as event_last
            from bare as b join _res_clusters as c using (unique_id)
            group by b.person_id
            having count(distinct c.cluster_id) = 1
        ),
        sides as (
            select distinct b.person_id, i.incident_key, i.role_side
            from bare as b join {incidents_table} as i using (unique_id)
        ),
        -- the people (not only the nominal ids) on the other side of the id's incidents: an
        -- intelligence subject recorded without an id is still its suspect
        counterparts as (
            select distinct s.person_id, s.role_side, c.cluster_id as counterpart
            from sides as s
            join {incidents_table} as o
                on s.incident_key = o.incident_key and s.role_side <> o.role_side
            join _res_clusters as c on c.unique_id = o.unique_id
        ),
        candidates as (
            select distinct cp.person_id, c.cluster_id, n.unique_id, n.event_first, n.event_last
            from counterparts as cp
            join _res_clusters as oc on oc.cluster_id = cp.counterpart
            join {incidents_table} as o on o.unique_id = oc.unique_id
            join {incidents_table} as i
                on i.incident_key = o.incident_key and i.role_side <> o.role_side
                and i.role_side = cp.role_side
            join {nodes_table} as n on n.unique_id = i.unique_id and ({details})
            join _res_clusters as c on c.unique_id = n.unique_id
        ),
        single as (
            select person_id, any_value(cluster_id) as target,
                min(unique_id) as target_node,
                min(event_first) as event_first, max(event_last) as event_last
            from candidates group by person_id having count(distinct cluster_id) = 1
        ),
        -- never into the person on the other side of the id's own incidents
        other_side as (
            select distinct s.person_id, c.cluster_id
            from sides as s
            join {incidents_table} as o
                on s.incident_key = o.incident_key and s.role_side <> o.role_side
            join _res_clusters as c on c.unique_id = o.unique_id
        )
        select a.cluster_id as source_cluster, s.target,
            least(a.bare_node, s.target_node) as unique_id_l,
            greatest(a.bare_node, s.target_node) as unique_id_r
        from alone as a
        join sizes using (cluster_id)
        join single as s using (person_id)
        where sizes.n = a.n and greatest(
                date_diff('day', s.event_last, a.event_first),
                date_diff('day', a.event_last, s.event_first),
                0
            ) <= {int(max_gap_days)}
            and not exists (
                select 1 from other_side as x
                where x.person_id = a.person_id and x.cluster_id = s.target
            )
        """
    )
    attached = con.execute("select count(*) from _res_second_ids").fetchall()[0][0]
    con.execute(
        """update _res_clusters as c set cluster_id = s.target
        from _res_second_ids as s where c.cluster_id = s.source_cluster"""
    )
    # each join is an edge too, so the evidence lists it; apart from the scored and
    # nominal-id edges (`_res_edges_ok`), as it has no probability to count in the weakest link
    con.execute(
        f"""create or replace temp table _res_second_id_edges as
        select unique_id_l, unique_id_r, '{SECOND_ID}' as joined_by from _res_second_ids"""
    )
    con.execute("drop table _res_second_ids")
    return int(attached)


def join_unknown_suspects(
    con: duckdb.DuckDBPyConnection,
    nodes_table: str,
    incidents_table: str,
    max_gap_days: int,
) -> int:
    """Join the unknown suspects of one victim: people (as resolved) holding no name and no
    date of birth on any record, recorded only on the perpetrator side, whose incidents have
    a victim (as resolved) in common and who were active within `max_gap_days` of each
    other. Returns the number of joins. Updates `_res_clusters` and appends each join to
    `_res_second_id_edges` (written by `attach_second_ids`, which runs first; joined_by
    `UNKNOWN_SUSPECT`), from one node of each side.

    Such a person is a nominal record made for an unidentified offender (an online account,
    a voice on the phone), one per crime: the model has nothing to compare, and a victim's
    second report of the same unknown harasser is a new nominal. Stalking is a course of
    conduct against one victim, so a victim's unknown suspects within a year are one unknown
    person (force preset, held-in part: 52 such pairs, every one a single true person). A
    victim's *named* suspects are left apart from them (none of 37 such held-in pairs was
    one person), and so are two unknown parties of one crime (the crime records two people
    there), and the victims of one suspect (a suspect's victims are several people: what the
    serial judgment rests on)."""
    details = "forename_std is not null or surname_std is not null or dob is not null"
    con.execute(
        f"""
        create or replace temp table _res_unknown_pairs as
        with sides as (
            select c.cluster_id, i.incident_key, i.role_side, n.unique_id,
                n.event_first, n.event_last
            from {incidents_table} as i
            join _res_clusters as c using (unique_id)
            join {nodes_table} as n using (unique_id)
        ),
        unknown as (
            select cluster_id, min(unique_id) as node,
                min(event_first) as event_first, max(event_last) as event_last
            from sides
            where cluster_id not in (
                select c.cluster_id from _res_clusters as c
                join {nodes_table} as n using (unique_id) where {details}
            )
            group by cluster_id
            having bool_and(role_side = 'perpetrator')
        ),
        victims as (
            select distinct u.cluster_id, v.cluster_id as victim
            from unknown as u
            join sides as s using (cluster_id)
            join sides as v on v.incident_key = s.incident_key and v.role_side = 'victim'
        )
        select distinct a.cluster_id as a, b.cluster_id as b, a.node as node_a, b.node as node_b,
            greatest(
                date_diff('day', a.event_last, b.event_first),
                date_diff('day', b.event_last, a.event_first),
                0
            ) as gap
        from victims as va
        join victims as vb on va.victim = vb.victim and va.cluster_id < vb.cluster_id
        join unknown as a on a.cluster_id = va.cluster_id
        join unknown as b on b.cluster_id = vb.cluster_id
        where gap <= {int(max_gap_days)}
        """
    )
    pairs = con.execute(
        "select a, b, node_a, node_b from _res_unknown_pairs order by gap, a, b"
    ).fetchall()
    # the incidents of each unknown suspect in a pair: two parties of one crime stay apart,
    # directly or through a third suspect of the same victim
    incidents: dict[Any, set[str]] = {}
    for cluster, incident in con.execute(
        f"""select distinct c.cluster_id, i.incident_key
        from {incidents_table} as i join _res_clusters as c using (unique_id)
        where c.cluster_id in (select a from _res_unknown_pairs union select b from
            _res_unknown_pairs)"""
    ).fetchall():
        incidents.setdefault(cluster, set()).add(incident)
    con.execute("drop table _res_unknown_pairs")
    # greedy union, closest in time first; each union that merges two groups is one edge
    parent: dict[Any, Any] = {}

    def root(x: Any) -> Any:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    edges: list[tuple[int, int]] = []
    for a, b, node_a, node_b in pairs:
        ra, rb = root(a), root(b)
        if ra == rb or incidents[ra] & incidents[rb]:
            continue
        keep, gone = min(ra, rb), max(ra, rb)
        parent[gone] = keep
        incidents[keep] |= incidents.pop(gone)
        edges.append((min(node_a, node_b), max(node_a, node_b)))
    if edges:
        con.register(
            "_res_unknown_map",
            pd.DataFrame(
                {
                    "cluster_id": pd.array([str(c) for c in parent], dtype="string"),
                    "target": pd.array([str(root(c)) for c in parent], dtype="string"),
                }
            ),
        )
        con.execute(
            """update _res_clusters as c set cluster_id = m.target
            from _res_unknown_map as m where c.cluster_id = m.cluster_id"""
        )
        con.unregister("_res_unknown_map")
        con.register(
            "_res_unknown_edges",
            pd.DataFrame(
                {
                    "unique_id_l": pd.array([e[0] for e in edges], dtype="int64"),
                    "unique_id_r": pd.array([e[1] for e in edges], dtype="int64"),
                }
            ),
        )
        con.execute(
            f"""insert into _res_second_id_edges
            select unique_id_l, unique_id_r, '{UNKNOWN_SUSPECT}' from _res_unknown_edges"""
        )
        con.unregister("_res_unknown_edges")
    return len(edges)


def maximum_spanning_forest(
    left: np.ndarray, right: np.ndarray, strength: np.ndarray
) -> np.ndarray:
    """Which edges form the maximum spanning forest: per person, the fewest and strongest links
    that hold all its records together. `left` and `right` number the nodes 0..n-1 (one edge per
    pair of nodes); `strength` ranks the edges, 0 the strongest, every rank distinct, so the
    forest is unique. Returns a mask over the edges.

    Why: a record joined by a weak link AND by a strong one rests on the strong one; the weakest
    link a person rests on is the weakest edge of this forest (the bottleneck), not the weakest
    edge between any two of its records."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree

    kept = np.zeros(len(strength), dtype=bool)
    if len(strength) == 0:
        return kept
    n = int(max(left.max(), right.max())) + 1
    # a minimum tree over the ranks (strongest first, +1: csgraph reads a 0 as no edge)
    ranks = strength.astype(np.float64) + 1.0
    tree = minimum_spanning_tree(coo_matrix((ranks, (left, right)), shape=(n, n)).tocsr())
    edge_of_rank = np.empty(len(strength), dtype=np.int64)
    edge_of_rank[strength] = np.arange(len(strength))
    kept[edge_of_rank[tree.tocoo().data.astype(np.int64) - 1]] = True
    return kept


def spanning_links(con: duckdb.DuckDBPyConnection, edges_table: str, clusters_table: str) -> None:
    """Writes `_res_spanning_edges` (unique_id_l, unique_id_r, match_probability): the edges
    of `edges_table` (scored and nominal-id) that belong to the maximum spanning forest of the
    edges inside each person of `clusters_table` (unique_id, person_key)."""
    edges = con.execute(
        f"""
        select least(e.unique_id_l, e.unique_id_r) as a,
            greatest(e.unique_id_l, e.unique_id_r) as b,
            max(e.match_probability) as p
        from {edges_table} as e
        join {clusters_table} as cl on e.unique_id_l = cl.unique_id
        join {clusters_table} as cr
            on e.unique_id_r = cr.unique_id and cl.person_key = cr.person_key
        where e.unique_id_l <> e.unique_id_r
        group by 1, 2
        """
    ).fetchnumpy()
    a, b, p = (np.asarray(edges[c]) for c in ("a", "b", "p"))
    # nodes numbered in id order, edges ranked strongest first with ties in id order: the
    # same input gives the same forest, whatever order DuckDB returned the rows in
    _, numbers = np.unique(np.concatenate([a, b]), return_inverse=True)
    left, right = numbers[: len(a)], numbers[len(a) :]
    strength = np.empty(len(p), dtype=np.int64)
    strength[np.lexsort((right, left, -p))] = np.arange(len(p))
    mask = maximum_spanning_forest(left, right, strength)
    kept = pd.DataFrame(
        {"unique_id_l": a[mask], "unique_id_r": b[mask], "match_probability": p[mask]}
    )
    con.register("_res_spanning_view", kept)
    con.execute(
        "create or replace temp table _res_spanning_edges as select * from _res_spanning_view"
    )
    con.unregister("_res_spanning_view")
