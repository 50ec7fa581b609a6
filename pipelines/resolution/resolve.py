"""resolve_mentions: person mentions in, resolved people out (Splink on an in-memory DuckDB).

Splink scores *nodes*, not mentions: mentions that carry the same nominal id and exactly the
same recorded details are one node (a serial perpetrator named on thirty crimes is one record,
so his name does not look common to the term-frequency adjustment, and the pair count stays
small). Mentions without a nominal id are nodes of their own.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
from splink import DuckDBAPI, Linker

from pipelines.resolution.clustering import cluster_with_constraints
from pipelines.resolution.model import (
    blocking_candidates,
    build_settings,
    calibrate,
    select_blocking_rules,
    train,
)
from pipelines.resolution.nicknames import load_nicknames

log = logging.getLogger(__name__)

# Columns the input must have (int_person_mentions); anything else is passed through.
REQUIRED_COLUMNS = ("mention_id", "person_id", "forename", "surname", "date_of_birth")
OPTIONAL_COLUMNS = (
    "sex",
    "postcode",
    "role_side",
    "event_key",
    "crime_id",
    "event_date",
    "address",
    "email",
)
TF_FIELDS = {"forename", "surname", "postcode", "address"}  # fields with a tf adjustment
PLACEHOLDER_DOBS = "('1900-01-01'::date, '1901-01-01'::date, '1970-01-01'::date)"


@dataclass(frozen=True)
class ResolutionConfig:
    match_probability_threshold: float = 0.5
    # Dates of birth further apart than this (and not a typo or day/month swap) never join
    # through a chain of matches.
    dob_conflict_years: int = 10
    max_u_pairs: float = 1e6
    # Blocking budget: a rule is used (or tightened with a geographic key until it fits) only
    # if it creates at most this many pairs per record scored (with a floor for small inputs),
    # so the comparison count stays linear in the number of records.
    block_pairs_per_record: float = 5.0
    # EM runs on whole blocks holding about this many records (all records when fewer).
    max_em_records: int = 100_000
    min_block_pairs: int = 200_000
    seed: int = 42
    # Evaluation only: also return every scored pair with probability >= this (None = no).
    keep_pairs_above: float | None = None


@dataclass
class ResolutionResult:
    clusters: pd.DataFrame  # the input mentions + person_key, cluster_size
    persons: pd.DataFrame  # person_key, forename, surname, date_of_birth, sex, postcode, ...
    evidence: pd.DataFrame  # person_key, mention_id_l, mention_id_r, match weights per field
    model: dict[str, Any]  # Splink model (settings + trained m/u)
    stats: dict[str, Any] = field(default_factory=dict)
    pairs: pd.DataFrame | None = None  # scored node pairs (only with config.keep_pairs_above)


def _standardise_sql(has: set[str]) -> str:
    def col(name: str) -> str:
        return f"m.{name}" if name in has else "null::varchar"

    def name_std(expr: str) -> str:
        return f"nullif(regexp_replace(lower(trim({expr})), '[^a-z]', '', 'g'), '')"

    return f"""
    create or replace table mentions_std as
    with base as (
        select
            m.mention_id::varchar as mention_id,
            nullif(trim(m.person_id::varchar), '') as person_id,
            {name_std("m.forename")} as forename_std,
            {name_std("m.surname")} as surname_std,
            -- placeholder dates (system defaults) carry no information
            case when try_cast(m.date_of_birth as date) not in {PLACEHOLDER_DOBS}
                then try_cast(m.date_of_birth as date) end as dob,
            case when upper(trim({col("sex")})) in ('F', 'M') then upper(trim({col("sex")})) end
                as sex_std,
            nullif(regexp_replace(upper(regexp_replace({col("postcode")}, '\\s', '', 'g')),
                '^(.+)(...)$', '\\1 \\2'), '') as postcode_std,
            nullif(lower(trim({col("address")}::varchar)), '') as address_std,
            nullif(lower(trim({col("email")}::varchar)), '') as email_std,
            {col("role_side")}::varchar as role_side,
            {col("event_key")}::varchar as event_key,
            {col("crime_id")}::varchar as crime_id,
            try_cast({col("event_date")} as date) as event_date
        from mentions_in as m
    )
    select
        *,
        -- one node per nominal id and set of recorded details; unnamed mentions stand alone
        case
            when person_id is not null then 'N:' || person_id || ':' || md5(concat_ws('|',
                forename_std, surname_std, dob, sex_std, postcode_std, address_std, email_std))
            else 'M:' || mention_id
        end as unique_id
    from base
    """


NODES_SQL = """
create or replace table nodes as
with n as (
    select
        unique_id,
        any_value(person_id) as person_id,
        any_value(forename_std) as forename_std,
        any_value(surname_std) as surname_std,
        any_value(dob) as dob,
        any_value(sex_std) as sex_std,
        any_value(postcode_std) as postcode_std,
        any_value(address_std) as address_std,
        any_value(email_std) as email_std,
        min(mention_id) as first_mention_id,
        -- when the node was active: mentions of one course of conduct are close in time
        min(event_date) as event_first,
        max(event_date) as event_last,
        count(*) as n_mentions
    from mentions_std
    group by unique_id
),
groups as (
    -- every formal name a forename can stand for (itself included): Bob -> [bob, robert]
    select n.unique_id,
        list_sort(list_distinct(list_concat([n.forename_std],
            list(k.name) filter (where k.name is not null)))) as forename_groups,
        coalesce(min(k.name), n.forename_std) as forename_canon
    from n left join nicknames as k on n.forename_std = k.nickname
    where n.forename_std is not null
    group by n.unique_id, n.forename_std
),
counterparts as (
    -- nominal ids on the other side of the node's incidents (a suspect's victims, a victim's
    -- suspects): stalking is a relation, so sharing a victim is evidence of being one person
    select a.unique_id, list_sort(list(distinct o.person_id)) as counterparts
    from node_incidents as a
    join node_incidents as b
        on a.incident_key = b.incident_key and a.role_side <> b.role_side
    join (select distinct unique_id, person_id from mentions_std) as o
        on b.unique_id = o.unique_id
    where o.person_id is not null
    group by a.unique_id
)
,
crime_roles as (
    -- the crimes the node is linked to, with its side: an intelligence subject linked to
    -- crime C and the suspect of crime C are probably one person
    select unique_id, list_sort(list(distinct role_side || '|' || crime_id)) as crime_roles
    from mentions_std
    where crime_id is not null and role_side is not null
    group by unique_id
)
select
    n.*,
    c.counterparts,
    r.crime_roles,
    g.forename_groups,
    g.forename_canon,
    strftime(n.dob, '%Y-%m-%d') as dob_str,
    year(n.dob) as dob_year,
    (n.forename_std is not null or n.surname_std is not null or n.dob is not null)
        as has_attributes
from n
left join groups as g using (unique_id)
left join counterparts as c using (unique_id)
left join crime_roles as r using (unique_id)
"""

INCIDENTS_SQL = """
create or replace table node_incidents as
select distinct unique_id, incident_key, role_side
from (
    select unique_id, event_key as incident_key, role_side from mentions_std
    union all
    select unique_id, crime_id as incident_key, role_side from mentions_std
)
where incident_key is not null and role_side is not null
"""


def _term_frequency_tables(
    db_api: DuckDBAPI, con: duckdb.DuckDBPyConnection, fields: list[str]
) -> dict[str, Any]:
    """Term frequencies over identities, not records: a nominal id counts once however many
    nodes and mentions it has, so a prolific offender's name does not look common."""
    tables: dict[str, Any] = {}
    for name in sorted(TF_FIELDS & set(fields)):
        column = f"{name}_std"
        table = f"tf_{column}_lookup"
        con.execute(
            f"""create or replace table {table} as
            with ids as (
                select distinct {column}, coalesce(person_id, unique_id) as identity
                from splink_input where {column} is not null
            )
            select {column}, count(*) / sum(count(*)) over () as tf_{column}
            from ids group by {column}"""
        )
        tables[column] = db_api.register(table, table_name=f"{table}_registered")
    return tables


def _em_sample(
    db_api: DuckDBAPI, con: duckdb.DuckDBPyConnection, keys: tuple[str, ...], share: float, i: int
) -> Any:
    """Records whose blocking keys hash into the first `share` of the range: whole blocks,
    chosen at random but reproducibly."""
    table = f"em_sample_{i}"
    key = " || '|' || ".join(f"coalesce({k}::varchar, '')" for k in keys)
    buckets = 10_000
    con.execute(
        f"create or replace table {table} as select * from splink_input "
        f"where hash({key}) % {buckets} < {max(1, int(share * buckets))}"
    )
    return db_api.register(table, table_name=f"{table}_registered")


def _field_weights_sql(present: list[str], available: set[str]) -> str:
    """Match weight per field, term-frequency adjustment included where the field has one."""
    parts = []
    for name in present:
        weight = f"mw_{name}" if f"mw_{name}" in available else "null::double"
        if f"mw_tf_adj_{name}" in available:
            weight = f"{weight} + coalesce(mw_tf_adj_{name}, 0)"
        parts.append(f"{weight} as mw_{name}")
    return ", ".join(parts)


def resolve_mentions(
    mentions: pd.DataFrame | pa.Table,
    config: ResolutionConfig | None = None,
    nicknames: pd.DataFrame | None = None,
) -> ResolutionResult:
    """Resolve person mentions to people. Pure: reads nothing but its arguments and writes
    nothing but its result (Splink works in its own in-memory DuckDB).

    mentions: one row per mention with mention_id (unique), person_id (nominal id or null),
    forename, surname, date_of_birth and optionally sex, postcode, address, role_side
    (victim / perpetrator), event_key and crime_id (the incidents whose two sides must stay
    apart); any other column is passed through to `clusters`.
    """
    # Splink narrates every step at INFO; keep run logs to our own counts.
    splink_logger = logging.getLogger("splink")
    previous = splink_logger.level
    splink_logger.setLevel(logging.WARNING)
    try:
        return _resolve(mentions, config or ResolutionConfig(), nicknames)
    finally:
        splink_logger.setLevel(previous)


def _resolve(
    mentions: pd.DataFrame | pa.Table,
    config: ResolutionConfig,
    nicknames: pd.DataFrame | None,
) -> ResolutionResult:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = false")
    con.register("mentions_in", mentions)
    con.register("nicknames", nicknames if nicknames is not None else load_nicknames())
    has = set(con.table("mentions_in").columns)
    missing = [c for c in REQUIRED_COLUMNS if c not in has]
    if missing:
        raise ValueError(f"mentions lack columns: {', '.join(missing)}")
    duplicated = con.execute(
        "select count(*) - count(distinct mention_id) from mentions_in"
    ).fetchall()[0][0]
    if duplicated:
        raise ValueError(f"mention_id must be unique: {duplicated} duplicates")
    con.execute(_standardise_sql(has))
    con.execute(INCIDENTS_SQL)
    con.execute(NODES_SQL)
    n_mentions, n_nodes = con.execute(
        "select (select count(*) from mentions_std), (select count(*) from nodes)"
    ).fetchall()[0]
    present = con.execute(
        "select count(postcode_std) > 0, count(sex_std) > 0, count(address_std) > 0, "
        "count(counterparts) > 0 or count(crime_roles) > 0, count(event_first) > 0, "
        "count(email_std) > 0 from nodes"
    ).fetchall()[0]
    with_postcode, with_sex, with_address, with_context, with_time, with_email = (
        bool(v) for v in present
    )
    con.execute(
        "create or replace table splink_input as select * exclude (has_attributes, "
        "first_mention_id, n_mentions) from nodes where has_attributes"
    )
    n_input = con.execute("select count(*) from splink_input").fetchall()[0][0]
    timings["prepare_s"] = time.perf_counter() - started

    fields = ["forename", "surname", "dob"]
    fields += ["postcode"] * with_postcode + ["sex"] * with_sex + ["address"] * with_address
    fields += ["counterpart", "crime_role"] * with_context + ["active"] * with_time
    fields += ["email"] * with_email
    n_scored = 0
    rule_counts: list[dict[str, Any]] = []
    training: dict[str, Any] = {}
    model: dict[str, Any] = {}
    if n_input >= 2:
        db_api = DuckDBAPI(con)
        splink_input = db_api.register("splink_input")
        budget = max(config.min_block_pairs, int(config.block_pairs_per_record * n_input))
        rules, rule_counts = select_blocking_rules(
            con, "splink_input", blocking_candidates(with_address, with_email), budget
        )
        settings = build_settings(
            rules, with_address, with_postcode, with_sex, with_context, with_time, with_email
        )
        tf_tables = _term_frequency_tables(db_api, con, fields)

        samples: dict[tuple[str, ...], Any] = {}

        def make_linker(model_settings: Any, em_keys: tuple[str, ...] | None = None) -> Linker:
            data = splink_input
            if em_keys is not None and n_input > config.max_em_records:
                if em_keys not in samples:
                    samples[em_keys] = _em_sample(
                        db_api, con, em_keys, config.max_em_records / n_input, len(samples)
                    )
                data = samples[em_keys]
            linker = Linker(data, model_settings, log_level=None)
            for column, frame in tf_tables.items():
                linker.table_management.register_term_frequency_lookup(frame, column)
            return linker

        t = time.perf_counter()
        # share of records holding each field, squared: the chance a pair has it on both sides
        shares = con.execute(
            "select count(person_id) / count(*), count(forename_std) / count(*), "
            "count(surname_std) / count(*), count(dob) / count(*) from splink_input"
        ).fetchall()[0]
        non_null_both = {
            name: float(share) ** 2
            for name, share in zip(("person_id", "forename", "surname", "dob"), shares, strict=True)
        }
        trained, report = train(
            make_linker, settings, config.max_u_pairs, config.seed, non_null_both
        )
        training = {
            "em_sessions": report.em_sessions,
            "em_failures": list(report.em_failures),
            "lambda_recall": report.lambda_recall,
            # records in each sampled EM session (none when EM ran on all records)
            "em_sample_records": {
                ", ".join(keys): con.execute(f"select count(*) from {t.physical_name}").fetchall()[
                    0
                ][0]
                for keys, t in samples.items()
            },
        }
        # Re-load the trained model with domain bounds on its parameters (see calibrate).
        model = calibrate(trained)
        linker = make_linker(model)
        timings["train_s"] = time.perf_counter() - t
        t = time.perf_counter()
        blocked = linker.inference.compute_blocked_pairs_for_predict()
        n_scored = con.execute(f"select count(*) from {blocked.physical_name}").fetchall()[0][0]
        floor = config.match_probability_threshold
        if config.keep_pairs_above is not None:
            floor = min(floor, config.keep_pairs_above)
        predictions = linker.inference.predict(
            threshold_match_probability=floor, warning_mode="never"
        )
        available = set(con.table(predictions.physical_name).columns)
        con.execute(
            f"""create or replace table predictions as
            select unique_id_l, unique_id_r, match_probability, match_weight,
                {_field_weights_sql(fields, available)}
            from {predictions.physical_name}"""
        )
        timings["predict_s"] = time.perf_counter() - t
    else:
        con.execute(
            "create or replace table predictions (unique_id_l varchar, unique_id_r varchar, "
            "match_probability double, match_weight double)"
        )

    t = time.perf_counter()
    clusters, edges, cstats = cluster_with_constraints(
        con,
        "nodes",
        "node_incidents",
        "predictions",
        config.match_probability_threshold,
        config.dob_conflict_years,
    )
    timings["cluster_s"] = time.perf_counter() - t
    con.register("_clusters", clusters)
    # person_key: a hash of the smallest mention id of the person (stable while that holds).
    con.execute(
        """create or replace table clusters as
        with c as (
            select c.unique_id, c.cluster_id, n.first_mention_id
            from _clusters as c join nodes as n using (unique_id)
        )
        select unique_id,
            'P' || substr(md5(min(first_mention_id) over (partition by cluster_id)), 1, 12)
                as person_key
        from c"""
    )
    out_clusters = con.execute(
        """select m.*, c.person_key, count(*) over (partition by c.person_key) as cluster_size,
            s.unique_id as node_id
        from mentions_in as m
        join mentions_std as s on m.mention_id::varchar = s.mention_id
        join clusters as c on s.unique_id = c.unique_id"""
    ).df()
    persons = _persons(con, has)
    con.register("_edges", edges)
    weight_cols = ", ".join(f"p.mw_{f}" for f in fields)
    evidence = con.execute(
        f"""select cl.person_key, nl.first_mention_id as mention_id_l,
            nr.first_mention_id as mention_id_r,
            case when e.is_nominal then 'nominal_id' else 'splink' end as joined_by,
            e.match_probability, p.match_weight, {weight_cols}
        from _edges as e
        join clusters as cl on e.unique_id_l = cl.unique_id
        join clusters as cr on e.unique_id_r = cr.unique_id and cl.person_key = cr.person_key
        join nodes as nl on e.unique_id_l = nl.unique_id
        join nodes as nr on e.unique_id_r = nr.unique_id
        left join predictions as p
            on e.unique_id_l = p.unique_id_l and e.unique_id_r = p.unique_id_r
        order by 1, 2, 3"""
    ).df()
    pairs = None
    if config.keep_pairs_above is not None:
        pairs = con.execute("select * from predictions").df()
    total = time.perf_counter() - started
    timings["total_s"] = total
    stats = {
        "mentions": int(n_mentions),
        "nodes": int(n_nodes),
        "nodes_scored_by_splink": int(n_input),
        "comparisons_scored": int(n_scored),
        "blocking_rules": rule_counts,
        "persons": int(persons.shape[0]),
        "multi_record_persons": int((persons["n_records"] > 1).sum()),
        "fields": fields,
        "training": training,
        "clustering": asdict(cstats),
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "records_per_second": round(n_mentions / total, 1) if total > 0 else math.nan,
    }
    con.close()
    return ResolutionResult(out_clusters, persons, evidence, model, stats, pairs)


def _persons(con: duckdb.DuckDBPyConnection, has: set[str]) -> pd.DataFrame:
    """One row per person: the most frequent non-null value of each attribute, the number of
    records (mentions) and the sources they come from."""
    source = "m.source" if "source" in has else "null::varchar"
    event_date = "m.event_date" if "event_date" in has else "null::date"

    def best(expr: str) -> str:
        return f"mode({expr}) filter (where {expr} is not null)"

    return con.execute(
        f"""
        with j as (
            select c.person_key, s.*, m.forename as forename_raw, m.surname as surname_raw,
                {source} as source, {event_date} as event_date
            from mentions_std as s
            join clusters as c using (unique_id)
            join mentions_in as m on m.mention_id::varchar = s.mention_id
        )
        select
            person_key,
            {best("forename_raw")} as forename,
            {best("surname_raw")} as surname,
            {best("dob")} as date_of_birth,
            {best("sex_std")} as sex,
            {best("postcode_std")} as postcode,
            count(*) as n_records,
            count(distinct person_id) as n_person_ids,
            string_agg(distinct source, ',' order by source) as sources,
            min(event_date) as first_seen,
            max(event_date) as last_seen
        from j
        group by person_key
        """
    ).df()
