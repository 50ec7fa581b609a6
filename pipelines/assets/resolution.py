"""Person resolution asset: int_person_mentions -> marts.person_records, marts.dim_persons.

Wiring only: the logic is pipelines.resolution.resolve_mentions (Splink). Also writes the
restricted match evidence (marts.person_match_evidence) and the restricted diagnostics page
(OUT/YYYY-Qn/restricted/resolution_diagnostics.html).
"""

import time
from collections.abc import Iterator

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.partitions import quarterly_partitions
from pipelines.resolution import ResolutionConfig, resolve_mentions
from pipelines.resolution.diagnostics import write_diagnostics
from pipelines.resources import ProfileRun
from pipelines.settings import load_settings

MENTIONS = dg.AssetKey(["intermediate", "int_person_mentions"])
PERSON_RECORDS = dg.AssetKey(["marts", "person_records"])
DIM_PERSONS = dg.AssetKey(["marts", "dim_persons"])
PERSON_LINKS = dg.AssetKey(["marts", "person_links"])

PERSON_RECORDS_SQL = """
create or replace table marts.person_records as
select
    source::varchar as source,
    record_key::varchar as record_key,
    person_id::varchar as person_id,
    person_key::varchar as person_key,
    role::varchar as role,
    role_side::varchar as role_side,
    crime_id::varchar as crime_id,
    event_key::varchar as event_key,
    event_date::date as event_date,
    cluster_size::integer as cluster_size,
    cluster_min_probability::double as cluster_min_probability
from _res_records
order by source, record_key
"""

DIM_PERSONS_SQL = """
create or replace table marts.dim_persons as
select
    person_key::varchar as person_key,
    forename::varchar as forename,
    surname::varchar as surname,
    date_of_birth::date as date_of_birth,
    sex::varchar as sex,
    postcode::varchar as postcode,
    n_records::integer as n_records,
    n_person_ids::integer as n_person_ids,
    sources::varchar as sources,
    first_seen::date as first_seen,
    last_seen::date as last_seen
from _res_persons
order by person_key
"""

# Best match probability between two different resolved people (at or above the link floor):
# how sure it is that they are different (the serial judgment counts victims as distinct only
# below perpetrators.distinct_victim_max_link_probability).
LINKS_SQL = """
create or replace table marts.person_links as
select
    person_key_l::varchar as person_key_l,
    person_key_r::varchar as person_key_r,
    match_probability::double as match_probability
from _res_links
order by person_key_l, person_key_r
"""

# Restricted (OFFICIAL-SENSITIVE): which records were joined and the match weight (log2 Bayes
# factor) each field contributed; mention ids are source:record_key.
EVIDENCE_SQL = """
create or replace table marts.person_match_evidence as
select * from _res_evidence
order by person_key, mention_id_l, mention_id_r
"""
EVIDENCE_COMMENT = (
    "comment on table marts.person_match_evidence is 'RESTRICTED (OFFICIAL-SENSITIVE): "
    "evidence joining the records of each resolved person, match weight per field'"
)


@dg.multi_asset(
    outs={
        "person_records": dg.AssetOut(
            key=PERSON_RECORDS,
            description="One row per person mention with its resolved person_key (Splink).",
            kinds={"duckdb", "python"},
        ),
        "dim_persons": dg.AssetOut(
            key=DIM_PERSONS,
            description="One row per resolved person: best name, dob, sex, postcode, records.",
            kinds={"duckdb", "python"},
        ),
        "person_links": dg.AssetOut(
            key=PERSON_LINKS,
            description="Best match probability between two different resolved people.",
            kinds={"duckdb", "python"},
        ),
    },
    deps=[MENTIONS],
    group_name="resolution",
    partitions_def=quarterly_partitions,
    can_subset=False,
)
def person_resolution(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, profile_run: ProfileRun
) -> Iterator[dg.MaterializeResult]:
    all_settings = load_settings()
    settings = all_settings.resolution
    config = ResolutionConfig(
        match_probability_threshold=settings.match_probability_threshold,
        dob_conflict_years=settings.dob_conflict_years,
        link_floor=all_settings.perpetrators.distinct_victim_max_link_probability,
        # columnar outputs: millions of mentions at national scale
        output_format="arrow",
    )
    started = time.perf_counter()
    with duckdb.get_connection() as con:
        mentions = con.sql("select * from intermediate.int_person_mentions").to_arrow_table()
    result = resolve_mentions(mentions, config)
    with duckdb.get_connection() as con:
        con.execute("create schema if not exists marts")
        con.register("_res_records", result.clusters)
        con.register("_res_persons", result.persons)
        con.register("_res_evidence", result.evidence)
        con.register("_res_links", result.links)
        con.execute(PERSON_RECORDS_SQL)
        con.execute(DIM_PERSONS_SQL)
        con.execute(EVIDENCE_SQL)
        con.execute(EVIDENCE_COMMENT)
        con.execute(LINKS_SQL)
        for name in ("_res_records", "_res_persons", "_res_evidence", "_res_links"):
            con.unregister(name)
    restricted = profile_run.quarter_dir(context.partition_key) / "restricted"
    diagnostics = write_diagnostics(
        result.model,
        result.stats,
        config.match_probability_threshold,
        restricted / "resolution_diagnostics.html",
    )
    stats = result.stats
    seconds = round(time.perf_counter() - started, 2)
    common = {
        "mentions": stats["mentions"],
        "persons": stats["persons"],
        "multi_record_persons": stats["multi_record_persons"],
        "comparisons_scored": stats["comparisons_scored"],
        "seconds": seconds,
    }
    yield dg.MaterializeResult(
        asset_key=PERSON_RECORDS,
        metadata={
            **common,
            "evidence_edges": len(result.evidence),
            "edges_dropped_same_incident": stats["clustering"]["edges_dropped_same_incident"],
            "components_reclustered": stats["clustering"]["components_reclustered"],
            "diagnostics": dg.MetadataValue.path(str(diagnostics)),
        },
    )
    yield dg.MaterializeResult(asset_key=DIM_PERSONS, metadata=common)
    yield dg.MaterializeResult(asset_key=PERSON_LINKS, metadata={"links": len(result.links)})
