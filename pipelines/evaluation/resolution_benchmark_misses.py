"""Where a de-duplication benchmark's missed pairs are lost:
`python -m pipelines.evaluation.resolution_benchmark_misses` (fake_20000 by default).

Runs the project's resolution (settings.yaml) on one source of `resolution_sources` and
sorts every missed pair of the HELD-IN part (two records of one true person left in
different keys; the split of `resolution_sources`, the only part any choice may rest on) by
the stage that lost it:

- never compared: no blocking rule put the two records in one block;
- scored below the threshold: compared, with a match probability under the clustering
  threshold;
- lost in clustering: scored at or above the threshold, yet left apart by a constraint (dates
  of birth too far apart for a chain, the incident rule) or its greedy re-clustering.

A pair never compared can still be joined through a chain, so the same split is also given per
*fragment pair*: two keys holding one true person, by the best score between their records.
For each stage, how each field of the two records compares (missing, equal, swapped with the
other name, a typo, different) and the gap in years between the two dates of birth, which is
how the mistyped decades of fake_* were found. No record's values are written: counts only.

Writes docs/evaluation/resolution_benchmark_misses.json and .md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.evaluation.resolution import DEDUP_DIR, OUT_DIR
from pipelines.evaluation.resolution_sources import (
    benchmark_sources,
    configured_resolution,
    held_out_part,
    part_metrics,
)
from pipelines.resolution import ResolutionConfig, resolve_mentions
from pipelines.resolution.model import dob_year_typo_sql

SOURCE = "fake_20000"
NEVER_COMPARED = "never compared (blocking)"
BELOW_THRESHOLD = "scored below the threshold"
LOST_IN_CLUSTERING = "scored above the threshold, kept apart in clustering"
STAGES = (NEVER_COMPARED, BELOW_THRESHOLD, LOST_IN_CLUSTERING)
FIELDS = ("forename", "surname", "date_of_birth", "address", "email")


def true_pairs(
    mentions: pd.DataFrame, truth: pd.Series, keys: pd.Series, mask: pd.Series
) -> pd.DataFrame:
    """Every pair of two records of one true person inside `mask` (positions `a` < `b`),
    with whether resolution put them in one key."""
    frame = pd.DataFrame({"truth": truth.to_numpy(), "key": keys.to_numpy()})[mask.to_numpy()]
    frame["position"] = frame.index
    pairs = frame.merge(frame, on="truth", suffixes=("_a", "_b"))
    pairs = pairs[pairs["position_a"] < pairs["position_b"]]
    return pd.DataFrame(
        {
            "a": pairs["position_a"].to_numpy(),
            "b": pairs["position_b"].to_numpy(),
            "truth": pairs["truth"].to_numpy(),
            "key_a": pairs["key_a"].to_numpy(),
            "key_b": pairs["key_b"].to_numpy(),
            "same_key": (pairs["key_a"] == pairs["key_b"]).to_numpy(),
        }
    )


def attach_scores(pairs: pd.DataFrame, nodes: pd.Series, scored: pd.DataFrame) -> pd.DataFrame:
    """`pairs` with the match probability of the scored node pair of its two records (NaN
    where the pair was never compared). `nodes`: node id per record position; `scored`:
    unique_id_l, unique_id_r, match_probability (every scored pair, either order)."""
    left, right = nodes.to_numpy()[pairs["a"]], nodes.to_numpy()[pairs["b"]]
    lookup = pd.concat(
        [
            scored[["unique_id_l", "unique_id_r", "match_probability"]],
            scored.rename(columns={"unique_id_l": "unique_id_r", "unique_id_r": "unique_id_l"})[
                ["unique_id_l", "unique_id_r", "match_probability"]
            ],
        ]
    ).drop_duplicates(["unique_id_l", "unique_id_r"])
    found = pd.DataFrame({"unique_id_l": left, "unique_id_r": right}).merge(
        lookup, on=["unique_id_l", "unique_id_r"], how="left"
    )
    return pairs.assign(match_probability=found["match_probability"].to_numpy())


def stage(probability: float, threshold: float) -> str:
    """The stage that lost a missed pair (or fragment pair) with this best score."""
    if pd.isna(probability):
        return NEVER_COMPARED
    return BELOW_THRESHOLD if probability < threshold else LOST_IN_CLUSTERING


def fragment_pairs(missed: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per two keys holding one true person: the record pairs between them and the best
    score among those pairs, and the stage that best score points at."""
    ordered = missed.assign(
        k1=missed[["key_a", "key_b"]].min(axis=1), k2=missed[["key_a", "key_b"]].max(axis=1)
    )
    fragments = (
        ordered.groupby(["truth", "k1", "k2"])
        .agg(record_pairs=("a", "size"), best=("match_probability", "max"))
        .reset_index()
    )
    return fragments.assign(stage=fragments["best"].map(lambda p: stage(p, threshold)))


def _name_class(a: str, b: str, other_a: str, other_b: str) -> str:
    return f"""
        case when {a} is null and {b} is null then 'both missing'
             when {a} is null or {b} is null then 'one missing'
             when {a} = {b} then 'equal'
             when {a} = {other_b} or {b} = {other_a} then 'swapped with the other name'
             when damerau_levenshtein({a}, {b}) <= 2
                  or jaro_winkler_similarity({a}, {b}) >= 0.88 then 'typo'
             else 'different' end"""


def _text_class(a: str, b: str) -> str:
    return f"""
        case when {a} is null and {b} is null then 'both missing'
             when {a} is null or {b} is null then 'one missing'
             when {a} = {b} then 'equal'
             when damerau_levenshtein({a}, {b}) <= 2
                  or jaro_winkler_similarity({a}, {b}) >= 0.88 then 'typo'
             else 'different' end"""


def _dob_class(a: str, b: str) -> str:
    gap = f"abs(date_diff('day', {a}, {b}))"
    return f"""
        case when {a} is null and {b} is null then 'both missing'
             when {a} is null or {b} is null then 'one missing'
             when {a} = {b} then 'equal'
             when year({a}) = year({b}) and month({a}) = day({b}) and day({a}) = month({b})
                  then 'day and month swapped'
             when damerau_levenshtein(strftime({a}, '%Y-%m-%d'), strftime({b}, '%Y-%m-%d')) = 1
                  then 'one character typo'
             when {gap} <= 366 then 'within a year'
             when {dob_year_typo_sql(a, b)} then 'year mistyped, near day and month'
             when {gap} <= 3653 then 'within ten years'
             else 'further apart' end"""


def field_classes(mentions: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Per pair (positions a, b into `mentions`): how each field present in the source
    compares, and the gap in whole years between the two dates of birth."""
    present = [f for f in FIELDS if f in mentions.columns]
    values = pd.DataFrame(index=mentions.index)
    for name in present:
        column = mentions[name]
        if name == "date_of_birth":
            values[name] = pd.to_datetime(column, errors="coerce")
        else:
            text = column.astype("string").str.lower().str.replace(r"[^a-z0-9@.]", "", regex=True)
            values[name] = text.where(text.str.len() > 0)
    left = values.iloc[pairs["a"].to_numpy()].add_suffix("_l").reset_index(drop=True)
    right = values.iloc[pairs["b"].to_numpy()].add_suffix("_r").reset_index(drop=True)
    both = pd.concat([left, right], axis=1)
    selects = []
    for name in present:
        a, b = f"{name}_l", f"{name}_r"
        if name in ("forename", "surname"):
            other = "surname" if name == "forename" else "forename"
            if other in present:
                selects.append(f"{_name_class(a, b, f'{other}_l', f'{other}_r')} as {name}")
            else:
                selects.append(f"{_text_class(a, b)} as {name}")
        elif name == "date_of_birth":
            selects.append(f"{_dob_class(a + '::date', b + '::date')} as {name}")
        else:
            selects.append(f"{_text_class(a, b)} as {name}")
    if "date_of_birth" in present:
        selects.append("abs(year(date_of_birth_l) - year(date_of_birth_r)) as dob_year_gap")
    con = duckdb.connect()
    con.register("both_sides", both)
    return con.execute(f"select {', '.join(selects)} from both_sides").df()


def _counts(frame: pd.DataFrame, column: str) -> dict[str, dict[str, int]]:
    table = frame.groupby([column, "stage"]).size().unstack(fill_value=0)
    return {
        str(value): {stage_name: int(row.get(stage_name, 0)) for stage_name in STAGES}
        for value, row in table.iterrows()
    }


def _gap_band(gap: float) -> str:
    if pd.isna(gap):
        return "a date missing"
    for top, label in ((0, "0"), (1, "1"), (8, "2-8"), (11, "9-11")):
        if gap <= top:
            return label
    return "12 or more"


def evaluate(
    name: str, mentions: pd.DataFrame, truth: pd.Series, cfg: ResolutionConfig
) -> dict[str, Any]:
    mentions = mentions.reset_index(drop=True)
    truth = truth.reset_index(drop=True).astype(str)
    cpu, wall = time.process_time(), time.perf_counter()
    # every scored pair is kept, so a missed pair can be told "never compared" from "low"
    result = resolve_mentions(mentions, dataclasses.replace(cfg, keep_pairs_above=0.0))
    seconds = {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}
    clusters = (
        result.clusters.assign(mention_id=lambda f: f["mention_id"].astype(str))
        .set_index("mention_id")
        .reindex(mentions["mention_id"].astype(str))
    )
    keys = clusters["person_key"].astype(str).reset_index(drop=True)
    nodes = clusters["node_id"].reset_index(drop=True)
    held_in = ~held_out_part(name, truth)
    threshold = cfg.match_probability_threshold

    pairs = attach_scores(true_pairs(mentions, truth, keys, held_in), nodes, result.pairs)
    pairs = pd.concat(
        [pairs.reset_index(drop=True), field_classes(mentions, pairs)], axis=1
    ).assign(dob_gap_band=lambda f: f.get("dob_year_gap", pd.Series(dtype=float)).map(_gap_band))
    missed = pairs[~pairs["same_key"]].copy()
    missed["stage"] = missed["match_probability"].map(lambda p: stage(p, threshold))
    fragments = fragment_pairs(missed, threshold)
    fields = [f for f in FIELDS if f in missed.columns]
    combos = (
        missed.groupby(["stage", *fields])
        .size()
        .rename("pairs")
        .reset_index()
        .sort_values(["stage", "pairs", *fields], ascending=[True, False, *[True] * len(fields)])
        .groupby("stage")
        .head(8)
    )
    all_gaps = pairs.groupby("dob_gap_band").agg(
        true_pairs=("same_key", "size"), missed=("same_key", lambda s: int((~s).sum()))
    )
    return {
        "source": name,
        "threshold": threshold,
        "records": len(mentions),
        "held_in_records": int(held_in.sum()),
        "resolution_seconds": {k: round(v, 2) for k, v in seconds.items()},
        "metrics": part_metrics(keys, truth, held_in),
        "true_pairs": len(pairs),
        "missed_pairs": len(missed),
        "by_stage": {s: int((missed["stage"] == s).sum()) for s in STAGES},
        "fragments_by_stage": {
            s: {
                "fragment_pairs": int((fragments["stage"] == s).sum()),
                "record_pairs": int(fragments.loc[fragments["stage"] == s, "record_pairs"].sum()),
            }
            for s in STAGES
        },
        "fields": {f: _counts(missed, f) for f in fields},
        "dob_year_gap": {
            band: {"true_pairs": int(row["true_pairs"]), "missed": int(row["missed"])}
            for band, row in all_gaps.iterrows()
        },
        "commonest_patterns": [
            {"stage": row["stage"], **{f: row[f] for f in fields}, "pairs": int(row["pairs"])}
            for row in combos.to_dict("records")
        ],
        "clustering": result.stats.get("clustering"),
    }


def markdown(report: dict[str, Any]) -> str:
    metrics = report["metrics"]
    fields = list(report["fields"])
    stage_totals = report["by_stage"]
    lines = [
        f"# Missed pairs of {report['source']}, by the stage that lost them (held-in part)",
        "",
        f"Command: `python -m pipelines.evaluation.resolution_benchmark_misses --source "
        f"{report['source']}`. {report['records']} records, of which "
        f"{report['held_in_records']} in the held-in part (the split of `resolution_sources`; "
        "the held-out part is not read here). Threshold "
        f"{report['threshold']}. Resolution took {report['resolution_seconds']['cpu']} CPU s "
        f"({report['resolution_seconds']['wall']} s wall; load {report.get('load', '?')}). "
        f"Held-in P / R / F1: {metrics['precision']:.4f} / {metrics['recall']:.4f} / "
        f"{metrics['f1']:.4f}; {report['missed_pairs']} of {report['true_pairs']} true pairs "
        "missed.",
        "",
        "## By stage",
        "",
        "A record pair is *never compared* when no blocking rule brought its two records "
        "together, *below the threshold* when scored under it, *kept apart in clustering* "
        "when scored at or above it yet left in two keys (a constraint or the greedy "
        "re-clustering of a component that broke one). A fragment pair is two keys holding "
        "one true person, staged by the best score between their records (never compared: "
        "no record of one was compared with any of the other).",
        "",
        "| stage | missed record pairs | fragment pairs | record pairs in them |",
        "|---|---|---|---|",
        *[
            f"| {s} | {stage_totals[s]} | {report['fragments_by_stage'][s]['fragment_pairs']} | "
            f"{report['fragments_by_stage'][s]['record_pairs']} |"
            for s in STAGES
        ],
        "",
        "## How each field of the missed pairs compares, by stage",
        "",
        "Names and text fields after lower-casing and keeping letters and digits: equal, "
        "swapped with the other name, a typo (Damerau-Levenshtein at most 2 or Jaro-Winkler "
        "at least 0.88), different, missing on one or both records. Dates of birth by the "
        "first that holds: equal, day and month swapped, one character typo, within a year, "
        "year mistyped with the day and month within a month (`model.dob_year_typo`), within "
        "ten years, further apart.",
        "",
    ]
    for name in fields:
        lines += [
            f"| {name} | " + " | ".join(STAGES) + " |",
            "|---|" + "---|" * len(STAGES),
            *[
                f"| {value} | " + " | ".join(str(row[s]) for s in STAGES) + " |"
                for value, row in sorted(report["fields"][name].items())
            ],
            "",
        ]
    if report["dob_year_gap"]:
        lines += [
            "## Gap in years between the two dates of birth, all held-in true pairs",
            "",
            "| years apart | true pairs | missed | missed share |",
            "|---|---|---|---|",
            *[
                f"| {band} | {row['true_pairs']} | {row['missed']} | "
                f"{row['missed'] / row['true_pairs']:.3f} |"
                for band, row in report["dob_year_gap"].items()
            ],
            "",
        ]
    lines += [
        "## Commonest field patterns per stage",
        "",
        "| stage | " + " | ".join(fields) + " | pairs |",
        "|---|" + "---|" * (len(fields) + 1),
        *[
            f"| {row['stage']} | "
            + " | ".join(str(row[f]) for f in fields)
            + f" | {row['pairs']} |"
            for row in report["commonest_patterns"]
        ],
        "",
        f"Clustering counts of the run: {json.dumps(report['clustering'])}.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.evaluation.resolution_benchmark_misses"
    )
    parser.add_argument("--source", default=SOURCE, help="a benchmark of resolution_sources")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    sources = benchmark_sources(DEDUP_DIR)
    if args.source not in sources:
        parser.error(f"unknown source {args.source!r}; one of {', '.join(sources)}")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="spp_benchmark_misses_"))
    mentions, truth = sources[args.source]()
    report = evaluate(args.source, mentions, truth, configured_resolution(workdir))
    report["load"] = round(os.getloadavg()[0], 2)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "resolution_benchmark_misses.json").write_text(
        json.dumps(report, indent=2, default=str)
    )
    (args.out / "resolution_benchmark_misses.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
