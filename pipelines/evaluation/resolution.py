"""Person resolution accuracy and speed: `python -m pipelines.evaluation.resolution`.

Runs the production function `pipelines.resolution.resolve_mentions` on
- the synthetic force (`force` preset by default): mentions are built from the generated
  extracts by the same ingest + dbt staging models that production runs (Dagster is not
  needed for that: `build_mentions_warehouse` loads the extracts and runs `dbt build` for
  the `before_resolution` selection into a scratch warehouse), scored against
  truth/person_mentions.csv;
- the public de-duplication benchmarks in ../shared/data/dedup (FEBRL dataset3 and
  fake_20000), through a thin adapter mapping their columns onto the mention columns.

Writes docs/evaluation/resolution.json and .md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import psutil

from pipelines.evaluation.bench_analysis import NOTES_MARKER, existing_notes
from pipelines.paths import SHARED_DATA_DIR
from pipelines.resolution import ResolutionConfig, WarehouseTable, resolve_mentions
from pipelines.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
# SPP_SHARED_DATA moves it, like every other reader of the shared data
DEDUP_DIR = SHARED_DATA_DIR / "dedup"
OUT_DIR = ROOT / "docs" / "evaluation"


# ---------------------------------------------------------------- metrics
def pairwise_metrics(predicted: pd.Series, truth: pd.Series) -> dict[str, Any]:
    """Pairwise precision/recall/F1 of a clustering against true ids (same index), plus how
    many true people were split over several keys and how many keys hold several people."""
    frame = pd.DataFrame({"p": predicted.to_numpy(), "t": truth.to_numpy()})

    def pairs(counts: pd.Series) -> int:
        return int((counts * (counts - 1) // 2).sum())

    predicted_pairs = pairs(frame.groupby("p").size())
    true_pairs = pairs(frame.groupby("t").size())
    both = pairs(frame.groupby(["p", "t"]).size())
    precision = both / predicted_pairs if predicted_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    keys_per_true = frame.groupby("t")["p"].nunique()
    true_per_key = frame.groupby("p")["t"].nunique()
    return {
        "records": len(frame),
        "true_people": int(frame["t"].nunique()),
        "resolved_people": int(frame["p"].nunique()),
        "true_pairs": true_pairs,
        "predicted_pairs": predicted_pairs,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "true_people_split": int((keys_per_true > 1).sum()),
        "resolved_people_merging_several": int((true_per_key > 1).sum()),
        "true_people_wrongly_merged": int(
            frame[frame["p"].isin(true_per_key[true_per_key > 1].index)]["t"].nunique()
        ),
    }


# how the tasking pack's "weakest link" is read: bands a chair would treat alike
LINK_BANDS = ((0.0, 0.6), (0.6, 0.8), (0.8, 0.95), (0.95, 1.01))
DOUBTFUL_LINK = 0.8


def link_confidence(persons: pd.DataFrame) -> dict[str, Any]:
    """Does the weakest link printed for a person warn of a wrong join? `persons`: one row per
    resolved person of two or more records, with `weakest_spanning` (what the pipeline prints:
    the weakest of the links holding its records together), `weakest_any` (the weakest of all
    its kept links, the earlier definition) and `impure` (its records are of two or more true
    people). For each: ROC AUC of the weakness as a predictor of impurity, and by band the
    persons and the share of them impure."""
    from sklearn.metrics import roc_auc_score

    impure = persons["impure"].astype(bool)
    out: dict[str, Any] = {"persons": len(persons), "impure": int(impure.sum())}
    for measure in ("weakest_spanning", "weakest_any"):
        value = persons[measure].astype(float)
        doubtful = value < DOUBTFUL_LINK
        out[measure] = {
            "roc_auc": round(float(roc_auc_score(impure, -value)), 4)
            if 0 < impure.sum() < len(persons)
            else None,
            "doubtful": int(doubtful.sum()),
            "doubtful_impure": int((doubtful & impure).sum()),
            "bands": [
                {
                    "band": f"{lo:g}-{min(hi, 1.0):g}",
                    "persons": int(band.sum()),
                    "impure": int((band & impure).sum()),
                }
                for lo, hi in LINK_BANDS
                for band in [(value >= lo) & (value < hi)]
            ],
        }
    return out


# ---------------------------------------------------------------- benchmark adapters
def febrl_mentions(path: Path) -> tuple[pd.DataFrame, pd.Series]:
    raw = pd.read_csv(path, skipinitialspace=True, dtype=str)
    dob = pd.to_datetime(raw["date_of_birth"], format="%Y%m%d", errors="coerce").dt.date
    address = (raw["street_number"].fillna("") + " " + raw["address_1"].fillna("")).str.strip()
    mentions = pd.DataFrame(
        {
            "mention_id": raw["rec_id"],
            "person_id": None,
            "forename": raw["given_name"],
            "surname": raw["surname"],
            "date_of_birth": dob,
            "postcode": raw["postcode"],
            "address": address.where(address != "", None),
        }
    )
    truth = raw["rec_id"].str.extract(r"rec-(\d+)-")[0]
    return mentions, truth


def fake_mentions(path: Path) -> tuple[pd.DataFrame, pd.Series]:
    raw = pd.read_csv(path, dtype=str)
    mentions = pd.DataFrame(
        {
            "mention_id": raw["unique_id"],
            "person_id": None,
            "forename": raw["first_name"],
            "surname": raw["surname"],
            "date_of_birth": pd.to_datetime(raw["dob"], errors="coerce").dt.date,
            # the file's only location is a town: compared as an address line (exact with a
            # term-frequency adjustment, or close in spelling), and given to plain Splink as
            # `city`, the Splink tutorial's comparison for it
            "address": raw["city"],
            "city": raw["city"],
            "email": raw["email"],
        }
    )
    truth_col = "group" if "group" in raw.columns else "cluster"
    return mentions, raw[truth_col]


def evaluate_benchmark(
    name: str, mentions: pd.DataFrame, truth: pd.Series, cfg: ResolutionConfig
) -> dict[str, Any]:
    started = time.perf_counter()
    result = resolve_mentions(mentions, cfg)
    seconds = time.perf_counter() - started
    keyed = result.clusters.set_index("mention_id")["person_key"]
    truth = pd.Series(truth.to_numpy(), index=mentions["mention_id"])
    metrics = pairwise_metrics(keyed.loc[truth.index], truth)
    return {
        "dataset": name,
        **metrics,
        "link_confidence": link_confidence(_benchmark_persons(result, truth)),
        "seconds": round(seconds, 2),
        "records_per_second": round(len(mentions) / seconds, 1),
        "comparisons_scored": result.stats["comparisons_scored"],
        "blocking_rules": result.stats["blocking_rules"],
        "training": result.stats["training"],
    }


def _benchmark_persons(result: Any, truth: pd.Series) -> pd.DataFrame:
    """`link_confidence`'s input for a benchmark resolved in memory."""
    clusters = result.clusters.assign(true_id=result.clusters["mention_id"].map(truth))
    return _persons_with_links(clusters, result.evidence)


def _persons_with_links(clusters: Any, evidence: Any) -> pd.DataFrame:
    """Per person of 2+ records: its printed weakest link, its weakest kept link and whether
    its records are of several true people (clusters: person_key, cluster_min_probability,
    true_id; evidence: person_key, joined_by, match_probability)."""
    with duckdb.connect() as con:
        con.register("clusters", clusters)
        con.register("evidence", evidence)
        return con.execute(
            """with per as (
                select person_key, any_value(cluster_min_probability) as weakest_spanning,
                    count(distinct true_id) > 1 as impure
                from clusters group by person_key having count(*) > 1
            ),
            links as (
                select person_key, min(match_probability) as weakest_any
                from evidence where joined_by <> 'second_id' group by person_key
            )
            select per.person_key, per.weakest_spanning,
                coalesce(links.weakest_any, 1.0) as weakest_any, per.impure
            from per left join links using (person_key)
            order by per.person_key"""
        ).df()


# ---------------------------------------------------------------- synthetic force
def _load_raw(extracts_dir: Path, con: duckdb.DuckDBPyConnection) -> None:
    """Typed raw tables straight from the extracts (evaluation only: production loads them
    through the contract checks of pipelines.contracts, which quarantine bad rows)."""
    from pipelines.contracts.schema import DUCKDB_TYPES, EXTRACTS

    con.execute("create schema if not exists raw")
    for name, extract in EXTRACTS.items():
        csv, parquet = extracts_dir / f"{name}.csv", extracts_dir / f"{name}.parquet"
        reader = (
            f"read_csv('{csv}', all_varchar=true, header=true)"
            if csv.exists()
            else f"(select * from read_parquet('{parquet}'))"
        )
        casts = ", ".join(
            f"try_cast(nullif({c.name}::varchar, '') as {DUCKDB_TYPES[c.type]}) as {c.name}"
            if c.type != "bool"
            else f"case when lower({c.name}::varchar) in ('true','y','1') then true "
            f"when lower({c.name}::varchar) in ('false','n','0') then false end as {c.name}"
            for c in extract.columns
        )
        # Duplicate keys: the first occurrence is loaded, as the contract loader does.
        dedupe = (
            f"qualify row_number() over (partition by {extract.key} order by _source_row) = 1"
            if extract.key
            else ""
        )
        con.execute(
            f"create or replace table raw.{name} as select * from (select {casts}, "
            f"row_number() over () as _source_row from {reader}) {dedupe}"
        )


def build_mentions_warehouse(extracts_dir: Path, warehouse: Path) -> None:
    """Raw tables + `dbt run` of int_person_mentions and its parents (the staging views):
    the exact table the production resolution asset reads. (dbt tests are not run here.)"""
    from pipelines.dbt_project import run_dbt
    from pipelines.settings import dbt_vars

    warehouse.unlink(missing_ok=True)
    memory_limit = os.environ.get("SPP_DUCKDB_MEMORY_LIMIT", "4GB")
    temp_dir = f"{warehouse}.tmp"
    with duckdb.connect(
        str(warehouse), config={"memory_limit": memory_limit, "temp_directory": temp_dir}
    ) as con:
        # bounded memory, spilling to disk: the national preset has gigabytes of extracts
        _load_raw(extracts_dir, con)
    variables = dbt_vars(load_settings(), profile_quarter="2024-Q1")
    run_dbt(
        "run",
        "--quiet",
        "--select",
        "+int_person_mentions",
        warehouse=warehouse,
        variables=variables,
        target="dev",
    )


def read_mentions(warehouse: Path) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select * from intermediate.int_person_mentions where mention_id is not null"
        ).df()


SWEEP_KEYS = ("precision", "recall", "f1", "true_people_split", "true_people_wrongly_merged")

METRICS_SQL = """
with f as (select p, t from scored),
pairs_p as (select count(*) as n from f group by p),
pairs_t as (select count(*) as n from f group by t),
pairs_b as (select count(*) as n from f group by p, t),
keys_per_true as (select t from f group by t having count(distinct p) > 1),
merging as (select p from f group by p having count(distinct t) > 1)
select
    (select count(*) from f),
    (select count(distinct t) from f),
    (select count(distinct p) from f),
    (select coalesce(sum(n * (n - 1) // 2), 0) from pairs_t),
    (select coalesce(sum(n * (n - 1) // 2), 0) from pairs_p),
    (select coalesce(sum(n * (n - 1) // 2), 0) from pairs_b),
    (select count(*) from keys_per_true),
    (select count(*) from merging),
    (select count(distinct t) from f semi join merging using (p))
"""


def pairwise_metrics_duckdb(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """`pairwise_metrics` in DuckDB over a table or view `scored` (p: predicted key, t: true
    id), for millions of mentions."""
    records, true_people, resolved, true_pairs, predicted_pairs, both, split, merging, merged = (
        int(v) for v in con.execute(METRICS_SQL).fetchall()[0]
    )
    precision = both / predicted_pairs if predicted_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "records": records,
        "true_people": true_people,
        "resolved_people": resolved,
        "true_pairs": true_pairs,
        "predicted_pairs": predicted_pairs,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "true_people_split": split,
        "resolved_people_merging_several": merging,
        "true_people_wrongly_merged": merged,
    }


def score_against_truth(clusters: Any, truth_csv: Path) -> dict[str, Any]:
    """Pairwise metrics of resolved person keys (an Arrow table or DataFrame with source,
    record_key, person_key) against truth/person_mentions.csv, in DuckDB."""
    with duckdb.connect(config={"memory_limit": "2GB"}) as con:
        con.register("clusters", clusters)
        con.execute(
            f"""create view scored as
            select c.person_key as p, t.true_person_id as t
            from clusters as c
            join read_csv('{truth_csv}', all_varchar=true, header=true) as t
                on c.source = t.source and c.record_key = t.record_key"""
        )
        return pairwise_metrics_duckdb(con)


class PeakRss:
    """Peak resident memory of this process and its children, sampled every 0.2 s."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            try:
                rss = me.memory_info().rss + sum(
                    c.memory_info().rss for c in me.children(recursive=True)
                )
            except psutil.Error:
                rss = 0
            self.peak = max(self.peak, rss)
            self._stop.wait(0.2)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _synthetic_persons(result: Any, truth_csv: Path) -> pd.DataFrame:
    """`link_confidence`'s input for the synthetic force (Arrow outputs, truth on disk)."""
    with duckdb.connect() as con:
        con.register("resolved", result.clusters)
        clusters = con.sql(
            f"""select r.person_key, r.cluster_min_probability, t.true_person_id as true_id
            from resolved as r
            join read_csv('{truth_csv}', all_varchar=true, header=true) as t
                on r.source = t.source and r.record_key = t.record_key"""
        ).to_arrow_table()
    return _persons_with_links(clusters, result.evidence)


def evaluate_synthetic(
    extracts_dir: Path,
    cfg: ResolutionConfig,
    workdir: Path,
    sweep_thresholds: tuple[float, ...] = (),
    mentions_warehouse: Path | None = None,
) -> dict[str, Any]:
    """Build the mentions warehouse (unless given one already built from these extracts),
    resolve from it in place (Arrow outputs: the national preset has ~11 M mentions) and
    score against truth/person_mentions.csv in DuckDB."""
    warehouse = mentions_warehouse or workdir / "mentions.duckdb"
    started = time.perf_counter()
    if mentions_warehouse is None:
        build_mentions_warehouse(extracts_dir, warehouse)
    build_seconds = time.perf_counter() - started
    source = WarehouseTable(str(warehouse))
    cfg = dataclasses.replace(cfg, output_format="arrow")
    load_at_start = os.getloadavg()[0]
    with PeakRss() as rss:
        started = time.perf_counter()
        cpu_started = time.process_time()
        result = resolve_mentions(source, cfg)
        seconds = time.perf_counter() - started
        # this process's CPU time (all its threads): on a shared machine the wall time
        # grows with other jobs' load, the CPU time much less
        cpu_seconds = time.process_time() - cpu_started
    truth_csv = extracts_dir / "truth" / "person_mentions.csv"
    keys = result.clusters.select(["source", "record_key", "person_key"])
    n_mentions = result.stats["mentions"]
    confidence = link_confidence(_synthetic_persons(result, truth_csv))
    result.clusters = result.persons = result.evidence = None  # free before scoring
    metrics = score_against_truth(keys, truth_csv)
    metrics["link_confidence"] = confidence
    metrics["mentions_with_truth"] = metrics["records"]
    metrics["records"] = n_mentions
    sweep = []
    for threshold in sweep_thresholds:
        other = resolve_mentions(
            source, dataclasses.replace(cfg, match_probability_threshold=threshold)
        )
        found = score_against_truth(
            other.clusters.select(["source", "record_key", "person_key"]), truth_csv
        )
        sweep.append({"threshold": threshold, **{k: found[k] for k in SWEEP_KEYS}})
    return {
        "dataset": extracts_dir.name,
        "threshold_sweep": sweep,
        **metrics,
        "mentions": n_mentions,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "load_average_1m_at_start": round(load_at_start, 2),
        "warehouse_build_seconds": round(build_seconds, 2),
        "records_per_second": round(n_mentions / seconds, 1),
        "comparisons_scored": result.stats["comparisons_scored"],
        "blocking_rules": result.stats["blocking_rules"],
        "training": result.stats["training"],
        "timings": result.stats["timings"],
        "clustering": result.stats["clustering"],
        # whole process (and children) during resolve_mentions, sampled
        "peak_rss_gb": round(rss.peak / 1e9, 2),
        "duckdb_memory_limit": cfg.memory_limit,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def generate(scale: str, seed: int, out: Path) -> Path:
    if not (out / "truth" / "person_mentions.csv").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pipelines.cli",
                "generate",
                "--scale",
                scale,
                "--seed",
                str(seed),
                "--out",
                str(out),
            ],
            check=True,
        )
    return out


# ---------------------------------------------------------------- report
def _markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Person resolution: accuracy and speed",
        "",
        f"Command: `{' '.join(['python -m pipelines.evaluation.resolution', *report['argv']])}`. "
        f"Threshold {report['threshold']}. Pairwise metrics over all mention pairs.",
        "",
        "| dataset | records | true people | resolved | precision | recall | F1 | split | "
        "merged | seconds | records/s | comparisons |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = report["results"] + report.get("separate_runs", [])
    for r in rows:
        name = r["dataset"] + (f" ({r['from']})" if r.get("from") else "")
        lines.append(
            f"| {name} | {r['records']} | {r['true_people']} | {r['resolved_people']} | "
            f"{r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} | "
            f"{r['true_people_split']} | {r['true_people_wrongly_merged']} | {r['seconds']} | "
            f"{r['records_per_second']} | {r['comparisons_scored']} |"
        )
    speed = [r for r in rows if r.get("timings")]
    if speed:
        lines += [
            "",
            "Synthetic runs, resolution only (mentions read from the dbt-built warehouse); "
            "peak RSS is the whole process, sampled; phases in seconds:",
            "",
            "| dataset | mentions | seconds | CPU seconds | peak RSS GB | DuckDB memory_limit | "
            "load (1 min, start / end) | phases |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in speed:
            phases = ", ".join(
                f"{k.removesuffix('_s')} {v:.0f}" for k, v in r["timings"].items() if k != "total_s"
            )
            lines.append(
                f"| {r['dataset']} | {r['mentions']} | {r['seconds']} | "
                f"{r.get('cpu_seconds', '')} | {r.get('peak_rss_gb')} | "
                f"{r.get('duckdb_memory_limit', '')} | {r.get('load_average_1m_at_start', '')} / "
                f"{r.get('load_average_1m', '')} | {phases} |"
            )
    for r in report["results"]:
        if r.get("threshold_sweep"):
            lines += [
                "",
                f"Threshold sweep on {r['dataset']} (same mentions):",
                "",
                "| threshold | precision | recall | F1 | split | merged |",
                "|---|---|---|---|---|---|",
            ]
            for w in r["threshold_sweep"]:
                lines.append(
                    f"| {w['threshold']} | {w['precision']:.4f} | {w['recall']:.4f} | "
                    f"{w['f1']:.4f} | {w['true_people_split']} | "
                    f"{w['true_people_wrongly_merged']} |"
                )
    confident = [r for r in rows if r.get("link_confidence")]
    if confident:
        lines += [
            "",
            "Does the weakest link printed for a subject (tasking pack, subject pages) warn of a "
            "wrong join? Persons of two or more records; *impure* = its records are of two or "
            "more true people. *printed*: the weakest of the links that hold the records "
            "together (maximum spanning forest); *any link*: the weakest of all its kept links "
            f"(the definition before). ROC AUC of the weakness as a warning; doubtful = below "
            f"{DOUBTFUL_LINK}.",
            "",
            "| dataset | persons | impure | measure | ROC AUC | doubtful (impure) | "
            + " | ".join(f"{lo:g}-{min(hi, 1.0):g} (impure)" for lo, hi in LINK_BANDS)
            + " |",
            "|---|---|---|---|---|---|" + "---|" * len(LINK_BANDS),
        ]
        for r in confident:
            c = r["link_confidence"]
            for measure, label in (("weakest_spanning", "printed"), ("weakest_any", "any link")):
                m = c[measure]
                bands = " | ".join(f"{b['persons']} ({b['impure']})" for b in m["bands"])
                lines.append(
                    f"| {r['dataset']} | {c['persons']} | {c['impure']} | {label} | "
                    f"{m['roc_auc']} | {m['doubtful']} ({m['doubtful_impure']}) | {bands} |"
                )
    lines += [
        "",
        "split = true people spread over more than one resolved person; merged = true people "
        "sharing a resolved person with someone else. Synthetic mentions come from "
        "int_person_mentions built by dbt over the generated extracts (typed raw load, no "
        "quarantine); benchmarks go through a thin column adapter into the same function.",
        "",
    ]
    return "\n".join(lines)


# Presets too large for the default run: evaluated on request into a file of their own,
# whose row the default report then carries.
OPT_IN_SCALES = ("national",)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.evaluation.resolution",
        description="Person resolution accuracy and speed. Default: the force preset, the "
        "threshold sweep and the dedup benchmarks (~2 min) -> docs/evaluation/resolution.*. "
        "--scale national (opt-in, ~25 min with the warehouse build; ~5 GB of extracts) "
        "writes docs/evaluation/resolution_national.*, which the default report then quotes.",
    )
    parser.add_argument("--scale", default="force", help="generator preset (default force)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--extracts", type=Path, help="use these extracts instead of generating")
    parser.add_argument(
        "--mentions-warehouse",
        type=Path,
        help="a DuckDB file already holding intermediate.int_person_mentions built from "
        "--extracts (skips the raw load + dbt run)",
    )
    parser.add_argument(
        "--memory-limit",
        default=ResolutionConfig.memory_limit,
        help="DuckDB memory_limit for resolution (spills beyond it; default %(default)s)",
    )
    parser.add_argument("--no-benchmarks", action="store_true")
    parser.add_argument("--no-synthetic", action="store_true")
    parser.add_argument("--no-sweep", action="store_true", help="skip the threshold sweep")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    opt_in = args.scale in OPT_IN_SCALES
    # phase timings and pair counts as they happen (a national run takes many minutes)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("pipelines.resolution").setLevel(logging.INFO)
    threshold = load_settings().resolution.match_probability_threshold
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="spp_resolution_"))
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = ResolutionConfig(
        match_probability_threshold=threshold,
        dob_conflict_years=load_settings().resolution.dob_conflict_years,
        memory_limit=args.memory_limit,
        temp_directory=str(workdir),
    )
    results: list[dict[str, Any]] = []
    if not args.no_synthetic:
        extracts = args.extracts or generate(
            args.scale, args.seed, workdir / f"{args.scale}_{args.seed}"
        )
        # a sweep re-runs resolution per threshold: not at national scale
        sweep = () if args.no_sweep or opt_in else (0.3, 0.7, 0.9)
        results.append(evaluate_synthetic(extracts, cfg, workdir, sweep, args.mentions_warehouse))
        results[-1]["scale"] = args.scale
        print(json.dumps(results[-1]), flush=True)
    if not args.no_benchmarks and not opt_in:
        for name, adapter in (("dataset3", febrl_mentions), ("fake_20000", fake_mentions)):
            path = DEDUP_DIR / f"{name}.csv"
            if not path.exists():
                print(f"skipping {name}: {path} not found", flush=True)
                continue
            results.append(evaluate_benchmark(name, *adapter(path), cfg))
            print(json.dumps(results[-1]), flush=True)
    report: dict[str, Any] = {
        "argv": list(argv if argv is not None else sys.argv[1:]),
        "threshold": threshold,
        "results": results,
    }
    stem = f"resolution_{args.scale}" if opt_in else "resolution"
    if not opt_in:
        # quote the opt-in runs already measured (their own files say how)
        for scale in OPT_IN_SCALES:
            other = args.out / f"resolution_{scale}.json"
            if other.exists():
                report.setdefault("separate_runs", []).extend(
                    {**r, "from": other.name} for r in json.loads(other.read_text())["results"]
                )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2, default=str))
    md_path = args.out / f"{stem}.md"
    # a hand-written note below the marker (what a run found and why) survives regeneration
    notes = existing_notes(md_path).strip("\n")
    md_path.write_text("\n".join([_markdown(report).rstrip("\n"), "", NOTES_MARKER, notes, ""]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
