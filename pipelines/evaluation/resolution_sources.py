"""Person resolution across sources: `python -m pipelines.evaluation.resolution_sources`.

For every de-duplication set in ../shared/data/dedup (FEBRL dataset1-3, dataset4a+4b as one
file, fake_1000, fake_20000) and the generator's force preset at each noise profile
(pipelines.synthetic.noise), the project's resolution (`resolve_mentions` with the configured
settings) beside plain Splink with a tutorial configuration (`splink_reference`).

Held-out parts. Each source's true people are split by a fixed hash of their true id: 30 %
are held out (`held_out_part`), and no threshold, weight or rule is chosen on them; the
generator's `heavy` noise profile (noise.HELD_OUT) is held out whole, and so is the
independent force (`independent_force`: pipelines.evaluation.independent_force, written
blind to the project's generator; skipped with a message when the package is absent). Both
methods run on the whole source (they are unsupervised: no label is read); pairwise
precision/recall/F1 are then
computed within each part. Plain Splink's clustering threshold is the best of a small grid on
the held-in part (its best case); the project's is the configured one (settings.yaml).

The project's missed pairs of each part are also sorted by what differs between the two keys
(`missed_pair_causes`). `--sources independent_force` runs that source alone
(`--independent-extracts DIR`: extracts with truth/ standing in for it). Writes
docs/evaluation/resolution_sources.json and .md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.evaluation.bench_analysis import NOTES_MARKER, existing_notes
from pipelines.evaluation.independent_source import (
    DEFAULT_SEED,
    PART,
    Runtime,
    carried,
    carried_line,
    describe,
    independent_extracts,
    is_placeholder_name,
    previous_report,
    runtime_line,
    skip_message,
)
from pipelines.evaluation.resolution import (
    DEDUP_DIR,
    OUT_DIR,
    build_mentions_warehouse,
    fake_mentions,
    febrl_mentions,
    pairwise_metrics,
    read_mentions,
)
from pipelines.evaluation.splink_reference import splink_reference
from pipelines.resolution import ResolutionConfig, resolve_mentions
from pipelines.settings import load_settings
from pipelines.synthetic import noise

HELD_OUT_SHARE = 0.3
REFERENCE_THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.99)
NOISE_PROFILES = ("default", "messy", "transliterated", "heavy")
# the last quarter of the generated deliveries (the mentions are built for it)
END_QUARTER = "2024-Q1"
INDEPENDENT = f"{PART}_force"
METRIC_KEYS = ("records", "true_people", "precision", "recall", "f1")


def configured_resolution(workdir: Path) -> ResolutionConfig:
    """The project's resolution as settings.yaml configures it, spilling into `workdir`."""
    settings = load_settings().resolution
    workdir.mkdir(parents=True, exist_ok=True)
    return ResolutionConfig(
        match_probability_threshold=settings.match_probability_threshold,
        dob_conflict_years=settings.dob_conflict_years,
        temp_directory=str(workdir),
    )


def held_out_part(source: str, truth: pd.Series) -> pd.Series:
    """True where the record's true person is in the held-out 30 % of `source` (a fixed hash
    of source and true id: the same split on every run)."""
    return truth.astype(str).map(
        lambda t: zlib.crc32(f"{source}|{t}".encode()) % 1000 < HELD_OUT_SHARE * 1000
    )


def part_metrics(keys: pd.Series, truth: pd.Series, mask: pd.Series) -> dict[str, Any]:
    """Pairwise metrics among the records in `mask` (pairs with one record outside the part
    count in neither part)."""
    if not mask.any():
        return {}
    found = pairwise_metrics(keys[mask].reset_index(drop=True), truth[mask].reset_index(drop=True))
    return {k: found[k] for k in METRIC_KEYS}


def recall_ceiling(mentions: pd.DataFrame, truth: pd.Series, mask: pd.Series) -> float | None:
    """The pairwise recall no method can pass on the part. Records sharing a nominal id are
    joined through it; a group of them (or a lone record without an id) that holds no
    forename, surname or date of birth anywhere, and no link to a crime on whose side
    (victim or perpetrator) a record with details sits, has nothing to be matched on, so
    its pairs with the person's other records are out of reach."""
    if not mask.any():
        return None
    fields = [c for c in ("forename", "surname", "date_of_birth") if c in mentions.columns]
    details = mentions[fields].apply(
        lambda column: column.notna() & ~column.astype(str).str.strip().isin(["", "NaT", "nan"])
    )
    present = details.any(axis=1)
    if {"crime_id", "role_side"} <= set(mentions.columns):
        # a bare record linked to a crime meets the records on the same side of it
        side = mentions["crime_id"].astype(str) + "|" + mentions["role_side"].astype(str)
        linked = mentions["crime_id"].notna() & mentions["role_side"].notna()
        present |= linked & side.isin(set(side[linked & present]))
    ids = mentions["person_id"] if "person_id" in mentions.columns else pd.Series(None)
    ids = ids.reindex(mentions.index)
    group = ids.where(ids.notna(), "record:" + mentions.index.astype(str)).astype(str)
    frame = pd.DataFrame(
        {
            "t": truth[mask].to_numpy(),
            "g": group[mask].to_numpy(),
            "info": present[mask].to_numpy(),
        }
    )
    groups = frame.groupby(["t", "g"])["info"].agg(["size", "max"]).reset_index()

    def pairs(n: pd.Series) -> int:
        return int((n * (n - 1) // 2).sum())

    total = pairs(frame.groupby("t").size())
    # every pair inside an id group, and every pair between groups that can be matched
    with_info = groups[groups["max"]].groupby("t")["size"].sum()
    reachable = pairs(with_info) + pairs(groups.loc[~groups["max"], "size"])
    return round(reachable / total, 4) if total else None


NO_DETAILS = "a side has only records without forename, surname or date of birth"


def missed_pair_causes(
    mentions: pd.DataFrame, keys: pd.Series, truth: pd.Series, mask: pd.Series
) -> dict[str, int]:
    """The missed pairs of the part (two records of one true person in different keys), by
    what differs between the two keys: each key stands for its record with the most of
    forename, surname and date of birth (a placeholder name counting as none; ties by mention
    id), and a pair is named by the fields that differ there (`dob (one missing)` where one
    side has none). Pairs reaching a key without any such record count under NO_DETAILS. An
    approximation (one record per key), to say which kind of noise the misses come from."""
    frame = pd.DataFrame(index=mentions.index)
    for column in ("forename", "surname", "date_of_birth"):
        text = (
            mentions[column].astype("string").fillna("").str.strip().str.lower()
            if column in mentions.columns
            else pd.Series("", index=mentions.index)
        )
        unnamed = is_placeholder_name(text) | text.isin({"nat", "nan", "none"})
        frame[column] = text.where(~unnamed, "")
    frame["key"], frame["truth"] = keys.to_numpy(), truth.to_numpy()
    frame = frame[mask.to_numpy()]
    given = (frame[["forename", "surname", "date_of_birth"]] != "").sum(axis=1)
    frame["details"] = given > 0
    # each key's record with the most details stands for it, ties by id: the same on every run
    # whatever order the warehouse returns the mentions in
    order = mentions["mention_id"].astype(str) if "mention_id" in mentions.columns else None
    frame["order"] = (order if order is not None else mentions.index.to_series()).to_numpy()[
        mask.to_numpy()
    ]
    frame = frame.assign(given=given).sort_values(["given", "order"], ascending=[False, True])
    split = frame.groupby("truth")["key"].transform("nunique") > 1
    frame = frame[split]
    sizes = frame.groupby(["truth", "key"]).size().rename("n")
    firsts = frame[frame["details"]].groupby(["truth", "key"]).first()
    keyed = sizes.to_frame().join(firsts).reset_index()
    out: dict[str, int] = {}
    for _, person in keyed.groupby("truth"):
        rows = list(person.itertuples(index=False))
        for i, a in enumerate(rows):
            for b in rows[i + 1 :]:
                pairs = int(a.n * b.n)
                if pd.isna(a.forename) or pd.isna(b.forename):  # a key with no details
                    cause = NO_DETAILS
                else:
                    differ = [f for f in ("forename", "surname") if getattr(a, f) != getattr(b, f)]
                    if a.date_of_birth != b.date_of_birth:
                        missing = "" in (a.date_of_birth, b.date_of_birth)
                        differ.append("dob (one missing)" if missing else "dob")
                    cause = " + ".join(differ) or "same forename, surname and dob"
                out[cause] = out.get(cause, 0) + pairs
    return dict(sorted(out.items(), key=lambda item: (-item[1], item[0])))


def febrl4_mentions(directory: Path) -> tuple[pd.DataFrame, pd.Series]:
    a, ta = febrl_mentions(directory / "dataset4a.csv")
    b, tb = febrl_mentions(directory / "dataset4b.csv")
    return pd.concat([a, b], ignore_index=True), pd.concat([ta, tb], ignore_index=True)


def benchmark_sources(directory: Path) -> dict[str, Callable[[], tuple[pd.DataFrame, pd.Series]]]:
    out: dict[str, Callable[[], tuple[pd.DataFrame, pd.Series]]] = {}
    for name in ("dataset1", "dataset2", "dataset3"):
        if (directory / f"{name}.csv").exists():
            out[f"febrl_{name}"] = lambda p=directory / f"{name}.csv": febrl_mentions(p)
    if (directory / "dataset4a.csv").exists() and (directory / "dataset4b.csv").exists():
        out["febrl_dataset4"] = lambda: febrl4_mentions(directory)
    for name in ("fake_1000", "fake_20000"):
        if (directory / f"{name}.csv").exists():
            out[name] = lambda p=directory / f"{name}.csv": fake_mentions(p)
    return out


def generator_source(
    workdir: Path, profile: str, seed: int, scale: str
) -> tuple[pd.DataFrame, pd.Series]:
    """The generator at a noise profile: extracts -> dbt mentions (as production) + truth."""
    from pipelines.synthetic import generate_force
    from pipelines.synthetic.presets import Rates

    extracts = workdir / f"{scale}_{seed}_{profile}"
    if not (extracts / "truth" / "person_mentions.csv").exists():
        generate_force(scale, seed, extracts, end_quarter=END_QUARTER, rates=Rates(noise=profile))
    return mentions_with_truth(extracts, workdir / f"{scale}_{seed}_{profile}.duckdb")


def independent_source(
    workdir: Path, seed: int, scale: str, given: Path | None = None
) -> tuple[pd.DataFrame, pd.Series] | None:
    """The independent force (or `given` stand-in extracts) built into mentions by the
    production dbt models, with its truth; None when the package is absent."""
    extracts = independent_extracts(
        workdir / f"independent_{scale}_{seed}",
        seed=seed,
        scale=scale,
        end_quarter=END_QUARTER,
        given=given,
    )
    if extracts is None:
        return None
    name = "given" if given is not None else f"{scale}_{seed}"
    return mentions_with_truth(extracts, workdir / f"independent_{name}.duckdb")


def mentions_with_truth(extracts: Path, warehouse: Path) -> tuple[pd.DataFrame, pd.Series]:
    """The mentions of a delivery with truth/ (built into `warehouse` unless there already),
    each with its true person (truth/person_mentions.csv by source and record key); mentions
    the truth does not name are dropped and counted (`truth_coverage` in attrs)."""
    if not warehouse.exists():
        build_mentions_warehouse(extracts, warehouse)
    mentions = read_mentions(warehouse)
    truth = pd.read_csv(extracts / "truth" / "person_mentions.csv", dtype=str)
    keyed = truth.set_index(["source", "record_key"])["true_person_id"]
    index = pd.MultiIndex.from_frame(mentions[["source", "record_key"]].astype(str))
    true_ids = keyed.reindex(index)
    kept = true_ids.notna().to_numpy()
    out = mentions[kept].reset_index(drop=True)
    out.attrs["truth_coverage"] = {"mentions": len(mentions), "with_truth": int(kept.sum())}
    return out, pd.Series(true_ids[kept].to_numpy())


def evaluate_source(
    name: str,
    mentions: pd.DataFrame,
    truth: pd.Series,
    cfg: ResolutionConfig,
    whole_held_out: bool = False,
    sweep: tuple[float, ...] = (),
) -> dict[str, Any]:
    mentions = mentions.reset_index(drop=True)
    truth = truth.reset_index(drop=True).astype(str)
    ids = mentions["mention_id"].astype(str)
    out_mask = pd.Series(True, index=truth.index) if whole_held_out else held_out_part(name, truth)
    in_mask = ~out_mask

    started = time.perf_counter()
    result = resolve_mentions(mentions, cfg)
    project_seconds = time.perf_counter() - started
    project_keys = (
        result.clusters.assign(mention_id=lambda f: f["mention_id"].astype(str))
        .set_index("mention_id")["person_key"]
        .astype(str)
        .reindex(ids)
        .reset_index(drop=True)
    )

    # other clustering thresholds, scored on the held-in part only (the threshold is chosen
    # there; a source held out whole is not swept)
    held_in_f1 = {}
    if in_mask.any():
        held_in_f1[cfg.match_probability_threshold] = part_metrics(project_keys, truth, in_mask)[
            "f1"
        ]
        for threshold in sweep:
            if threshold == cfg.match_probability_threshold:
                continue
            other = resolve_mentions(
                mentions, dataclasses.replace(cfg, match_probability_threshold=threshold)
            )
            keys = (
                other.clusters.assign(mention_id=lambda f: f["mention_id"].astype(str))
                .set_index("mention_id")["person_key"]
                .astype(str)
                .reindex(ids)
                .reset_index(drop=True)
            )
            held_in_f1[threshold] = part_metrics(keys, truth, in_mask)["f1"]

    reference_input = mentions.rename(columns={"mention_id": "unique_id"})
    by_threshold, reference_stats = splink_reference(reference_input, REFERENCE_THRESHOLDS)
    reference_keys = {
        t: keys.reindex(ids).reset_index(drop=True) for t, keys in by_threshold.items()
    }
    if in_mask.any():
        chosen = max(
            REFERENCE_THRESHOLDS,
            key=lambda t: part_metrics(reference_keys[t], truth, in_mask)["f1"],
        )
    else:  # a source held out whole: the tutorial's threshold, nothing chosen on it
        chosen = 0.95
    return {
        "source": name,
        "records": len(mentions),
        "true_people": int(truth.nunique()),
        "held_out_whole": whole_held_out,
        "project": {
            "threshold": cfg.match_probability_threshold,
            "seconds": round(project_seconds, 2),
            "comparisons_scored": result.stats.get("comparisons_scored"),
            "timings": result.stats.get("timings"),
            "held_in": part_metrics(project_keys, truth, in_mask),
            "held_out": part_metrics(project_keys, truth, out_mask),
            "all": part_metrics(project_keys, truth, pd.Series(True, index=truth.index)),
            "chain_dob_conflict_years": result.stats["clustering"].get("chain_dob_conflict_years"),
        },
        "held_in_f1_by_threshold": held_in_f1,
        "project_missed_pairs": {
            "held_in": missed_pair_causes(mentions, project_keys, truth, in_mask)
            if in_mask.any()
            else {},
            "held_out": missed_pair_causes(mentions, project_keys, truth, out_mask),
        },
        "recall_ceiling": {
            "held_in": recall_ceiling(mentions, truth, in_mask),
            "held_out": recall_ceiling(mentions, truth, out_mask),
        },
        "splink": {
            "threshold": chosen,
            "threshold_chosen_on": "held-in part" if in_mask.any() else "none (tutorial 0.95)",
            **reference_stats,
            "held_in": part_metrics(reference_keys[chosen], truth, in_mask),
            "held_out": part_metrics(reference_keys[chosen], truth, out_mask),
            "all": part_metrics(reference_keys[chosen], truth, pd.Series(True, index=truth.index)),
        },
    }


def _f(part: dict[str, Any], key: str) -> str:
    return f"{part[key]:.4f}" if part else "–"


# (source prefix, held-out F1 to reach); every source must also beat plain Splink
TARGETS = (
    ("febrl_", 0.97),
    ("fake_20000", 0.90),
    ("generator_force_default", 0.99),
    *((f"generator_force_{p}", 0.97) for p in noise.HELD_OUT),
)


def target_lines(results: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in results:
        f1 = r["project"]["held_out"].get("f1")
        reference = r["splink"]["held_out"].get("f1")
        if f1 is None:
            continue
        goal = next((g for prefix, g in TARGETS if r["source"].startswith(prefix)), None)
        verdict = []
        if goal is not None:
            verdict.append(f"F1 {f1:.4f} vs target {goal}: {'met' if f1 >= goal else 'NOT met'}")
        verdict.append(
            f"plain Splink {reference:.4f}: {'not below' if f1 >= reference else 'BELOW'}"
        )
        out.append(f"{r['source']}: " + "; ".join(verdict))
    return out


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Person resolution across sources: the project beside plain Splink",
        "",
        " ".join(
            [runtime_line(report.get("runtime")), carried_line(report.get("carried"))]
        ).strip(),
        "",
        f"Command: `{report['command']}`. Project threshold "
        f"{report['project_threshold']} (settings.yaml); plain Splink = "
        "`pipelines/evaluation/splink_reference.py` (tutorial configuration on forename, "
        "surname, date of birth, sex, postcode, and email where the source has one), its "
        "clustering threshold the best of "
        f"{', '.join(str(t) for t in REFERENCE_THRESHOLDS)} on the held-in part.",
        "",
        "**Held out**: in every source, the true people whose "
        f"crc32(source|true id) mod 1000 < {int(HELD_OUT_SHARE * 1000)} (~30 %); the generator "
        f"noise profile(s) {', '.join(noise.HELD_OUT)} whole, and `{INDEPENDENT}` whole: "
        f"{report.get('independent', 'the independent force')}. No threshold, weight or rule "
        "is chosen on a held-out part. Both methods run on the whole source without labels; "
        "pairs are scored within each part. The project's clustering threshold (settings.yaml) "
        "is checked on the held-in parts only (table below, with `--sweep`). "
        "*R ceiling*: the recall no method can pass: pairs reaching a record (or a group "
        "of records sharing a nominal id) with no forename, surname or date of birth at all, "
        "and no link to a crime whose same side holds a record with details, are out of reach.",
        "",
        "| source | records | true people | part | project P | project R | project F1 | "
        "Splink P | Splink R | Splink F1 | Splink threshold | R ceiling | project s | Splink s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        p, s = r["project"], r["splink"]
        for part in ("held_in", "held_out"):
            if not p[part]:
                continue
            label = "held-out" if part == "held_out" else "held-in"
            lines.append(
                f"| {r['source']} | {r['records']} | {r['true_people']} | **{label}** | "
                f"{_f(p[part], 'precision')} | {_f(p[part], 'recall')} | "
                f"{_f(p[part], 'f1')} | {_f(s[part], 'precision')} | "
                f"{_f(s[part], 'recall')} | {_f(s[part], 'f1')} | {s['threshold']} | "
                f"{r['recall_ceiling'][part]} | {p['seconds']} | {s['seconds']} |"
            )
    swept = sorted({t for r in report["results"] for t in r.get("held_in_f1_by_threshold", {})})
    if len(swept) > 1:
        lines += [
            "",
            "## Clustering threshold, held-in parts only",
            "",
            "| source | " + " | ".join(str(t) for t in swept) + " |",
            "|---|" + "---|" * len(swept),
        ]
        sums = dict.fromkeys(swept, 0.0)
        rows = [r for r in report["results"] if len(r.get("held_in_f1_by_threshold", {})) > 1]
        for r in rows:
            f1 = r["held_in_f1_by_threshold"]
            lines.append(
                f"| {r['source']} | "
                + " | ".join(f"{f1.get(t, float('nan')):.4f}" for t in swept)
                + " |"
            )
            for t in swept:
                sums[t] += f1.get(t, 0.0)
        lines.append(
            "| **mean** | " + " | ".join(f"**{sums[t] / len(rows):.4f}**" for t in swept) + " |"
        )
        best = max(swept, key=lambda t: sums[t])
        lines += [
            "",
            f"Best mean held-in F1: {best}; configured: {report['project_threshold']}.",
        ]
    missed = [r for r in report["results"] if r.get("project_missed_pairs")]
    if missed:
        lines += [
            "",
            "## The project's missed pairs by what differs",
            "",
            "Pairs of records of one true person left in different keys, by the fields that "
            "differ between the two keys' records with the most of forename, surname and date "
            "of birth (an approximation: one record per key; a placeholder name such as UNKNOWN "
            f"counts as none); `{NO_DETAILS}` holds most of the pairs beyond the R ceiling. "
            "The six largest per part; sources carried from an earlier run have none.",
            "",
            "| source | part | what differs | missed pairs | share |",
            "|---|---|---|---|---|",
        ]
        for r in missed:
            for part, causes in r["project_missed_pairs"].items():
                total = sum(causes.values())
                for cause, n in list(causes.items())[:6]:
                    label = "held-out" if part == "held_out" else "held-in"
                    lines.append(f"| {r['source']} | {label} | {cause} | {n} | {n / total:.1%} |")
    lines += ["", "Targets, on the held-out parts:", ""]
    lines += [f"- {text}" for text in target_lines(report["results"])]
    lines += [
        "",
        "Sources: FEBRL dataset1-3 (de-duplication) and dataset4a+4b read as one file "
        "(`rec_id` gives the truth), fake_1000 / fake_20000 (`cluster` / `group`), from "
        "../shared/data/dedup; generator = `spp generate --scale force --seed 42 --noise "
        "<profile>` built into mentions by the production dbt models. The benchmarks go "
        "through the thin column adapters of `pipelines.evaluation.resolution` (FEBRL: "
        "names, date of birth, postcode, address; fake_*: names, date of birth, email, city, "
        "which plain Splink compares too, as its tutorial does). "
        "On the generator the project also uses nominal ids and the crime context (as in "
        "production); plain Splink uses only the five fields. "
        f"`{INDEPENDENT}`: the independent generator's extracts built into mentions the same "
        "way, its truth read from its truth/person_mentions.csv by source and record key.",
        "",
    ]
    coverage = [
        f"- {r['source']}: {r['truth_coverage']['with_truth']} of "
        f"{r['truth_coverage']['mentions']} mentions named in its truth (the others are not "
        "scored)"
        for r in report["results"]
        if r.get("truth_coverage")
        and r["truth_coverage"]["with_truth"] < r["truth_coverage"]["mentions"]
    ]
    if coverage:
        lines += ["Mentions without truth:", "", *coverage, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.evaluation.resolution_sources")
    parser.add_argument("--scale", default="force")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--profiles", default=",".join(NOISE_PROFILES))
    parser.add_argument("--no-benchmarks", action="store_true")
    parser.add_argument("--only", help="comma-separated source names (prints JSON, no docs)")
    parser.add_argument(
        "--sources",
        help="comma-separated source names to run and write (e.g. independent_force); "
        "default every source",
    )
    # the force scale, like the generator sources beside it
    parser.add_argument("--independent-scale", default="force")
    parser.add_argument("--independent-seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--independent-extracts",
        type=Path,
        default=None,
        help="extracts with truth/ standing in for the independent force",
    )
    parser.add_argument(
        "--sweep",
        default="0.35,0.5,0.7",
        help="clustering thresholds also scored on the held-in parts (comma-separated; "
        "empty: none)",
    )
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the sources not run now from the resolution_sources.json already in --out "
        "(said so)",
    )
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    runtime = Runtime()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="spp_resolution_sources_"))
    cfg = configured_resolution(workdir)
    only = set(args.only.split(",")) if args.only else None
    selected = only or (set(args.sources.split(",")) if args.sources else None)
    results: list[dict[str, Any]] = []

    def run(
        name: str, load: Callable[[], tuple[pd.DataFrame, pd.Series] | None], whole: bool
    ) -> None:
        if selected and name not in selected:
            return
        loaded = load()
        if loaded is None:
            print(skip_message("resolution_sources"), flush=True)
            return
        mentions, truth = loaded
        coverage = mentions.attrs.get("truth_coverage")
        sweep = tuple(float(t) for t in args.sweep.split(",") if t)
        results.append(evaluate_source(name, mentions, truth, cfg, whole, sweep))
        r = results[-1]
        if coverage:
            r["truth_coverage"] = coverage
        print(
            f"{name}: project F1 in/out {r['project']['held_in'].get('f1')} / "
            f"{r['project']['held_out'].get('f1')}; Splink {r['splink']['held_in'].get('f1')} "
            f"/ {r['splink']['held_out'].get('f1')}",
            flush=True,
        )

    if not args.no_benchmarks:
        if not DEDUP_DIR.exists():
            print(f"skipping the dedup benchmarks: {DEDUP_DIR} not found", flush=True)
        for name, load in benchmark_sources(DEDUP_DIR).items():
            run(name, load, False)
    for profile in [p for p in args.profiles.split(",") if p]:
        noise.profile(profile)  # fails early on an unknown name
        run(
            f"generator_{args.scale}_{profile}",
            lambda p=profile: generator_source(workdir, p, args.seed, args.scale),
            profile in noise.HELD_OUT,
        )
    # held out whole: written blind to the project's generator, nothing chosen on it
    run(
        INDEPENDENT,
        lambda: independent_source(
            workdir, args.independent_seed, args.independent_scale, args.independent_extracts
        ),
        True,
    )
    argv_used = list(argv if argv is not None else sys.argv[1:])
    report = {
        "command": " ".join(["python -m pipelines.evaluation.resolution_sources", *argv_used]),
        "project_threshold": cfg.match_probability_threshold,
        "held_out_share": HELD_OUT_SHARE,
        "held_out_profiles": list(noise.HELD_OUT),
        "independent": describe(
            args.independent_scale, args.independent_seed, args.independent_extracts
        ),
        "results": results,
        "runtime": runtime.figures(),
    }
    if only:
        print(json.dumps(report, indent=2, default=str))
        return 0
    if not results:  # nothing ran: keep the docs of the last run
        print("resolution_sources: no source ran; nothing written", flush=True)
        return 0
    previous = previous_report(args.out / "resolution_sources.json", args.merge)
    if previous is not None:
        ran = {r["source"] for r in results}
        kept = [r for r in previous.get("results", []) if r["source"] not in ran]
        # the carried sources first, in their order, then those run now
        report["results"] = kept + results
        report["carried"] = carried(previous, [r["source"] for r in kept])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "resolution_sources.json").write_text(json.dumps(report, indent=2, default=str))
    md_path = args.out / "resolution_sources.md"
    # a hand-written note below the marker (what a run found and why) survives regeneration
    notes = existing_notes(md_path).strip("\n")
    md_path.write_text("\n".join([markdown(report).rstrip("\n"), "", NOTES_MARKER, notes, ""]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
