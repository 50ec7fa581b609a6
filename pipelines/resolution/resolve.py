"""resolve_mentions: person mentions in, resolved people out (Splink on an in-memory DuckDB).

Splink scores *nodes*, not mentions: mentions that carry the same nominal id and exactly the
same recorded details are one node (a serial perpetrator named on thirty crimes is one record,
so his name does not look common to the term-frequency adjustment, and the pair count stays
small). Mentions without a nominal id are nodes of their own.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
from splink import DuckDBAPI, Linker

from pipelines.resolution.clustering import (
    SECOND_ID,
    UNKNOWN_SUSPECT,
    attach_second_ids,
    cluster_with_constraints,
    join_unknown_suspects,
    spanning_links,
)
from pipelines.resolution.model import (
    BLOCKING_KEY_COLUMNS,
    BLOCKING_ONLY_COLUMNS,
    COUNTERPART_RULES,
    DISTRICT_REGEX,
    SECTOR_REGEX,
    PredictionRule,
    blocked_pairs_sql,
    blocking_candidates,
    build_settings,
    calibrate,
    chain_dob_conflict_years,
    count_block_pairs,
    prediction_rules,
    select_blocking_rules,
    select_counterpart_rules,
    train,
    without_implied_rules,
)
from pipelines.resolution.nicknames import load_nicknames
from pipelines.settings import PersonSettings

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
# What officers and systems type where a name is not known, as the name standardises (lower
# case, letters only): no information about who the person is, like a placeholder date. Kept
# as a name, every "UNKNOWN" suspect would share a surname with every other and be compared,
# and linked, on it. Short real surnames (Na, Nil) are left alone.
PLACEHOLDER_NAMES = (
    "unknown",
    "notknown",
    "nameunknown",
    "personunknown",
    "personsunknown",
    "unk",
    "unkn",
    "nk",
    "none",
    "unnamed",
    "noname",
    "anon",
    "anonymous",
    "withheld",
    "refused",
    "notgiven",
    "notstated",
    "tbc",
    "tba",
    "xx",
    "xxx",
    "xxxx",
)


@dataclass(frozen=True)
class ResolutionConfig:
    match_probability_threshold: float = 0.5
    # Dates of birth further apart than this (and not a typo or day/month swap) never join
    # through a chain of matches; the run's model lowers it (chain_dob_conflict_years) where
    # it weighs a nearer disagreement below dob_conflict_weight.
    dob_conflict_years: float = 10
    # log2 Bayes factor: a date-of-birth disagreement the model weighs below this (1:100)
    # is too strong to be spanned by a chain without a direct link.
    dob_conflict_weight: float = -6.64
    # A nominal id with no name or date of birth anywhere joins the one person its
    # counterpart points to only if that person was active within this many days of it
    # (clustering.attach_second_ids); a victim's unknown suspects (no name or date of birth
    # anywhere) are one unknown person only within it (clustering.join_unknown_suspects).
    second_id_max_gap_days: int = 365
    # The probability a rule join (no score: clustering.SECOND_ID, UNKNOWN_SUSPECT) stands for
    # in the weakest link a person rests on: how often the rule's joins were right where they
    # were measured (settings resolution.rule_joins). A rule not given here does not lower the
    # weakest link (the person still names it in `cluster_rule_joins`).
    rule_join_probability: dict[str, float] = field(default_factory=dict)
    # Dates of birth systems write when none is known (settings persons): no one is compared
    # on them, as on a missing date.
    placeholder_dates_of_birth: tuple[dt.date, ...] = field(
        default_factory=lambda: tuple(PersonSettings().placeholder_dates_of_birth)
    )
    max_u_pairs: float = 1e6
    # Linkers estimating u at once, each comparison in one of them (model.estimate_u: the
    # same model whatever the number); None: as many as DuckDB's threads (the cores).
    u_estimation_lanes: int | None = None
    # Blocking budget: a rule is used (or tightened with a geographic key until it fits) only
    # if it creates at most this many pairs per record scored (with a floor for small inputs),
    # so the comparison count stays linear in the number of records.
    block_pairs_per_record: float = 5.0
    # ... and all rules together at most this many (the largest rules move to their tighter
    # form first), which bounds the scoring time at national scale.
    total_pairs_per_record: float = 12.0
    # EM runs on whole blocks holding about this many records (all records when fewer).
    max_em_records: int = 100_000
    max_em_pairs: int = 2_000_000
    # Blocked pairs scored per chunk (counted per rule, so an upper bound). A chunk bounds the
    # memory of Splink's pair de-duplication, but each chunk joins its records against the
    # whole input once per blocking rule and materialises the records its pairs reach, so
    # every chunk more costs a pass over all the nodes: as few chunks as fit memory_limit
    # (the default 6GB holds ~35 M pairs a chunk; national scale is then 3 chunks, not 6).
    pairs_per_chunk: int = 40_000_000
    min_block_pairs: int = 200_000
    seed: int = 42
    # Evaluation only: also return every scored pair with probability >= this (None = no).
    keep_pairs_above: float | None = None
    # Also return, for every two different resolved people with a scored pair at or above
    # this probability, their best match probability (`links`): how sure it is that they are
    # different people (None = no links).
    link_floor: float | None = None
    # DuckDB working memory; beyond it DuckDB spills to a temporary directory (under
    # temp_directory, default the system temp dir), so memory stays bounded at any scale.
    memory_limit: str = "6GB"
    file_backed_from: int = 1_000_000  # mentions (a warehouse table input always is)
    temp_directory: str | None = None
    # "pandas" (small inputs, tests) or "arrow" (millions of mentions: columnar, no Python
    # objects per value) for clusters, persons and evidence.
    output_format: str = "pandas"
    # The input columns `clusters` carries (those the input has), or None for every one. A
    # caller that keeps a few (the person_records asset) names them: at national scale every
    # other column (names, dates of birth) is ~11 M values read and copied for nothing.
    clusters_columns: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.u_estimation_lanes is not None and self.u_estimation_lanes < 1:
            raise ValueError("u_estimation_lanes: at least 1 (None: DuckDB's threads)")
        unknown = set(self.rule_join_probability) - {SECOND_ID, UNKNOWN_SUSPECT}
        if unknown or not all(0 < p <= 1 for p in self.rule_join_probability.values()):
            raise ValueError(
                f"rule_join_probability: only {SECOND_ID} and {UNKNOWN_SUSPECT}, each in (0, 1]"
            )


@dataclass(frozen=True)
class WarehouseTable:
    """Mentions read straight from a table of a DuckDB file (opened read-only), e.g.
    intermediate.int_person_mentions of a warehouse no other process is writing."""

    path: str
    table: str = "intermediate.int_person_mentions"


@dataclass
class ResolutionResult:
    # pandas DataFrames, or pyarrow Tables with config.output_format == "arrow"
    clusters: Any  # the input mentions + person_key, cluster_size
    persons: Any  # person_key, forename, surname, date_of_birth, sex, postcode, ...
    evidence: Any  # person_key, mention_id_l, mention_id_r, match weights per field
    model: dict[str, Any]  # Splink model (settings + trained m/u)
    stats: dict[str, Any] = field(default_factory=dict)
    pairs: pd.DataFrame | None = None  # scored node pairs (only with config.keep_pairs_above)
    # person_key_l < person_key_r, match_probability: best scored pair between two different
    # people at or above config.link_floor (only with config.link_floor)
    links: Any = None


def mentions_input(
    con: duckdb.DuckDBPyConnection,
    database: str,
    config: ResolutionConfig,
    table: str = "intermediate.int_person_mentions",
) -> pa.Table | WarehouseTable:
    """The mentions of `table` (in the database file `database`, open on `con`) as
    `resolve_mentions` takes them: from `config.file_backed_from` mentions, where resolution
    works in a scratch database file anyway, read in place (a WarehouseTable: the caller
    closes its own connection first); fewer, read to Arrow and resolved in memory.

    In place, the mentions are not held in memory beside Splink's work for the whole of it
    (at national scale ~11 M mentions, ~2.5 GB as Arrow, and their clustered copy beside
    them at the end): DuckDB reads the file's compressed blocks under its memory_limit."""
    n_mentions = con.execute(f"select count(*) from {table}").fetchall()[0][0]
    if n_mentions >= config.file_backed_from and database not in ("", ":memory:"):
        return WarehouseTable(str(database), table)
    return con.sql(f"select * from {table}").to_arrow_table()


def _standardise_sql(has: set[str], placeholder_dates_of_birth: Sequence[dt.date]) -> str:
    """The query of `mentions_std`: each mention's standardised details and its node."""

    def col(name: str) -> str:
        return f"m.{name}" if name in has else "null::varchar"

    placeholders = ", ".join(f"'{name}'" for name in PLACEHOLDER_NAMES)
    # placeholder dates (system defaults) carry no information: read as no date of birth
    dob = "try_cast(m.date_of_birth as date)"
    if placeholder_dates_of_birth:
        listed = ", ".join(f"'{day.isoformat()}'::date" for day in placeholder_dates_of_birth)
        dob = f"case when {dob} not in ({listed}) then {dob} end"

    def name_std(expr: str) -> str:
        letters = f"regexp_replace(lower(trim({expr})), '[^a-z]', '', 'g')"
        return f"case when {letters} not in ('', {placeholders}) then {letters} end"

    return f"""
    with base as (
        select
            m.mention_id::varchar as mention_id,
            nullif(trim(m.person_id::varchar), '') as person_id,
            {name_std("m.forename")} as forename_std,
            {name_std("m.surname")} as surname_std,
            {dob} as dob,
            case when upper(trim({col("sex")})) in ('F', 'M') then upper(trim({col("sex")})) end
                as sex_std,
            nullif(regexp_replace(upper(regexp_replace({col("postcode")}, '\\s', '', 'g')),
                '^(.+)(...)$', '\\1 \\2'), '') as postcode_std,
            nullif(lower(trim({col("address")}::varchar)), '') as address_std,
            nullif(lower(trim({col("email")}::varchar)), '') as email_std,
            {col("role_side")}::varchar as role_side,
            {col("event_key")}::varchar as event_key,
            {col("crime_id")}::varchar as crime_id,
            try_cast({col("event_date")} as date) as event_date,
            -- as recorded, for the person's printed name and sources (_persons): carried
            -- here rather than joined back from the input by mention id (a string join of
            -- every mention at national scale)
            m.forename as forename_raw,
            m.surname as surname_raw,
            {col("source")} as source
        from mentions_in as m
    )
    select
        *,
        -- one node per nominal id and set of recorded details; unnamed mentions stand alone.
        -- A 63-bit hash, not a string: every join, group-by and blocked pair at national
        -- scale carries it (a collision among ten million nodes has odds of ~1e-5).
        (case
            when person_id is not null then hash(person_id, forename_std, surname_std, dob,
                sex_std, postcode_std, address_std, email_std)
            else hash('unnamed mention', mention_id)
        end >> 1)::bigint as unique_id
    from base
    """


def _has_details(alias: str = "") -> str:
    """SQL: the node holds a name or a date of birth (what the model compares a person on)."""
    return " or ".join(f"{alias}{c} is not null" for c in ("forename_std", "surname_std", "dob"))


# The nodes (every column clustering, outputs and Splink read; the blocking keys are added
# by _build_nodes around this query)
NODES_SQL = """
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
roles as (
    -- the crimes the node is linked to, with its side: an intelligence subject linked to
    -- crime C and the suspect of crime C are probably one person; and the crime sides it
    -- is recorded on as a party (a crime_persons row, not a report or order linked to the
    -- crime): two records so recorded on one crime under different nominals are the
    -- crime's record of two people. One row per node and crime side first, then one list
    -- each: two list(distinct ...) aggregates beside the node group-by cost DuckDB a
    -- distinct hash table each and a join back, more than the group-by itself
    select unique_id,
        list_sort(list(role)) as crime_roles,
        list_sort(list(role) filter (where party)) as crime_parties
    from (
        select unique_id, role_side || '|' || crime_id as role,
            bool_or(event_key = crime_id) as party
        from mentions_std
        where crime_id is not null and role_side is not null
        group by unique_id, role
    )
    group by unique_id
),
groups as (
    -- every formal name a forename can stand for (itself included): Bob -> [bob, robert].
    -- Once per distinct forename, joined to the nodes by it: a function of the name alone,
    -- not a group-by of every named node (~8 M nationally) for the same few thousand names
    select f.forename_std,
        list_sort(list_distinct(list_concat([f.forename_std],
            list(k.name) filter (where k.name is not null)))) as forename_groups,
        coalesce(min(k.name), f.forename_std) as forename_canon
    from (select distinct forename_std from n where forename_std is not null) as f
    left join nicknames as k on f.forename_std = k.nickname
    group by f.forename_std
),
counterparts as (
    -- nominal ids on the other side of the node's incidents (a suspect's victims, a victim's
    -- suspects): stalking is a relation, so sharing a victim is evidence of being one person
    select a.unique_id, list_sort(list(distinct b.person_id)) as counterparts
    from node_incidents as a
    join node_incidents as b
        on a.incident_key = b.incident_key and a.role_side <> b.role_side
    where b.person_id is not null
    group by a.unique_id
),
sole_roles as (
    -- crime sides on which the records holding a name or date of birth are one identity
    -- (a crime has one victim): a record with no details linked to such a side (an
    -- intelligence victim or protected person under a second nominal id) is that person;
    -- linked to a side held by two people it could be either, and is left alone
    select role
    from (
        select unnest(o.crime_roles) as role,
            coalesce(n.person_id, n.unique_id::varchar) as identity
        from n join roles as o using (unique_id) where {details}
    )
    group by role
    having count(distinct identity) = 1
),
bare_roles as (
    select b.unique_id, list_sort(list(b.role)) as crime_roles
    from (
        select unique_id, unnest(o.crime_roles) as role
        from n join roles as o using (unique_id) where not {details}
    ) as b
    semi join sole_roles as s using (role)
    group by b.unique_id
)
select
    n.*,
    case when len(o.crime_parties) > 0 then o.crime_parties end as crime_parties,
    -- a record with no details meets others only through the crime it is linked to, not
    -- through its counterpart: a suspect's other victims share that counterpart too
    case when {details} then c.counterparts end as counterparts,
    case
        when {details} and len(o.crime_roles) > 0 then o.crime_roles
        when not {details} then r.crime_roles
    end as crime_roles,
    g.forename_groups,
    g.forename_canon,
    strftime(n.dob, '%Y-%m-%d') as dob_str,
    nullif(regexp_extract(n.postcode_std, {sector}), '') as postcode_sector,
    nullif(regexp_extract(n.postcode_std, {district}), '') as postcode_district,
    year(n.dob) as dob_year,
    ({details} or r.crime_roles is not null) as has_attributes
from n
left join roles as o using (unique_id)
left join groups as g on n.forename_std = g.forename_std
left join counterparts as c using (unique_id)
left join bare_roles as r using (unique_id)
"""

INCIDENTS_SQL = """
create or replace table node_incidents as
-- person_id is a function of the node (part of unique_id): carried here for counterparts
select distinct unique_id, incident_key, role_side, person_id
from (
    select unique_id, event_key as incident_key, role_side, person_id from mentions_std
    union all
    select unique_id, crime_id as incident_key, role_side, person_id from mentions_std
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
                select distinct {column}, coalesce(person_id, unique_id::varchar) as identity
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
        f"create or replace table {table} as select * from splink_train "
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
    mentions: pd.DataFrame | pa.Table | WarehouseTable,
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
    settings_logger = logging.getLogger("splink.internals.settings")
    settings_logger.addFilter(_deliberate_null_levels)
    try:
        return _resolve(mentions, config or ResolutionConfig(), nicknames)
    finally:
        splink_logger.setLevel(previous)
        settings_logger.removeFilter(_deliberate_null_levels)


def _deliberate_null_levels(record: logging.LogRecord) -> bool:
    """Drop Splink's "no null level" warning for the nominal-id comparison: its levels for a
    record without an id are deliberate (EM weighs them: a record without an id is not two
    people), so the warning would only be noise in every run's log."""
    message = record.getMessage()
    return not ("No null level found" in message and "nominal_id" in message)


def _resolve(
    mentions: pd.DataFrame | pa.Table | WarehouseTable,
    config: ResolutionConfig,
    nicknames: pd.DataFrame | None,
) -> ResolutionResult:
    spill = tempfile.mkdtemp(prefix="spp_resolution_", dir=config.temp_directory)
    # Millions of mentions: work in a scratch database file rather than in memory, so the
    # working tables are stored compressed and evicted under memory_limit instead of
    # spilling uncompressed. Small inputs stay in memory (faster, nothing written).
    large = isinstance(mentions, WarehouseTable) or len(mentions) >= config.file_backed_from
    con = duckdb.connect(
        f"{spill}/work.duckdb" if large else ":memory:",
        config={"memory_limit": config.memory_limit, "temp_directory": spill},
    )
    try:
        return _resolve_on(con, mentions, config, nicknames)
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _phase(timings: dict[str, float], name: str, since: float) -> None:
    """Record a phase's duration and log it (counts and timings only): a national run takes
    minutes, and the log shows where."""
    timings[name] = time.perf_counter() - since
    log.info("resolution %s %.1f", name, timings[name])


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, output_format: str) -> Any:
    if output_format == "arrow":
        # a relation streams into Arrow; a DB-API result would copy the rows once more
        return con.sql(sql).to_arrow_table()
    return con.execute(sql).df()


@dataclass(frozen=True)
class FieldsPresent:
    """Which optional details the nodes hold at all: a field nobody recorded is not compared."""

    postcode: bool
    sex: bool
    address: bool
    context: bool  # counterparts or crime roles (who was on the other side of an incident)
    time: bool  # dated events (when a person was active)
    email: bool
    # the force's nominal ids on some records but not all: with an id on every record (or on
    # none) whether a pair has one or two ids says nothing, and the levels of records without
    # one are never met (EM then fails on them)
    nominal_id: bool

    def compared_fields(self) -> list[str]:
        fields = ["forename", "surname", "dob"]
        fields += ["postcode"] * self.postcode + ["sex"] * self.sex + ["address"] * self.address
        fields += ["counterpart", "crime_role"] * self.context + ["active"] * self.time
        return fields + ["email"] * self.email + ["nominal_id"] * self.nominal_id


@dataclass
class ScoringRun:
    """What training and scoring produced: the model, how it was trained, the pairs scored."""

    model: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    rule_counts: list[dict[str, Any]] = field(default_factory=list)
    dob_conflict_years: float = 10.0
    n_scored: int = 0


def _resolve_on(
    con: duckdb.DuckDBPyConnection,
    mentions: pd.DataFrame | pa.Table | WarehouseTable,
    config: ResolutionConfig,
    nicknames: pd.DataFrame | None,
) -> ResolutionResult:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    con.execute("set preserve_insertion_order = false")
    has = _load_mentions(con, mentions, nicknames)
    n_mentions, n_nodes, n_input, n_train, present = _build_nodes(
        con, has, config.placeholder_dates_of_birth
    )
    _phase(timings, "prepare_s", started)
    fields = present.compared_fields()
    if n_train >= 2:
        run = _train_and_score(con, config, n_input, n_train, present, fields, timings)
    else:
        run = ScoringRun(dob_conflict_years=float(config.dob_conflict_years))
        # nothing to train on (no record with a name or date of birth): no pair is scored, and
        # the empty predictions keep the scored shape, field weights included
        weights = "".join(f", mw_{f} double" for f in fields)
        con.execute(
            "create or replace table predictions (unique_id_l bigint, unique_id_r bigint, "
            f"match_probability double, match_weight double{weights})"
        )

    t = time.perf_counter()
    cstats = cluster_with_constraints(
        con,
        "nodes",
        "node_incidents",
        "predictions",
        config.match_probability_threshold,
        run.dob_conflict_years,
    )
    second_ids = attach_second_ids(
        con, "nodes", "mentions_std", "node_incidents", config.second_id_max_gap_days
    )
    unknown_suspects = join_unknown_suspects(
        con, "nodes", "node_incidents", config.second_id_max_gap_days
    )
    _phase(timings, "cluster_s", t)
    t = time.perf_counter()
    _assign_person_keys(con, config.rule_join_probability)
    fmt = config.output_format
    out_clusters = _clustered_mentions(con, fmt, _carried_columns(has, config.clusters_columns))
    links = None
    if config.link_floor is not None:
        links = _links_between_people(con, config.link_floor, fmt)
    persons = _persons(con, fmt)
    evidence = _match_evidence(con, fields, fmt)
    pairs = None
    if config.keep_pairs_above is not None:
        pairs = con.execute("select * from predictions").df()
    _phase(timings, "outputs_s", t)
    total = time.perf_counter() - started
    timings["total_s"] = total
    n_persons, n_multi = con.execute(
        "select count(*), count(*) filter (where n_mentions > 1) from person_sizes"
    ).fetchall()[0]
    stats = {
        "mentions": int(n_mentions),
        "nodes": int(n_nodes),
        "nodes_scored_by_splink": int(n_input),
        "comparisons_scored": int(run.n_scored),
        "blocking_rules": run.rule_counts,
        "persons": int(n_persons),
        "multi_record_persons": int(n_multi),
        "fields": fields,
        "training": run.training,
        "clustering": {
            **asdict(cstats),
            "chain_dob_conflict_years": run.dob_conflict_years,
            "second_ids_joined": second_ids,
            "unknown_suspects_joined": unknown_suspects,
        },
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "records_per_second": round(n_mentions / total, 1) if total > 0 else math.nan,
        "duckdb_memory_limit": config.memory_limit,
    }
    return ResolutionResult(out_clusters, persons, evidence, run.model, stats, pairs, links)


def _load_mentions(
    con: duckdb.DuckDBPyConnection,
    mentions: pd.DataFrame | pa.Table | WarehouseTable,
    nicknames: pd.DataFrame | None,
) -> set[str]:
    """Register the mentions (`mentions_in`) and the nickname table; check the required
    columns and that mention ids are unique. Returns the input's column names."""
    if isinstance(mentions, WarehouseTable):
        # read in place (no copy of millions of mentions in Python)
        con.execute(f"attach '{mentions.path}' as mentions_src (read_only)")
        con.execute(
            f"create view mentions_in as select * from mentions_src.{mentions.table} "
            "where mention_id is not null"
        )
    else:
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
    return has


def _build_nodes(
    con: duckdb.DuckDBPyConnection, has: set[str], placeholder_dates_of_birth: Sequence[dt.date]
) -> tuple[int, int, int, int, FieldsPresent]:
    """Standardise the mentions, group them into nodes and write `splink_input` (the nodes
    with anything to compare: a detail or a linked crime) and `splink_train` (those holding
    a name or a date of birth). Returns the mention, node, scored-node and training-node
    counts and which optional fields the nodes hold."""
    con.execute(
        "create or replace table mentions_std as "
        + _standardise_sql(has, placeholder_dates_of_birth)
    )
    con.execute(INCIDENTS_SQL)
    # One wide table holds the nodes and their blocking keys, and `splink_input` is a view of
    # it, not a second written copy of the same wide rows (~9 M nodes nationally, stored
    # compressed in the scratch database); Splink reads only the columns each statement
    # needs. The keys are stored columns, not expressions in the view, since Splink reads
    # the input again for every blocking rule and chunk.
    keys = ", ".join(f"{sql} as {name}" for name, sql in BLOCKING_KEY_COLUMNS.items())
    nodes = NODES_SQL.format(
        sector=SECTOR_REGEX, district=DISTRICT_REGEX, details=f"({_has_details('n.')})"
    )
    con.execute(f"create or replace table nodes as select *, {keys} from ({nodes})")
    n_mentions, n_nodes = con.execute(
        "select (select count(*) from mentions_std), (select count(*) from nodes)"
    ).fetchall()[0]
    present = con.execute(
        "select count(postcode_std) > 0, count(sex_std) > 0, count(address_std) > 0, "
        "count(counterparts) > 0 or count(crime_roles) > 0, count(event_first) > 0, "
        "count(email_std) > 0, count(person_id) between 1 and count(*) - 1 from nodes"
    ).fetchall()[0]
    con.execute(
        "create or replace view splink_input as select * exclude (has_attributes, "
        "first_mention_id, n_mentions) from nodes where has_attributes"
    )
    # the model is trained on the records holding a name or a date of birth only: a bare
    # record linked to a crime is scored (it meets that crime's records), but it says
    # nothing about how names and dates of birth agree, and would shift the model
    con.execute(
        f"create or replace view splink_train as select * from splink_input where {_has_details()}"
    )
    n_input, n_train = con.execute(
        "select (select count(*) from splink_input), (select count(*) from splink_train)"
    ).fetchall()[0]
    return n_mentions, n_nodes, n_input, n_train, FieldsPresent(*(bool(v) for v in present))


def _train_and_score(
    con: duckdb.DuckDBPyConnection,
    config: ResolutionConfig,
    n_input: int,
    n_train: int,
    present: FieldsPresent,
    fields: list[str],
    timings: dict[str, float],
) -> ScoringRun:
    """Choose blocking rules within the pair budget, train the model on this run's records,
    bound it (calibrate), and score the blocked pairs into `predictions`."""
    db_api = DuckDBAPI(con)
    budget = max(config.min_block_pairs, int(config.block_pairs_per_record * n_input))
    total_budget = max(config.min_block_pairs, int(config.total_pairs_per_record * n_input))
    t = time.perf_counter()
    rules, rule_counts = select_blocking_rules(
        con,
        "splink_input",
        blocking_candidates(present.address, present.email),
        budget,
        total_budget,
    )
    counterpart_rules = COUNTERPART_RULES[-1]
    if present.context:
        counterpart_rules, counterpart_counts = select_counterpart_rules(
            con, "splink_input", budget
        )
        rule_counts += counterpart_counts
    _phase(timings, "select_blocking_s", t)
    log.info("resolution blocking rules %s", rule_counts)
    settings = build_settings(
        rules,
        present.address,
        present.postcode,
        present.sex,
        present.context,
        present.time,
        present.email,
        counterpart_rules,
        with_nominal_id=present.nominal_id,
    )
    tf_tables = _term_frequency_tables(db_api, con, fields)
    splink_train = db_api.register("splink_train")

    samples: dict[tuple[str, ...], Any] = {}
    # Splink checks a linker's settings against its input's columns (it parses every
    # comparison level's SQL with sqlglot, ~0.1 s a linker, and only logs what it finds). Every
    # linker here has the comparisons and blocking rules of `settings` (training changes only
    # their parameters), so each set of input columns is checked once, not for each of the
    # ~7 linkers a resolution builds.
    validated: set[tuple[str, ...]] = set()

    # the training records on a connection of their own for each lane of u estimation but the
    # first (model.estimate_u), opened when a lane first needs it
    lane_inputs: dict[int, Any] = {}
    lane_connections: list[duckdb.DuckDBPyConnection] = []

    def make_linker(
        model_settings: Any, em_keys: tuple[str, ...] | None = None, lane: int = 0
    ) -> Linker:
        if lane:
            if lane not in lane_inputs:
                lane_connections.append(con.cursor())
                lane_inputs[lane] = DuckDBAPI(lane_connections[-1]).register("splink_train")
            # the same columns as splink_train, whose linkers are checked
            return Linker(
                lane_inputs[lane], model_settings, log_level=None, validate_settings=False
            )
        data = splink_train
        if em_keys is not None and em_keys not in samples:
            # Whole blocks, at most max_em_records records and max_em_pairs pairs: at
            # national scale a date of birth is shared by ~20 times more records than in
            # one force, so a record budget alone lets the pairs grow with the density.
            pairs = count_block_pairs(con, "splink_train", em_keys)
            share = min(1.0, config.max_em_records / n_train, config.max_em_pairs / max(pairs, 1))
            samples[em_keys] = (
                _em_sample(db_api, con, em_keys, share, len(samples)) if share < 1 else None
            )
        if em_keys is not None and samples[em_keys] is not None:
            data = samples[em_keys]
        columns = tuple(column.name for column in data.columns)
        linker = Linker(
            data, model_settings, log_level=None, validate_settings=columns not in validated
        )
        validated.add(columns)
        for column, frame in tf_tables.items():
            linker.table_management.register_term_frequency_lookup(frame, column)
        return linker

    t = time.perf_counter()
    # share of records holding each field, squared: the chance a pair has it on both sides
    shares = con.execute(
        "select count(person_id) / count(*), count(forename_std) / count(*), "
        "count(surname_std) / count(*), count(dob) / count(*) from splink_train"
    ).fetchall()[0]
    non_null_both = {
        name: float(share) ** 2
        for name, share in zip(("person_id", "forename", "surname", "dob"), shares, strict=True)
    }
    u_lanes = config.u_estimation_lanes or int(
        con.execute("select current_setting('threads')").fetchall()[0][0]
    )
    # One thread while training: DuckDB's seeded sampling repeats only on one thread, and
    # EM's sums over parallel partitions add in a different order each run, so the same
    # input would give a slightly different model (and weakest links) from run to run.
    con.execute("set threads = 1")
    try:
        trained, report = train(
            make_linker, settings, config.max_u_pairs, config.seed, non_null_both, n_train, u_lanes
        )
    finally:
        con.execute("reset threads")
        for lane_connection in lane_connections:
            lane_connection.close()
    training = {
        "em_sessions": report.em_sessions,
        "em_failures": list(report.em_failures),
        "lambda_recall": report.lambda_recall,
        # records in each sampled EM session (none when EM ran on all records)
        "em_sample_records": {
            ", ".join(keys): con.execute(f"select count(*) from {t.physical_name}").fetchall()[0][0]
            for keys, t in samples.items()
            if t is not None
        },
    }
    # Re-load the trained model with domain bounds on its parameters (see calibrate).
    model = calibrate(trained)
    dob_conflict_years = chain_dob_conflict_years(
        model, config.dob_conflict_years, config.dob_conflict_weight
    )
    # The pairs are blocked on the model's rules less those an earlier rule implies: the same
    # pairs, one join of the input fewer per chunk for each (the model lists every rule chosen)
    blocking = prediction_rules(without_implied_rules(rules), present.context, counterpart_rules)
    score_api = _ScratchTablesDuckDBAPI(con)
    scorer = _scoring_linker(score_api, con, model, tf_tables)
    _phase(timings, "train_s", t)
    n_scored = _score_blocked_pairs(
        con, score_api, blocking, scorer, config, fields, rule_counts, timings
    )
    return ScoringRun(model, training, rule_counts, dob_conflict_years, n_scored)


class _ScratchTablesDuckDBAPI(DuckDBAPI):
    """Splink's DuckDB API writing the tables it materialises as temporary tables. Scoring
    writes each chunk's records (the left and right records of its pairs: most of the nodes)
    and its scored pairs, reads them once and drops them: in the scratch database file they
    were compressed and written on the way in and decompressed on the way out (the 1/8 model's
    record tables took half the CPU as temporary tables). Temporary tables stay under
    memory_limit (DuckDB moves their blocks to temp_directory beyond it)."""

    def _setup_for_execute_sql(self, sql: str, physical_name: str) -> str:
        # Splink's own statement (DatabaseAPI._setup_for_execute_sql), on a temporary table
        self.delete_table_from_database(physical_name)
        return f"CREATE TEMP TABLE {physical_name} AS\n{sql}"


def _scoring_linker(
    db_api: DuckDBAPI, con: duckdb.DuckDBPyConnection, model: dict[str, Any], tf_tables: dict
) -> Linker:
    """The trained model over `splink_score`: the scoring input without the columns only
    blocking reads, keeping each field's weight (the intermediate columns) but not the
    compared values of both records. Splink materialises the records of each chunk's pairs
    (all the input's columns) and, retaining matching columns, carried the compared values
    and every blocking key through each of ~10^8 pairs at national scale; nothing reads them
    from the scored pairs. The same SQL computes the weights, so the scores do not change."""
    con.execute(
        "create or replace view splink_score as select * exclude "
        f"({', '.join(BLOCKING_ONLY_COLUMNS)}) from splink_input"
    )
    settings = {
        **model,
        "retain_matching_columns": False,
        # the pairs come from the blocking linker (registered per chunk)
        "blocking_rules_to_generate_predictions": [],
    }
    # Not checked against its input's columns (Splink's settings check, ~0.1 s): the same
    # comparisons were checked on the training input, and this view drops only columns that
    # blocking reads; a comparison reading one would fail the scoring SQL itself, not pass.
    scorer = Linker(
        db_api.register("splink_score"), settings, log_level=None, validate_settings=False
    )
    for column, frame in tf_tables.items():
        scorer.table_management.register_term_frequency_lookup(frame, column)
    return scorer


def _score_blocked_pairs(
    con: duckdb.DuckDBPyConnection,
    db_api: DuckDBAPI,
    blocking: list[PredictionRule],
    scorer: Linker,
    config: ResolutionConfig,
    fields: list[str],
    rule_counts: list[dict[str, Any]],
    timings: dict[str, float],
) -> int:
    """Block and score every pair into `predictions` (pairs at or above the lowest
    probability any output needs); returns the number of pairs scored.

    Chunks of the left-hand records: the pairs of all rules are de-duplicated with one
    group-by, which at national scale (~93 M pairs) does not fit in memory_limit in one go.
    Chunks are sized from the counted pairs of the rules (an upper bound: pairs found by
    several rules count once each). A pair is blocked and scored in its left record's chunk
    only, and its score does not depend on the other pairs, so the number of chunks changes
    the time, not one pair or probability."""
    floor = config.match_probability_threshold
    if config.keep_pairs_above is not None:
        floor = min(floor, config.keep_pairs_above)
    if config.link_floor is not None:
        floor = min(floor, config.link_floor)
    planned = sum(c["pairs"] for c in rule_counts if not c.get("skipped"))
    n_chunks = max(1, math.ceil(planned / config.pairs_per_chunk))
    timings["block_s"] = timings["score_s"] = 0.0
    n_scored = 0
    for i in range(1, n_chunks + 1):
        t = time.perf_counter()
        # the pairs Splink's blocking would write for this chunk (blocked_pairs_sql); a
        # temporary table, as Splink's scoring tables (_ScratchTablesDuckDBAPI): written once,
        # read once, dropped
        con.execute(
            "create or replace temp table _res_blocked_pairs as "
            + blocked_pairs_sql("splink_input", blocking, (i, n_chunks))
        )
        blocked = db_api.register("_res_blocked_pairs", table_name=f"_res_blocked_pairs_{i}")
        n_scored += con.execute("select count(*) from _res_blocked_pairs").fetchall()[0][0]
        timings["block_s"] += time.perf_counter() - t
        t = time.perf_counter()
        # the chunk's pairs scored by the scoring linker (Splink's documented way to score
        # blocked pairs computed elsewhere, chunk by chunk)
        scorer.table_management.register_blocked_pairs_for_predict(blocked)
        predictions = scorer.inference.predict(
            threshold_match_probability=floor, warning_mode="never"
        )
        available = set(con.table(predictions.physical_name).columns)
        select = f"""select unique_id_l, unique_id_r, match_probability, match_weight,
            {_field_weights_sql(fields, available)}
            from {predictions.physical_name}"""
        con.execute(
            f"create or replace table predictions as {select}"
            if i == 1
            else f"insert into predictions {select}"
        )
        # scored: free the chunk's pairs (tens of millions of rows at scale)
        predictions.drop_table_from_database_and_remove_from_cache()
        # (our table, registered: Splink drops it only when told it may)
        blocked.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
        timings["score_s"] += time.perf_counter() - t
    log.info(
        "resolution scored %d pairs in %d chunks (block %.1f s, score %.1f s)",
        n_scored,
        n_chunks,
        timings["block_s"],
        timings["score_s"],
    )
    return n_scored


# The hex digits of a person key: 48 bits, so that person_no (the same digits as a number) is a
# 64-bit integer with room to spare.
PERSON_KEY_HEX_DIGITS = 12


def assign_key_digits(con: duckdb.DuckDBPyConnection, digits: int) -> None:
    """`_res_person_keys` (cluster_id, key_hex): each person's key digits, the first `digits` of
    the md5 of its smallest mention id, unique across people.

    Two people's hashes share their first 12 digits about once in twelve national runs (~7 M
    people: n^2 / 2^49), and a shared key would merge them in every output. Of a clashing set,
    the person of the smallest mention id keeps the digits; each other takes the next `digits`
    of its own md5 (every key that does not clash stays as it was). A clash left after that
    (odds ~1e-8 nationally) stops the run rather than merge two people."""
    # a group-by per person, not a window over every node: one md5 per person
    con.execute(
        f"""create or replace table _res_person_keys as
        with firsts as (
            select c.cluster_id, min(n.first_mention_id) as first_mention_id
            from _res_clusters as c join nodes as n using (unique_id)
            group by c.cluster_id
        ),
        hashed as (
            select cluster_id, first_mention_id, md5(first_mention_id) as digest,
                substr(md5(first_mention_id), 1, {digits}) as key_hex
            from firsts
        ),
        clashing as (
            select key_hex, min(first_mention_id) as keeper
            from hashed group by key_hex having count(*) > 1
        )
        select h.cluster_id,
            case
                when c.keeper is null or h.first_mention_id = c.keeper then h.key_hex
                else substr(h.digest, {digits + 1}, {digits})
            end as key_hex
        from hashed as h left join clashing as c using (key_hex)"""
    )
    people, keys = con.execute(
        "select count(*), count(distinct key_hex) from _res_person_keys"
    ).fetchall()[0]
    if people != keys:
        raise RuntimeError(
            f"person resolution: {people - keys} people share a person key after the clash "
            "rule; the keys cannot be assigned uniquely"
        )


def _assign_person_keys(
    con: duckdb.DuckDBPyConnection, rule_join_probability: dict[str, float]
) -> None:
    """`clusters` (unique_id, person_key, person_no) and `cluster_min` (each person's weakest
    link and the rule joins among the links holding it; `rule_join_probability`:
    ResolutionConfig's), by person_no.

    person_key: a hash of the smallest mention id of the person (stable while that holds).
    person_no: the same 12 hex digits read as a number, one for one with person_key: the
    outputs group and join ~11 M mentions by person, and a 64-bit integer is cheaper to hash
    and compare than a 13-character string (DuckDB keeps strings of up to 12 inline)."""
    assign_key_digits(con, PERSON_KEY_HEX_DIGITS)
    con.execute(
        """create or replace table clusters as
        select c.unique_id, 'P' || k.key_hex as person_key, ('0x' || k.key_hex)::bigint as person_no
        from _res_clusters as c join _res_person_keys as k using (cluster_id)"""
    )
    # the weakest link each person rests on: the weakest edge (scored or nominal-id) of the
    # strongest links that hold its records together (`spanning_links`), and every rule join
    # (`_res_second_id_edges`: each joins two people no kept edge joined, so it always holds
    # the person) at the share of that rule's joins found right, its only probability; 1.0
    # for a person of one node. Without it a person held together by a rule alone printed
    # 1.0, the surest link there is, and was never flagged.
    rule_values = " union all ".join(
        [
            f"select '{rule}' as joined_by, {float(p)} as probability"
            for rule, p in sorted(rule_join_probability.items())
        ]
        or ["select null::varchar as joined_by, null::double as probability"]
    )
    spanning_links(con, "_res_edges_ok", "clusters")
    con.execute(
        f"""create or replace table cluster_min as
        with holding as (
            select unique_id_l, match_probability from _res_spanning_edges
            union all
            select e.unique_id_l, r.probability
            from _res_second_id_edges as e
            left join ({rule_values}) as r using (joined_by)
        ),
        weakest as (
            select cl.person_no, min(h.match_probability) as cluster_min_probability
            from holding as h join clusters as cl on h.unique_id_l = cl.unique_id
            group by cl.person_no
        ),
        -- the ordered aggregate over the rule joins alone (tens of thousands nationally), not
        -- every spanning edge: DuckDB buffers an ordered aggregate's rows without spilling
        rules as (
            select cl.person_no,
                string_agg(distinct e.joined_by, ',' order by e.joined_by) as cluster_rule_joins
            from _res_second_id_edges as e join clusters as cl on e.unique_id_l = cl.unique_id
            group by cl.person_no
        )
        select w.person_no, w.cluster_min_probability, r.cluster_rule_joins
        from weakest as w left join rules as r using (person_no)"""
    )
    # each person's number of mentions (cluster_size, and the run's person counts)
    con.execute(
        """create or replace table person_sizes as
        select c.person_no, count(*) as n_mentions
        from mentions_std as s join clusters as c using (unique_id)
        group by c.person_no"""
    )


def _carried_columns(has: set[str], wanted: tuple[str, ...] | None) -> list[str] | None:
    """The input columns `clusters` carries: those of `wanted` the input has (every one for
    None)."""
    if wanted is None:
        return None
    return [c for c in wanted if c in has]


def _clustered_mentions(
    con: duckdb.DuckDBPyConnection, output_format: str, columns: list[str] | None = None
) -> Any:
    """The input mentions (`columns` of them, or all) with their person_key, cluster size,
    node, weakest link and the rule joins holding their person (`cluster_rule_joins`:
    comma-separated, null for none)."""
    carried = "m.*, " if columns is None else "".join(f'm."{c}", ' for c in columns)
    return _fetch(
        con,
        # the size joined from person_sizes, not a window over these rows: a window carries
        # every input column through its partitioning (11.5 M wide rows at national scale)
        f"""select {carried}c.person_key, z.n_mentions as cluster_size,
            s.unique_id as node_id,
            coalesce(k.cluster_min_probability, 1.0) as cluster_min_probability,
            k.cluster_rule_joins
        from mentions_in as m
        join mentions_std as s on m.mention_id::varchar = s.mention_id
        join clusters as c on s.unique_id = c.unique_id
        join person_sizes as z on c.person_no = z.person_no
        left join cluster_min as k on c.person_no = k.person_no""",
        output_format,
    )


def _links_between_people(
    con: duckdb.DuckDBPyConnection, link_floor: float, output_format: str
) -> Any:
    """The best scored pair between every two different people at or above link_floor: how
    sure it is that they are different people."""
    return _fetch(
        con,
        f"""select least(cl.person_key, cr.person_key) as person_key_l,
            greatest(cl.person_key, cr.person_key) as person_key_r,
            max(p.match_probability) as match_probability
        from predictions as p
        join clusters as cl on p.unique_id_l = cl.unique_id
        join clusters as cr on p.unique_id_r = cr.unique_id
        where cl.person_no <> cr.person_no
            and p.match_probability >= {float(link_floor)}
        group by 1, 2
        order by 1, 2""",
        output_format,
    )


# Comparisons whose weights marts.person_match_evidence always holds (declared in
# _resolution__sources.yml; the subject pages print them).
EVIDENCE_FIELDS = (
    "forename",
    "surname",
    "dob",
    "postcode",
    "sex",
    "counterpart",
    "crime_role",
    "active",
    "nominal_id",
)


def _match_evidence(con: duckdb.DuckDBPyConnection, fields: list[str], output_format: str) -> Any:
    """Every edge kept inside a person with the weight each field gave it, and whether it is
    one of the links that hold the person's records together (`spanning_links`; the others
    only confirm joins already made by stronger links). A second-id join (`attach_second_ids`)
    is listed too, joined_by 'second_id', with no probability and no weights: it is a rule,
    not a score, and it holds the person together."""
    # The fields the evidence always carries a weight for (null when not compared: a delivery
    # where nobody has a postcode compares none), so its readers meet one shape.
    unweighed = [f for f in EVIDENCE_FIELDS if f not in fields]
    weight_cols = ", ".join(
        [f"p.mw_{f}" for f in fields] + [f"null::double as mw_{f}" for f in unweighed]
    )
    no_weights = ", ".join(f"null::double as mw_{f}" for f in [*fields, *unweighed])
    return _fetch(
        con,
        f"""with edges as (
            select e.unique_id_l, e.unique_id_r,
                case when e.is_nominal then 'nominal_id' else 'splink' end as joined_by,
                e.match_probability, p.match_weight, s.unique_id_l is not null as holds_person,
                {weight_cols}
            from _res_edges_ok as e
            left join predictions as p
                on e.unique_id_l = p.unique_id_l and e.unique_id_r = p.unique_id_r
            left join _res_spanning_edges as s
                on least(e.unique_id_l, e.unique_id_r) = s.unique_id_l
                and greatest(e.unique_id_l, e.unique_id_r) = s.unique_id_r
            union all
            select unique_id_l, unique_id_r, joined_by, null::double, null::double, true,
                {no_weights}
            from _res_second_id_edges
        )
        select cl.person_key, nl.first_mention_id as mention_id_l,
            nr.first_mention_id as mention_id_r, e.* exclude (unique_id_l, unique_id_r)
        from edges as e
        join clusters as cl on e.unique_id_l = cl.unique_id
        join clusters as cr on e.unique_id_r = cr.unique_id and cl.person_no = cr.person_no
        join nodes as nl on e.unique_id_l = nl.unique_id
        join nodes as nr on e.unique_id_r = nr.unique_id
        order by 1, 2, 3""",
        output_format,
    )


# dim_persons attributes: (output column, expression on the joined mentions)
PERSON_ATTRIBUTES = (
    ("forename", "forename_raw"),
    ("surname", "surname_raw"),
    ("date_of_birth", "dob"),
    ("sex", "sex_std"),
    ("postcode", "postcode_std"),
)


def _persons(con: duckdb.DuckDBPyConnection, output_format: str) -> Any:
    """One row per person: for each attribute the value most of its records hold; a tie goes
    to the value on the most recently dated record (the latest recorded detail), then to the
    smallest value (earliest date, alphabetical), so the same input always gives the same
    row (`mode()` picks either of two tied values from run to run). Also the number of
    records (mentions) and the sources they come from.

    Most people are one record (~4.6 of ~6.9 M nationally): their row is that record's values
    as they stand, so only the people of two or more records go through the group-bys."""
    picks = []
    for column, expr in PERSON_ATTRIBUTES:
        picks.append(
            f"""{column}_counts as (
            select person_no, {expr} as value, count(*) as n, max(event_date) as latest
            from j where n_mentions > 1 and {expr} is not null group by person_no, {expr}
        ),
        {column}_pick as (
            -- the first value in the order (n desc, latest desc nulls last, value): the
            -- smallest sort key of the three (value breaks every tie). A plain aggregate,
            -- neither an ordered aggregate (its buffers cannot spill: 11 M mentions ran out
            -- of memory_limit) nor a window (a sort of every person's values per attribute)
            select person_no,
                arg_min(value, create_sort_key(n, 'DESC NULLS LAST', latest, 'DESC NULLS LAST',
                    value, 'ASC NULLS LAST')) as {column}
            from {column}_counts
            group by person_no
        )"""
        )
    joins = "\n".join(f"left join {c}_pick using (person_no)" for c, _ in PERSON_ATTRIBUTES)
    columns = ", ".join(c for c, _ in PERSON_ATTRIBUTES)
    # a person of one record: each attribute is the record's own (null stays null, as no
    # value to pick), and its counts and dates are those of the one record
    single_columns = ", ".join(f"{expr} as {column}" for column, expr in PERSON_ATTRIBUTES)
    return _fetch(
        con,
        f"""
        with j as (
            -- only the columns read below: DuckDB materialises a CTE read six times whole
            -- (11.5 M rows at national scale); the standardised event date, as before
            select c.person_no, c.person_key, z.n_mentions, s.forename_raw, s.surname_raw,
                s.dob, s.sex_std, s.postcode_std, s.person_id, s.event_date, s.source
            from mentions_std as s
            join clusters as c using (unique_id)
            join person_sizes as z using (person_no)
        ),
        {", ".join(picks)},
        counted as (
            -- distinct values as lists, not count(distinct ...) and string_agg(distinct ...
            -- order by ...): DuckDB gives each distinct aggregate its own hash table joined
            -- back, and an ordered aggregate buffers its rows (the costliest step of this
            -- query at national scale); a person's records are few, so are its lists
            select
                person_no,
                any_value(person_key) as person_key,
                count(*) as n_records,
                len(list_distinct(list(person_id))) as n_person_ids,
                array_to_string(
                    list_sort(list_distinct(list(source) filter (where source is not null))), ','
                ) as sources,
                min(event_date) as first_seen,
                max(event_date) as last_seen
            from j
            where n_mentions > 1
            group by person_no
        )
        select person_key, {columns}, n_records, n_person_ids, sources, first_seen, last_seen
        from counted
        {joins}
        union all
        select person_key, {single_columns}, 1::bigint as n_records,
            (person_id is not null)::bigint as n_person_ids, source::varchar as sources,
            event_date as first_seen, event_date as last_seen
        from j
        where n_mentions = 1
        """,
        output_format,
    )
