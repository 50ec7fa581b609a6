"""Person resolution accuracy and speed: `python -m pipelines.evaluation.resolution`.

Runs the production function `pipelines.resolution.resolve_mentions` on
- the synthetic force (`force` preset by default): mentions are built from the generated
  extracts by the same ingest + dbt staging models that production runs (Dagster is not
  needed for that: `build_mentions_warehouse` loads the extracts and runs `dbt build` for
  the `before_resolution` selection into a scratch warehouse), scored against
  truth/person_mentions.csv;
- the public de-duplication benchmarks in ../shared/data/dedup (FEBRL dataset3 and
  fake_20000), through a thin adapter mapping their columns onto the mention columns;
- with `--parts`, other forces (EXTRA_PARTS: the held-in diagnostic diag13, the held-out
  heavy noise profile, the independent force held out whole) for the weakest link's warning
  and the rule joins' figures: each rule join (no score) judged against the truth, pooled
  over the held-in parts into the counts the settings carry (resolution.rule_joins).

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
from pipelines.resolution.clustering import SECOND_ID, UNKNOWN_SUSPECT
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
# the rule joins (no score) and how the reports name them
RULE_JOINS = (SECOND_ID, UNKNOWN_SUSPECT)


# the weakest-link definitions compared: what the pipeline prints, and the earlier ones
LINK_MEASURES = (
    ("weakest_spanning", "printed (rule joins at their held-in figure)"),
    ("weakest_scored", "scored links only (before)"),
    ("weakest_any", "any scored link"),
)


def link_confidence(persons: pd.DataFrame) -> dict[str, Any]:
    """Does the weakest link printed for a person warn of a wrong join? `persons`: one row per
    resolved person of two or more records, with `weakest_spanning` (what the pipeline prints:
    the weakest of the links holding its records together, a rule join at its rule's figure),
    `weakest_scored` (the same over the scored and nominal-id links only, a rule join counted
    as nothing: the definition before), `weakest_any` (the weakest of all its kept scored
    links, the definition before that), `on_rule_join` (a rule join holds it) and `impure`
    (its records are of two or more true people). For each measure: ROC AUC of the weakness
    as a predictor of impurity, and by band the persons and the share of them impure."""
    from sklearn.metrics import roc_auc_score

    impure = persons["impure"].astype(bool)
    on_rule = persons["on_rule_join"].astype(bool)
    out: dict[str, Any] = {
        "persons": len(persons),
        "impure": int(impure.sum()),
        "on_rule_join": int(on_rule.sum()),
        "on_rule_join_impure": int((on_rule & impure).sum()),
    }
    for measure, _ in LINK_MEASURES:
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
    """Per person of 2+ records: its weakest link by each of LINK_MEASURES, whether a rule
    join holds it and whether its records are of several true people (clusters: person_key,
    cluster_min_probability, cluster_rule_joins, true_id; evidence: person_key, joined_by,
    match_probability, holds_person)."""
    with duckdb.connect() as con:
        con.register("clusters", clusters)
        con.register("evidence", evidence)
        return con.execute(
            """with per as (
                select person_key, any_value(cluster_min_probability) as weakest_spanning,
                    bool_or(cluster_rule_joins is not null) as on_rule_join,
                    count(distinct true_id) > 1 as impure
                from clusters group by person_key having count(*) > 1
            ),
            links as (
                select person_key,
                    min(match_probability) filter (where holds_person) as weakest_scored,
                    min(match_probability) as weakest_any
                from evidence where joined_by in ('splink', 'nominal_id') group by person_key
            )
            select per.person_key, per.weakest_spanning,
                coalesce(links.weakest_scored, 1.0) as weakest_scored,
                coalesce(links.weakest_any, 1.0) as weakest_any, per.on_rule_join, per.impure
            from per left join links using (person_key)
            order by per.person_key"""
        ).df()


def rule_join_outcomes(
    evidence: Any, mention_truth: Any, held_out_split: str | None, part: str
) -> dict[str, Any]:
    """Each rule join (joined_by in RULE_JOINS) judged against the truth: right when its two
    records are of one true person. `mention_truth`: mention_id, true_id. The joins are
    counted by part: with `held_out_split` (a resolution_sources source name) a join is in
    the held-out part when both its records' true people are held out there, in the held-in
    part when neither is (a join across the two is in neither, as pairs are); without it the
    whole source is `part`."""
    from pipelines.evaluation.resolution_sources import held_out_part

    with duckdb.connect() as con:
        con.register("evidence", evidence)
        con.register("mention_truth", mention_truth)
        joins = con.execute(
            """select e.joined_by, l.true_id as true_l, r.true_id as true_r
            from evidence as e
            join mention_truth as l on e.mention_id_l::varchar = l.mention_id::varchar
            join mention_truth as r on e.mention_id_r::varchar = r.mention_id::varchar
            where e.joined_by in ('second_id', 'unknown_suspect')"""
        ).df()
    if held_out_split is None:
        joins["part"] = part
    else:
        out_l = held_out_part(held_out_split, joins["true_l"]).to_numpy()
        out_r = held_out_part(held_out_split, joins["true_r"]).to_numpy()
        joins["part"] = None
        joins.loc[out_l & out_r, "part"] = "held_out"
        joins.loc[~out_l & ~out_r, "part"] = "held_in"
    outcome: dict[str, Any] = {}
    for rule in RULE_JOINS:
        of_rule = joins[joins["joined_by"] == rule]
        right = of_rule["true_l"] == of_rule["true_r"]
        outcome[rule] = {
            name: {
                "joins": int((of_rule["part"] == name).sum()),
                "right": int(((of_rule["part"] == name) & right).sum()),
            }
            for name in ("held_in", "held_out")
        }
    return outcome


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


def _synthetic_truth(result: Any, truth_csv: Path) -> Any:
    """The resolved mentions of the synthetic force with their true person (Arrow)."""
    with duckdb.connect() as con:
        con.register("resolved", result.clusters)
        return con.sql(
            f"""select r.mention_id, r.person_key, r.cluster_min_probability,
                r.cluster_rule_joins, t.true_person_id as true_id
            from resolved as r
            join read_csv('{truth_csv}', all_varchar=true, header=true) as t
                on r.source = t.source and r.record_key = t.record_key"""
        ).to_arrow_table()


def evaluate_synthetic(
    extracts_dir: Path,
    cfg: ResolutionConfig,
    workdir: Path,
    sweep_thresholds: tuple[float, ...] = (),
    mentions_warehouse: Path | None = None,
    part: str = "held_in",
    held_out_split: str | None = None,
) -> dict[str, Any]:
    """Build the mentions warehouse (unless given one already built from these extracts),
    resolve from it in place (Arrow outputs: the national preset has ~11 M mentions) and
    score against truth/person_mentions.csv in DuckDB. The rule joins are judged by part
    (`rule_join_outcomes`: `part` for the whole source, or split as `held_out_split`)."""
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
    truth = _synthetic_truth(result, truth_csv)
    confidence = link_confidence(_persons_with_links(truth, result.evidence))
    rule_joins = rule_join_outcomes(result.evidence, truth, held_out_split, part)
    result.clusters = result.persons = result.evidence = None  # free before scoring
    metrics = score_against_truth(keys, truth_csv)
    metrics["link_confidence"] = confidence
    metrics["rule_joins"] = rule_joins
    metrics["part"] = part if held_out_split is None else "held-in 70 % / held-out 30 %"
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
    judged = [r for r in rows if r.get("rule_joins")]
    if judged:
        lines += [
            "",
            "Rule joins (no score: a bare second id, a victim's unknown suspects) against the "
            "truth: *right* = the join's two records are of one true person. By part: on "
            "force_42 the held-in / held-out split of resolution_sources' generator_force_default "
            "(a join across the two counts in neither); the other forces are one part each.",
            "",
            "| dataset | rule | held-in joins | right | held-out joins | right |",
            "|---|---|---|---|---|---|",
        ]
        for r in judged:
            for rule in RULE_JOINS:
                o = r["rule_joins"][rule]
                lines.append(
                    f"| {r['dataset']} | {rule} | {o['held_in']['joins']} | "
                    f"{o['held_in']['right']} | {o['held_out']['joins']} | "
                    f"{o['held_out']['right']} |"
                )
        pooled = pooled_rule_joins(judged)
        carried = load_settings().resolution.rule_joins
        lines += [
            "",
            "Pooled over the held-in parts ("
            + ", ".join(r["dataset"] for r in judged if r["rule_joins_pooled"])
            + "): "
            + "; ".join(
                f"{rule} right in {o['right']} of {o['joins']}" for rule, o in pooled.items()
            )
            + ". A rule join enters the weakest link at (right + 1) / (joins + 2) of the "
            "counts the settings carry (resolution.rule_joins, which must be these): now "
            + "; ".join(
                f"{rule} right in {getattr(carried, rule).right} of "
                f"{getattr(carried, rule).joins}, counted as {getattr(carried, rule).probability}"
                for rule in RULE_JOINS
            )
            + f", measured on {carried.measured_on}.",
        ]
    confident = [r for r in rows if r.get("link_confidence")]
    if confident:
        lines += [
            "",
            "Does the weakest link printed for a subject (tasking pack, subject pages) warn of a "
            "wrong join? Persons of two or more records; *impure* = its records are of two or "
            "more true people; *on a rule join*: a rule join holds it. *printed*: the weakest "
            "of the links that hold the records together (maximum spanning forest), a rule join "
            "at its rule's held-in figure; *scored links only*: the same without the rule joins "
            "(the definition before: a person held by a rule alone printed 1.0); *any scored "
            "link*: the weakest of all its kept scored links. ROC AUC of the weakness as a "
            f"warning; doubtful = below {DOUBTFUL_LINK}.",
            "",
            "| dataset | part | persons | impure | on a rule join (impure) | measure | ROC AUC | "
            "doubtful (impure) | "
            + " | ".join(f"{lo:g}-{min(hi, 1.0):g} (impure)" for lo, hi in LINK_BANDS)
            + " |",
            "|---|---|---|---|---|---|---|---|" + "---|" * len(LINK_BANDS),
        ]
        for r in confident:
            c = r["link_confidence"]
            # a run from before the rule joins' figures (a carried national row) printed the
            # scored links only
            before = "weakest_scored" not in c
            for measure, label in LINK_MEASURES:
                m = c.get(measure)
                if m is None:
                    continue
                if before and measure == "weakest_spanning":
                    label = "printed then (scored links only)"
                bands = " | ".join(f"{b['persons']} ({b['impure']})" for b in m["bands"])
                lines.append(
                    f"| {r['dataset']} | {r.get('part', '').replace('_', '-')} | {c['persons']} | "
                    f"{c['impure']} | "
                    f"{c.get('on_rule_join', '')} ({c.get('on_rule_join_impure', '')}) | "
                    f"{label} | {m['roc_auc']} | {m['doubtful']} ({m['doubtful_impure']}) | "
                    f"{bands} |"
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


def pooled_rule_joins(results: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Each rule's joins and right joins summed over the held-in parts of `results` (those
    marked `rule_joins_pooled`): the figures the settings carry."""
    pooled = {rule: {"joins": 0, "right": 0} for rule in RULE_JOINS}
    for r in results:
        if not r.get("rule_joins_pooled"):
            continue
        for rule in RULE_JOINS:
            for key in ("joins", "right"):
                pooled[rule][key] += r["rule_joins"][rule]["held_in"][key]
    return pooled


# Forces beside the default one, for the rule joins' figures and the weakest link's warning:
# name -> (part, what it is). diag13 is the serial evaluation's held-in diagnostic (its seed
# and rates); heavy holds the names out (the held-out noise profile of seed 42's force); the
# independent force (written blind to the generator) is held out whole.
EXTRA_PARTS = {
    "diag13": ("held_in", "held-in diagnostic: seed 13 at the serial evaluation's diag13 rates"),
    "heavy": ("held_out", "held out: seed 42 at the held-out heavy noise profile"),
    "independent": ("held_out", "held out whole: the independent force"),
}


def extra_part_extracts(name: str, workdir: Path) -> Path | None:
    """The extracts (with truth/) of an EXTRA_PARTS force, generated into `workdir` unless
    there already; None when the independent force's package is absent."""
    from pipelines.synthetic import generate_force
    from pipelines.synthetic.presets import Rates

    if name == "independent":
        from pipelines.evaluation.independent_source import DEFAULT_SEED, independent_extracts

        return independent_extracts(
            workdir / f"independent_force_{DEFAULT_SEED}", seed=DEFAULT_SEED, scale="force"
        )
    if name == "diag13":
        from pipelines.evaluation.serial import PARTS

        seed, rates = PARTS["diag13"]["seed"], Rates(**PARTS["diag13"]["rates"])
    elif name == "heavy":
        seed, rates = 42, Rates(noise="heavy")
    else:
        raise ValueError(f"unknown part {name!r}: one of {', '.join(EXTRA_PARTS)}")
    out = workdir / f"force_{seed}_{name}"
    if not (out / "truth" / "person_mentions.csv").exists():
        generate_force("force", seed, out, rates=rates)
    return out


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
    parser.add_argument(
        "--parts",
        default="",
        help="comma-separated forces also resolved for the rule joins and the weakest link "
        f"(of {', '.join(EXTRA_PARTS)}; ~2-3 min each at force scale)",
    )
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
        rule_join_probability=load_settings().resolution.rule_joins.probabilities(),
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
        # the default force is split as resolution_sources splits it (the rule joins were
        # chosen on its held-in part); another preset or seed is one part of its own
        default_force = args.scale == "force" and args.seed == 42 and args.extracts is None
        results.append(
            evaluate_synthetic(
                extracts,
                cfg,
                workdir,
                sweep,
                args.mentions_warehouse,
                part="held_in" if default_force else "not split",
                held_out_split="generator_force_default" if default_force else None,
            )
        )
        results[-1]["scale"] = args.scale
        results[-1]["rule_joins_pooled"] = default_force
        print(json.dumps(results[-1]), flush=True)
    for name in [n for n in args.parts.split(",") if n]:
        part, what = EXTRA_PARTS[name]
        extracts = extra_part_extracts(name, workdir)
        if extracts is None:
            print(f"skipping {name}: the independent force's package is absent", flush=True)
            continue
        (workdir / name).mkdir(exist_ok=True)
        # a mentions warehouse built from these extracts by an earlier run is read again
        built = workdir / name / "mentions.duckdb"
        results.append(
            evaluate_synthetic(
                extracts, cfg, workdir / name, (), built if built.exists() else None, part=part
            )
        )
        results[-1].update(dataset=name, scale="force", about=what)
        results[-1]["rule_joins_pooled"] = part == "held_in"
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
