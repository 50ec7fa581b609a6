"""Person resolution asset: int_person_mentions -> marts.person_records, marts.dim_persons.

Wiring only: the logic is pipelines.resolution.resolve_mentions (Splink). Also writes the
restricted match evidence (marts.person_match_evidence) and the trained model
(marts.resolution_model), from which the publish stage writes the restricted diagnostics page.
The tables' columns are declared once, as dbt sources (pipelines/warehouse_tables.py).
"""

import time
from collections.abc import Iterator

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.partitions import quarterly_partitions
from pipelines.resources import ProfileRun, release_warehouse
from pipelines.warehouse_tables import replace_table, table_spec

MENTIONS = dg.AssetKey(["intermediate", "int_person_mentions"])
PERSON_RECORDS = dg.AssetKey(["marts", "person_records"])
DIM_PERSONS = dg.AssetKey(["marts", "dim_persons"])
PERSON_LINKS = dg.AssetKey(["marts", "person_links"])

RESOLUTION_MODEL = dg.AssetKey(["marts", "resolution_model"])


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
        "resolution_model": dg.AssetOut(
            key=RESOLUTION_MODEL,
            description="The run's trained Splink model and its statistics (counts only), "
            "read by the restricted diagnostics page.",
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
    # Imported here (Splink): loading the code location does not pay for it.
    from pipelines.resolution import ResolutionConfig, mentions_input, resolve_mentions
    from pipelines.resolution.diagnostics import model_summary

    all_settings = profile_run.settings()
    settings = all_settings.resolution
    config = ResolutionConfig(
        match_probability_threshold=settings.match_probability_threshold,
        dob_conflict_years=settings.dob_conflict_years,
        second_id_max_gap_days=settings.second_id_max_gap_days,
        rule_join_probability=settings.rule_joins.probabilities(),
        link_floor=all_settings.perpetrators.distinct_victim_max_link_probability,
        placeholder_dates_of_birth=tuple(all_settings.persons.placeholder_dates_of_birth),
        # columnar outputs: millions of mentions at national scale
        output_format="arrow",
        # the input columns person_records stores (the mentions' names and dates of birth are
        # not read back from the input at all)
        clusters_columns=tuple(table_spec("marts.person_records").column_names),
    )
    started = time.perf_counter()
    with duckdb.get_connection() as con:
        mentions = mentions_input(con, duckdb.database, config)
    # The run's peak memory is here (Splink): the warehouse's pages just read are not kept
    # beside it (the database the Python steps share is closed until the writes below), and
    # resolution reads a large input in place from the file (opened read-only).
    release_warehouse(duckdb)
    result = resolve_mentions(mentions, config)
    with duckdb.get_connection() as con:
        # The clusters frame carries only person_records' input columns (clusters_columns)
        # and resolution's own working ones (the node): the table keeps the declared ones.
        replace_table(con, "marts.person_records", result.clusters, keep_declared_only=True)
        replace_table(con, "marts.dim_persons", result.persons)
        replace_table(con, "marts.person_match_evidence", result.evidence)
        replace_table(con, "marts.person_links", result.links)
        replace_table(
            con,
            "marts.resolution_model",
            model_summary(result.model, result.stats, config.match_probability_threshold),
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
        },
    )
    yield dg.MaterializeResult(asset_key=DIM_PERSONS, metadata=common)
    yield dg.MaterializeResult(asset_key=PERSON_LINKS, metadata={"links": len(result.links)})
    yield dg.MaterializeResult(asset_key=RESOLUTION_MODEL)
