"""Ingest assets: one per extract, keyed ["raw", <table>] to meet the dbt sources.

Wiring only; the work is in pipelines.contracts. The assets run in dependency order because
the contracts cross extracts: crimes first (crime_persons, intelligence and orders are checked
against the loaded crimes), then orders before breaches. The crimes asset checks the structure
of the whole delivery (all five files) before anything is written.

Each asset reconciles (read = loaded + quarantined; a mismatch fails the run), records the
counts as metadata and in raw.load_log (the publish stage writes data_quality.json from it),
and reports the reconciliation as an asset check. A second asset check per table runs the
contract suite with Great Expectations on what was loaded; the five run in one step
(`raw__contract_checks`), so that each batch is built while GX checks the one before.
"""

import functools
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.contracts import geo
from pipelines.contracts.gx_checks import start_warm_up, submit_suite
from pipelines.contracts.loader import (
    LoadResult,
    apply_memory_limit,
    load_extract,
    offence_codes,
    record_accepted_overrides,
)
from pipelines.contracts.schema import EXTRACTS
from pipelines.contracts.structure import check_delivery, inspect_extract
from pipelines.contracts.thresholds import QuarantineLimits, enforce_limits
from pipelines.dbt_project import start_warm_up as start_dbt_warm_up
from pipelines.partitions import quarterly_partitions
from pipelines.resources import ProfileRun
from pipelines.settings import dbt_vars

# Validation order: each extract after the ones its contract reads.
UPSTREAM: dict[str, list[str]] = {
    "crimes": [],
    "crime_persons": ["crimes"],
    "intelligence": ["crimes"],
    "orders": ["crimes"],
    "breaches": ["orders"],
}
RECONCILES_CHECK = "reconciles"
CONTRACT_CHECK = "contract"


def _force_area(profile_run: ProfileRun) -> geo.ForceArea:
    extracts_dir = Path(profile_run.extracts_dir)
    configured = profile_run.settings().force.area_geojson
    _, path = geo.force_area_file(extracts_dir, configured)
    stat = path.stat() if path is not None and path.exists() else None
    version = (stat.st_ino, stat.st_size, stat.st_mtime_ns) if stat else None
    return _read_force_area(extracts_dir, configured, version)


@functools.lru_cache(maxsize=4)
def _read_force_area(
    extracts_dir: Path, configured: str, version: tuple[int, int, int] | None
) -> geo.ForceArea:
    """The force area, parsed once per file version (ten steps of a run use it; a large
    force's boundary takes ~35 ms to parse and prepare)."""
    return geo.resolve_force_area(extracts_dir, configured)


def _metadata(result: LoadResult) -> dict[str, object]:
    # Counts, timings and paths only: nothing personal.
    metadata: dict[str, object] = {
        "rows_read": result.read,
        "rows_loaded": result.loaded,
        "rows_quarantined": result.quarantined,
        "quarantined_by_rule": dg.MetadataValue.json(result.by_rule),
        "reconciles": result.reconciles,
        "file": dg.MetadataValue.path(result.file),
        "format": result.format,
        "extra_columns_ignored": len(result.extra_columns),
        "seconds": round(result.seconds, 3),
        "rows_per_second": round(result.read / result.seconds) if result.seconds else 0,
    }
    if result.unlinked:
        metadata["unlinked_soft_links"] = dg.MetadataValue.json(result.unlinked)
    if result.force_area:
        metadata["force_area"] = result.force_area
    return metadata


def _ingest_asset(extract: str) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", extract])

    @dg.asset(
        key=key,
        group_name="ingest",
        partitions_def=quarterly_partitions,
        deps=[dg.AssetKey(["raw", parent]) for parent in UPSTREAM[extract]],
        description=(
            f"The {extract} extract, validated against data_contracts/{extract}.json: good rows "
            f"in raw.{extract}, the rest in raw.quarantine, counts in raw.load_log."
        ),
        kinds={"duckdb"},
        check_specs=[
            dg.AssetCheckSpec(
                RECONCILES_CHECK,
                asset=key,
                description="Rows read = rows loaded + rows quarantined.",
            )
        ],
    )
    def _asset(
        context: dg.AssetExecutionContext, duckdb: DuckDBResource, profile_run: ProfileRun
    ) -> dg.MaterializeResult:
        if not UPSTREAM[extract]:
            # While the extracts load (DuckDB, outside the GIL): the contract checks' engine is
            # imported (see gx_checks) and dbt's parsed project loaded for the dbt steps.
            start_warm_up(EXTRACTS)
            start_dbt_warm_up(dbt_vars(profile_run.settings()))
        extracts_dir = Path(profile_run.extracts_dir)
        area = _force_area(profile_run)
        with duckdb.get_connection() as con:
            apply_memory_limit(con, profile_run.settings().ingest.duckdb_memory_limit)
            if not UPSTREAM[extract]:
                # The root of the ingest graph: the whole delivery's structure, before any write.
                sources = check_delivery(con, extracts_dir)
                context.log.info(f"delivery structure checked: {len(sources)} files")
                context.log.info(area.description)
            source = inspect_extract(extracts_dir, extract)
            result = load_extract(
                con,
                extracts_dir,
                extract,
                today=profile_run.today(),
                run_id=context.run_id,
                partition_key=context.partition_key,
                area=area,
                codes=offence_codes(),
                source=source,
                earliest=profile_run.settings().ingest.earliest_plausible_date,
            )
            over_limit = enforce_limits(
                con,
                result,
                QuarantineLimits.from_settings(profile_run.settings().ingest),
                accept=profile_run.accept_quarantine,
            )
            record_accepted_overrides(con, extract, over_limit)
            # The contract check's batch, loaded: in a `spp profile` run, GX checks it in its
            # own process while the next extracts load (the contract-check step collects it).
            submit_suite(
                con,
                extract,
                profile_run.today(),
                area,
                max_rows=profile_run.settings().ingest.contract_check_max_rows,
                earliest=profile_run.settings().ingest.earliest_plausible_date,
            )
        result.over_limit_accepted = over_limit
        for line in over_limit:
            context.log.warning(f"accepted by --accept-quarantine: {line}")
        context.log.info(
            f"{extract}: read {result.read} = loaded {result.loaded} + quarantined "
            f"{result.quarantined} ({result.seconds:.1f}s)"
        )
        metadata = _metadata(result)
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[
                dg.AssetCheckResult(
                    check_name=RECONCILES_CHECK,
                    passed=result.reconciles,
                    metadata={
                        "rows_read": result.read,
                        "rows_loaded": result.loaded,
                        "rows_quarantined": result.quarantined,
                    },
                )
            ],
        )

    return _asset


@dg.multi_asset_check(
    # Named like the ingest steps ("raw__<extract>"): the benchmark counts it in the ingest.
    name="raw__contract_checks",
    specs=[
        dg.AssetCheckSpec(
            CONTRACT_CHECK,
            asset=dg.AssetKey(["raw", extract]),
            description=(
                f"Great Expectations runs data_contracts/{extract}.json on the loaded "
                f"raw.{extract}."
            ),
            blocking=False,
            # After every extract is loaded, and before the dbt steps (which would compete
            # for the GIL): the loading hides GX's import (gx_checks.start_warm_up).
            additional_deps=[dg.AssetKey(["raw", other]) for other in EXTRACTS if other != extract],
        )
        for extract in EXTRACTS
    ],
    # One step for the five suites. In a `spp profile` run GX has checked each batch in its
    # own process as its extract loaded (gx_checks.submit_suite); the step collects the
    # outcomes. Otherwise each batch is built here while GX checks the one before
    # (gx_checks.run_suites).
    can_subset=True,
    op_tags={"dagster/priority": "1"},
)
def contract_checks(
    context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource, profile_run: ProfileRun
) -> Iterator[dg.AssetCheckResult]:
    from pipelines.contracts.gx_checks import record_outcome, run_suites

    selected = {key.asset_key.path[-1] for key in context.selected_asset_check_keys}
    extracts = [extract for extract in EXTRACTS if extract in selected]
    with duckdb.get_connection() as con:
        outcomes = run_suites(
            con,
            extracts,
            profile_run.today(),
            _force_area(profile_run),
            max_rows=profile_run.settings().ingest.contract_check_max_rows,
            earliest=profile_run.settings().ingest.earliest_plausible_date,
        )
        for outcome in outcomes.values():
            record_outcome(con, outcome, context.run.run_id)
    for extract, outcome in outcomes.items():
        metadata: dict[str, object] = {
            "rows": outcome.rows_in_table,
            "rows_checked": outcome.rows,
            "sampled": outcome.rows < outcome.rows_in_table,
        }
        for item in outcome.outcomes:
            label = f"{item.number:02d} {item.rule} ({item.column})"
            metadata[label] = item.unexpected_count
        failed = outcome.critical_failures or outcome.warnings
        context.log.info(
            f"{extract}: {len(outcome.outcomes)} expectations, "
            f"{len(outcome.critical_failures)} failed, {len(outcome.warnings)} warnings"
        )
        yield dg.AssetCheckResult(
            asset_key=dg.AssetKey(["raw", extract]),
            check_name=CONTRACT_CHECK,
            passed=not failed,
            # Only soft-link warnings failing (unlinked crime ids) is a warning, not an error.
            severity=(
                dg.AssetCheckSeverity.WARN
                if failed and not outcome.critical_failures
                else dg.AssetCheckSeverity.ERROR
            ),
            metadata=metadata,
        )


ingest_assets = [_ingest_asset(name) for name in EXTRACTS]
ingest_checks = [contract_checks]
