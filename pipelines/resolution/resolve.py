"""resolve_mentions: person mentions in, resolved people out (Splink on an in-memory DuckDB)."""

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
from pipelines.resolution.model import build_settings, train
from pipelines.resolution.nicknames import load_nicknames

log = logging.getLogger(__name__)

# Columns the input must have (int_person_mentions); anything else is passed through.
REQUIRED_COLUMNS = ("mention_id", "person_id", "forename", "surname", "date_of_birth")
OPTIONAL_COLUMNS = ("sex", "postcode", "role_side", "event_key", "crime_id", "address")
FIELDS = ("forename", "surname", "dob", "postcode", "sex", "address")


@dataclass(frozen=True)
class ResolutionConfig:
    match_probability_threshold: float = 0.9
    # Dates of birth further apart than this (and not a typo or day/month swap) never join
    # through a chain of matches.
    dob_conflict_years: int = 10
    max_u_pairs: float = 1e6
    seed: int = 42


@dataclass
class ResolutionResult:
    clusters: pd.DataFrame  # mention_id, person_key (+ passthrough columns)
    persons: pd.DataFrame  # person_key, forename, surname, date_of_birth, sex, postcode, ...
    evidence: pd.DataFrame  # person_key, mention_id_l, mention_id_r, match weights per field
    model: dict[str, Any]  # Splink model (settings + trained m/u)
    stats: dict[str, Any] = field(default_factory=dict)


def _standardise_sql(has: set[str]) -> str:
    def col(name: str, cast: str = "varchar") -> str:
        return f"m.{name}" if name in has else f"null::{cast}"

    def name_std(expr: str) -> str:
        return f"nullif(regexp_replace(lower(trim({expr})), '[^a-z]', '', 'g'), '')"

    return f"""
    create or replace table mentions_std as
    with base as (
        select
            m.mention_id::varchar as unique_id,
            nullif(trim(m.person_id::varchar), '') as person_id,
            {name_std("m.forename")} as forename_std,
            {name_std("m.surname")} as surname_std,
            try_cast(m.date_of_birth as date) as dob,
            case when upper(trim({col("sex")})) in ('F', 'M') then upper(trim({col("sex")})) end
                as sex_std,
            nullif(regexp_replace(upper(regexp_replace({col("postcode")}, '\\s', '', 'g')),
                '^(.+)(...)$', '\\1 \\2'), '') as postcode_std,
            nullif(lower(trim({col("address")})), '') as address_std,
            {col("role_side")} as role_side,
            {col("event_key")} as event_key,
            {col("crime_id")} as crime_id
        from mentions_in as m
    ),
    groups as (
        -- every formal name a forename can stand for (itself included)
        select b.unique_id,
            list_sort(list_distinct(list_concat([b.forename_std], list(n.name)
                filter (where n.name is not null)))) as forename_groups,
            coalesce(min(n.name), b.forename_std) as forename_canon
        from base as b left join nicknames as n on b.forename_std = n.nickname
        where b.forename_std is not null
        group by b.unique_id, b.forename_std
    )
    select
        b.*,
        g.forename_groups,
        g.forename_canon,
        strftime(b.dob, '%Y-%m-%d') as dob_str,
        year(b.dob) as dob_year,
        (b.forename_std is not null or b.surname_std is not null or b.dob is not null)
            as has_attributes
    from base as b left join groups as g using (unique_id)
    """


def _field_weights_sql(present: list[str]) -> str:
    """Match weight per field, term-frequency adjustment included where the field has one."""
    tf = {"forename", "surname", "postcode", "address"}
    return ", ".join(
        f"mw_{name} + coalesce(mw_tf_adj_{name}, 0) as mw_{name}" if name in tf else f"mw_{name}"
        for name in present
    )


def resolve_mentions(
    mentions: pd.DataFrame | pa.Table,
    config: ResolutionConfig | None = None,
    nicknames: pd.DataFrame | None = None,
) -> ResolutionResult:
    """Resolve person mentions to people. Pure: reads nothing but its arguments and writes
    nothing but its result (Splink works in its own in-memory DuckDB)."""
    config = config or ResolutionConfig()
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
    con.execute(_standardise_sql(has))
    n_mentions = con.execute("select count(*) from mentions_std").fetchall()[0][0]
    present = con.execute(
        "select count(postcode_std) > 0, count(sex_std) > 0, count(address_std) > 0 "
        "from mentions_std"
    ).fetchall()[0]
    with_postcode, with_sex, with_address = (bool(v) for v in present)
    con.execute(
        "create or replace table splink_input as select * exclude (has_attributes) "
        "from mentions_std where has_attributes"
    )
    n_input = con.execute("select count(*) from splink_input").fetchall()[0][0]
    timings["prepare_s"] = time.perf_counter() - started

    db_api = DuckDBAPI(con)
    fields = ["forename", "surname", "dob"]
    fields += ["postcode"] * with_postcode + ["sex"] * with_sex + ["address"] * with_address
    n_scored = 0
    training: dict[str, Any] = {}
    model: dict[str, Any] = {}
    if n_input >= 2:
        linker = Linker(
            db_api.register("splink_input"),
            build_settings(
                config.match_probability_threshold, with_address, with_postcode, with_sex
            ),
        )
        t = time.perf_counter()
        report = train(linker, config.max_u_pairs, config.seed)
        training = {"em_sessions": report.em_sessions, "em_failures": list(report.em_failures)}
        timings["train_s"] = time.perf_counter() - t
        t = time.perf_counter()
        blocked = linker.inference.compute_blocked_pairs_for_predict()
        n_scored = con.execute(f"select count(*) from {blocked.physical_name}").fetchall()[0][0]
        predictions = linker.inference.predict(
            threshold_match_probability=config.match_probability_threshold, warning_mode="never"
        )
        con.execute(
            f"""create or replace table predictions as
            select unique_id_l, unique_id_r, match_probability, match_weight,
                {_field_weights_sql(fields)}
            from {predictions.physical_name}"""
        )
        timings["predict_s"] = time.perf_counter() - t
        model = linker.misc.save_model_to_json()
    else:
        con.execute(
            "create or replace table predictions (unique_id_l varchar, unique_id_r varchar, "
            "match_probability double, match_weight double)"
        )

    t = time.perf_counter()
    clusters, edges, cstats = cluster_with_constraints(
        con,
        "mentions_std",
        "predictions",
        config.match_probability_threshold,
        config.dob_conflict_years,
    )
    timings["cluster_s"] = time.perf_counter() - t
    con.register("_clusters", clusters)
    con.execute(
        """create or replace table clusters as
        select unique_id, 'P' || substr(md5(min(unique_id) over (partition by cluster_id)), 1, 12)
            as person_key
        from _clusters"""
    )
    out_clusters = con.execute(
        """select m.*, c.person_key, count(*) over (partition by c.person_key) as cluster_size
        from mentions_in as m join clusters as c on m.mention_id::varchar = c.unique_id"""
    ).df()
    persons = _persons(con, has)
    con.register("_edges", edges)
    weight_cols = ", ".join(f"p.mw_{f}" for f in fields)
    evidence = con.execute(
        f"""select cl.person_key, e.unique_id_l as mention_id_l, e.unique_id_r as mention_id_r,
            case when e.is_nominal then 'nominal_id' else 'splink' end as joined_by,
            e.match_probability, p.match_weight, {weight_cols}
        from _edges as e
        join clusters as cl on e.unique_id_l = cl.unique_id
        join clusters as cr on e.unique_id_r = cr.unique_id and cl.person_key = cr.person_key
        left join predictions as p
            on e.unique_id_l = p.unique_id_l and e.unique_id_r = p.unique_id_r
        order by 1, 2, 3"""
    ).df()
    total = time.perf_counter() - started
    timings["total_s"] = total
    stats = {
        "mentions": int(n_mentions),
        "mentions_scored_by_splink": int(n_input),
        "comparisons_scored": int(n_scored),
        "persons": int(persons.shape[0]),
        "multi_record_persons": int((persons["n_records"] > 1).sum()),
        "fields": fields,
        "training": training,
        "clustering": asdict(cstats),
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "records_per_second": round(n_mentions / total, 1) if total > 0 else math.nan,
    }
    con.close()
    return ResolutionResult(out_clusters, persons, evidence, model, stats)


def _persons(con: duckdb.DuckDBPyConnection, has: set[str]) -> pd.DataFrame:
    """One row per person: the most frequent non-null value of each attribute (ties: latest
    mention), number of records and the sources they come from."""
    source = "m.source" if "source" in has else "null::varchar"
    event_date = "m.event_date" if "event_date" in has else "null::date"

    def best(expr: str) -> str:
        return f"mode({expr}) filter (where {expr} is not null)"

    return con.execute(
        f"""
        with j as (
            select c.person_key, s.*, m.forename as forename_raw, m.surname as surname_raw,
                {source} as source, {event_date} as event_date
            from clusters as c
            join mentions_std as s using (unique_id)
            join mentions_in as m on m.mention_id::varchar = c.unique_id
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
