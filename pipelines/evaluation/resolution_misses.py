"""Where the force preset's missed pairs are, and what linking could still reach them:
`python -m pipelines.evaluation.resolution_misses`.

Runs the project's resolution on the generator's force preset (built into mentions by the
production dbt models, as `resolution_sources` does) and sorts every missed pair (two records
of one true person left in different keys) by the evidence that joins the two records
besides their details:

- the same crime on opposite sides (kept apart by the incident constraint by design);
- an intelligence subject whose report is linked to a crime on which its true person is
  recorded on the same side (what blocking on "the people on the report's linked crime"
  could reach);
- a shared counterpart: a victim (or suspect) nominal id on the other side of both records'
  incidents;
- nothing but the records' own details.

It also gives the recall and F1 ceiling of the linked-crime step: every intelligence subject
with such a linked crime moved, as an oracle would, into the key of its true person's record
on that crime. Figures are given for the held-in and held-out parts apart (the split of
`resolution_sources`); nothing is chosen on them.

Writes docs/evaluation/resolution_misses.json and .md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.evaluation.resolution import OUT_DIR
from pipelines.evaluation.resolution_sources import (
    configured_resolution,
    generator_source,
    held_out_part,
    part_metrics,
    recall_ceiling,
)
from pipelines.resolution import ResolutionConfig, resolve_mentions
from pipelines.settings import PersonSettings

SOURCE = "generator_force_default"
PLACEHOLDER_DOBS = {day.isoformat() for day in PersonSettings().placeholder_dates_of_birth}


def counterparts_by_record(mentions: pd.DataFrame) -> pd.Series:
    """Per mention: the nominal ids on the other side of its incidents (its report or crime
    and the crime its report is linked to)."""
    parts = [
        mentions[["mention_id", key, "role_side", "person_id"]].rename(columns={key: "incident"})
        for key in ("event_key", "crime_id")
    ]
    incidents = pd.concat(parts).dropna(subset=["incident", "role_side"])
    joined = incidents.merge(incidents, on="incident", suffixes=("", "_other"))
    joined = joined[
        (joined["role_side"] != joined["role_side_other"]) & joined["person_id_other"].notna()
    ]
    return joined.groupby("mention_id")["person_id_other"].agg(frozenset)


def linked_crime_reach(mentions: pd.DataFrame, truth: pd.Series) -> pd.Series:
    """Per intelligence subject with a linked crime on which its true person is recorded on
    the same side: the position of that crime record (else absent)."""
    labelled = mentions.assign(truth=truth, position=mentions.index)
    subjects = labelled[
        (labelled["source"] == "intelligence_subject") & labelled["crime_id"].notna()
    ]
    crime_records = labelled[labelled["source"] == "crime_persons"].drop_duplicates(
        ["crime_id", "role_side", "truth"]
    )
    found = subjects.rename(columns={"position": "subject"}).merge(
        crime_records[["crime_id", "role_side", "truth", "position"]],
        on=["crime_id", "role_side", "truth"],
    )
    return found.set_index("subject")["position"]


def _has_dob(value: Any) -> bool:
    return pd.notna(value) and str(value)[:10] not in PLACEHOLDER_DOBS


NO_DETAILS = "one record holds no name and no date of birth (reachable only through a linked crime)"
ONE_NAME = "one record holds a single name (forename or surname alone)"
NAMES_DIFFER = "both hold both names, spelt differently (typo, nickname, new surname)"
NAMES_EQUAL = "both hold both names, spelt the same"


def details_class(a: pd.Series, b: pd.Series) -> str:
    """What the two records' own details leave to match on: nothing on one side, a single
    name, full names that differ or full names that agree (the date of birth aside)."""
    names = [(r["forename"], r["surname"]) for r in (a, b)]
    if any(
        pd.isna(fore) and pd.isna(sur) and not _has_dob(r["date_of_birth"])
        for (fore, sur), r in zip(names, (a, b), strict=True)
    ):
        return NO_DETAILS
    if any(pd.isna(fore) or pd.isna(sur) for fore, sur in names):
        return ONE_NAME
    (fa, sa), (fb, sb) = names
    same = str(fa).upper() == str(fb).upper() and str(sa).upper() == str(sb).upper()
    return NAMES_EQUAL if same else NAMES_DIFFER


def missed_pairs(
    mentions: pd.DataFrame, keys: pd.Series, truth: pd.Series, mask: pd.Series
) -> pd.DataFrame:
    """Every pair of records in `mask` of one true person left in different keys, with the
    evidence that joins them besides their details."""
    counterparts = mentions["mention_id"].map(counterparts_by_record(mentions))
    reach = linked_crime_reach(mentions, truth)
    part = pd.DataFrame({"truth": truth[mask], "key": keys[mask]})
    split = part[part.groupby("truth")["key"].transform("nunique") > 1]
    pairs = split.reset_index(names="a").merge(
        split.reset_index(names="b"), on="truth", suffixes=("_a", "_b")
    )
    pairs = pairs[(pairs["a"] < pairs["b"]) & (pairs["key_a"] != pairs["key_b"])]
    rows = []
    for a, b in zip(pairs["a"], pairs["b"], strict=True):
        ra, rb = mentions.loc[a], mentions.loc[b]
        sources = sorted([ra["source"], rb["source"]])
        subject = next((r for r in (ra, rb) if r["source"] == "intelligence_subject"), None)
        ca, cb = counterparts[a], counterparts[b]
        if pd.notna(ra["crime_id"]) and ra["crime_id"] == rb["crime_id"]:
            evidence = "same crime, opposite sides" if ra["role_side"] != rb["role_side"] else ""
        else:
            evidence = ""
        if not evidence and (a in reach.index or b in reach.index):
            evidence = "intelligence subject's linked crime"
        if not evidence and isinstance(ca, frozenset) and isinstance(cb, frozenset) and ca & cb:
            evidence = "shared counterpart"
        rows.append(
            {
                "sources": " / ".join(sources),
                "evidence": evidence or "details only",
                "details": details_class(ra, rb),
                "intelligence_subject": subject is not None,
                "subject_has_linked_crime": subject is not None and pd.notna(subject["crime_id"]),
                "subject_details": None
                if subject is None
                else ", ".join(
                    name
                    for name, present in (
                        ("forename", subject["forename"] is not None),
                        ("surname", subject["surname"] is not None),
                        ("dob", _has_dob(subject["date_of_birth"])),
                    )
                    if present
                )
                or "none",
            }
        )
    return pd.DataFrame(rows)


ID_ONLY_ALL = "nominal ids with a counterpart and no name or date of birth anywhere"
ID_ONLY_NO_CANDIDATE = "no record with details shares a counterpart on the same side"
ID_ONLY_ONE_RIGHT = "one such key, the same true person"
ID_ONLY_ONE_WRONG = "one such key, another true person"
ID_ONLY_SEVERAL = "several such keys"
ID_ONLY_IN_KEY = "of the one-key ids, in that key (its true person / another)"


def id_only_reach(
    mentions: pd.DataFrame, keys: pd.Series, truth: pd.Series, mask: pd.Series
) -> dict[str, int]:
    """What linking a nominal id with no details anywhere (an intelligence victim, a protected
    person) through its counterpart alone would do: per such id in the part, the keys of the
    records with details on the same side that share one of its counterparts. One key of the
    same true person is a pair gained, one key of another person a wrong merge."""
    counterparts = mentions["mention_id"].map(counterparts_by_record(mentions))
    has_details = (
        mentions["forename"].notna()
        | mentions["surname"].notna()
        | mentions["date_of_birth"].map(_has_dob)
    )
    frame = mentions.assign(truth=truth, key=keys, cp=counterparts, details=has_details)[mask]
    with_id = frame[frame["person_id"].notna()]
    groups = with_id.groupby("person_id").agg(
        any_details=("details", "max"),
        truth=("truth", "first"),
        key=("key", "first"),
        side=("role_side", "first"),
        cps=("cp", lambda s: frozenset().union(*[x for x in s if isinstance(x, frozenset)])),
    )
    bare = groups[~groups["any_details"] & (groups["cps"].map(len) > 0)]
    detailed = frame[frame["details"] & frame["cp"].map(lambda x: isinstance(x, frozenset))]
    by_counterpart = (
        detailed.assign(counterpart=detailed["cp"].map(sorted))
        .explode("counterpart")
        .groupby("counterpart")
    )
    found: Counter[str] = Counter()
    in_key = {"right": 0, "wrong": 0}
    for row in bare.itertuples():
        near = [by_counterpart.get_group(c) for c in row.cps if c in by_counterpart.groups]
        candidates = pd.concat(near) if near else detailed.iloc[0:0]
        candidates = candidates[candidates["role_side"] == row.side]
        if candidates.empty:
            found[ID_ONLY_NO_CANDIDATE] += 1
        elif candidates["key"].nunique() > 1:
            found[ID_ONLY_SEVERAL] += 1
        elif row.truth in set(candidates["truth"]):
            found[ID_ONLY_ONE_RIGHT] += 1
            in_key["right"] += int(row.key in set(candidates["key"]))
        else:
            found[ID_ONLY_ONE_WRONG] += 1
            in_key["wrong"] += int(row.key in set(candidates["key"]))
    return {
        ID_ONLY_ALL: len(bare),
        **dict(found.most_common()),
        ID_ONLY_IN_KEY: f"{in_key['right']} / {in_key['wrong']}",
    }


def linked_crime_ceiling(
    mentions: pd.DataFrame, keys: pd.Series, truth: pd.Series, mask: pd.Series
) -> dict[str, Any]:
    """Metrics if every intelligence subject reachable through its linked crime took the key
    of its true person's record there (an oracle: the most the step could add)."""
    reach = linked_crime_reach(mentions, truth)
    moved = keys.copy()
    moved.loc[reach.index] = keys.loc[reach.to_numpy()].to_numpy()
    return {
        "subjects_reachable": int(mask[reach.index].sum()),
        "subjects_already_in_key": int(
            (keys.loc[reach.index].to_numpy() == keys.loc[reach.to_numpy()].to_numpy())[
                mask[reach.index].to_numpy()
            ].sum()
        ),
        **part_metrics(moved, truth, mask),
    }


CALIBRATION_BANDS = (0.02, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99, 1.0)


def lone_name_records(mentions: pd.DataFrame) -> pd.Series:
    """Records a method could match on one name alone: no nominal id, a forename or a surname
    but not both, no date of birth (placeholders count as missing), no counterpart on the
    other side of its incident and no linked crime. Linking such a record is a guess among
    the people who share that one name."""

    def present(column: str) -> pd.Series:
        values = mentions[column]
        return values.notna() & ~values.astype(str).str.strip().isin(["", "nan", "None", "NaT"])

    dob = mentions["date_of_birth"].map(_has_dob)
    counterparts = mentions["mention_id"].map(counterparts_by_record(mentions))
    crime = mentions["crime_id"] if "crime_id" in mentions else pd.Series(None, mentions.index)
    return (
        ~present("person_id")
        & (present("forename") ^ present("surname"))
        & ~dob
        & counterparts.isna()
        & crime.isna()
    )


def ceilings(
    mentions: pd.DataFrame, truth: pd.Series, mask: pd.Series, precision: float
) -> dict[str, Any]:
    """The recall ceiling of `resolution_sources` (pairs reaching a record or nominal-id group
    with no name, date of birth or linked crime are out of reach) beside a stricter one that puts
    the lone single-name records (lone_name_records) out of reach, and the F1 each allows at
    the project's precision."""
    lone = lone_name_records(mentions)
    blanked = mentions.copy()
    blanked.loc[lone, ["forename", "surname", "date_of_birth"]] = None
    out: dict[str, Any] = {"lone_name_records": int((lone & mask).sum())}
    for name, frame in (("as_computed", mentions), ("lone_names_out_of_reach", blanked)):
        recall = recall_ceiling(frame, truth, mask)
        f1 = 2 * precision * recall / (precision + recall) if recall else None
        out[name] = {"recall": recall, "f1_at_project_precision": round(f1, 4) if f1 else None}
    return out


def calibration(
    pairs: pd.DataFrame, clusters: pd.DataFrame, truth: pd.Series, mask: pd.Series
) -> list[dict[str, Any]]:
    """Scored node pairs of the part by match probability band: how many, the share that are
    one true person and the share the clustering put in one key. A band whose true share is
    well above its probabilities is one where the model is less sure than it could be."""
    mention_truth = pd.Series(truth.to_numpy(), index=clusters.index)
    nodes = clusters.assign(truth=mention_truth, in_part=mask.to_numpy()).groupby("node_id")
    node = pd.DataFrame(
        {
            "truth": nodes["truth"].first(),
            "key": nodes["person_key"].first(),
            "in_part": nodes["in_part"].all(),
        }
    )
    scored = pairs.join(node.add_suffix("_l"), on="unique_id_l").join(
        node.add_suffix("_r"), on="unique_id_r"
    )
    scored = scored[scored["in_part_l"].eq(True) & scored["in_part_r"].eq(True)]
    scored = scored.assign(
        same=scored["truth_l"] == scored["truth_r"],
        linked=scored["key_l"] == scored["key_r"],
        band=pd.cut(scored["match_probability"], list(CALIBRATION_BANDS)),
    )
    out = []
    for band, rows in scored.groupby("band", observed=True):
        out.append(
            {
                "band": f"{band.left:g}-{band.right:g}",
                "pairs": len(rows),
                "true_share": round(float(rows["same"].mean()), 3),
                "linked_share": round(float(rows["linked"].mean()), 3),
            }
        )
    return out


def evaluate(mentions: pd.DataFrame, truth: pd.Series, cfg: ResolutionConfig) -> dict[str, Any]:
    mentions = mentions.reset_index(drop=True)
    truth = truth.reset_index(drop=True).astype(str)
    cpu, wall = time.process_time(), time.perf_counter()
    # the scored pairs above the lowest calibration band are kept for the calibration table
    result = resolve_mentions(
        mentions, dataclasses.replace(cfg, keep_pairs_above=CALIBRATION_BANDS[0])
    )
    seconds = {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}
    clusters = (
        result.clusters.assign(mention_id=lambda f: f["mention_id"].astype(str))
        .set_index("mention_id")
        .reindex(mentions["mention_id"].astype(str))
        .reset_index()
    )
    keys = clusters["person_key"].astype(str)
    out_mask = held_out_part(SOURCE, truth)
    parts: dict[str, Any] = {}
    for part, mask in (("held_in", ~out_mask), ("held_out", out_mask)):
        missed = missed_pairs(mentions, keys, truth, mask)
        subject = missed[missed["intelligence_subject"]]
        parts[part] = {
            "metrics": part_metrics(keys, truth, mask),
            "missed_pairs": len(missed),
            "by_evidence": dict(Counter(missed["evidence"]).most_common()),
            "by_details": dict(Counter(missed["details"]).most_common()),
            "calibration": calibration(result.pairs, clusters, truth, mask),
            "by_sources": dict(Counter(missed["sources"]).most_common()),
            "intelligence_subject_pairs": len(subject),
            "intelligence_subject_with_linked_crime": int(
                subject["subject_has_linked_crime"].sum()
            ),
            "intelligence_subject_details": dict(Counter(subject["subject_details"]).most_common()),
            "linked_crime_ceiling": linked_crime_ceiling(mentions, keys, truth, mask),
            "id_only_reach": id_only_reach(mentions, keys, truth, mask),
        }
        parts[part]["ceilings"] = ceilings(
            mentions, truth, mask, parts[part]["metrics"]["precision"]
        )
    return {
        "source": SOURCE,
        "threshold": cfg.match_probability_threshold,
        "records": len(mentions),
        "resolution_seconds": {k: round(v, 2) for k, v in seconds.items()},
        "blocking_rules": result.stats.get("blocking_rules"),
        "parts": parts,
    }


def calibration_rows(held_in: list[dict[str, Any]], held_out: list[dict[str, Any]]) -> list[str]:
    by_band = {row["band"]: row for row in held_out}
    empty = {"pairs": 0, "true_share": "", "linked_share": ""}
    return [
        f"| {row['band']} | {row['pairs']} | {row['true_share']} | {row['linked_share']} | "
        f"{by_band.get(row['band'], empty)['pairs']} | "
        f"{by_band.get(row['band'], empty)['true_share']} | "
        f"{by_band.get(row['band'], empty)['linked_share']} |"
        for row in held_in
    ]


def markdown(report: dict[str, Any]) -> str:
    held_in, held_out = report["parts"]["held_in"], report["parts"]["held_out"]

    def table(field: str) -> list[str]:
        names = list(dict.fromkeys([*held_in[field], *held_out[field]]))
        return [
            f"| {name} | {held_in[field].get(name, 0)} | {held_out[field].get(name, 0)} |"
            for name in names
        ]

    def metric_row(label: str, a: dict[str, Any], b: dict[str, Any]) -> str:
        return (
            f"| {label} | {a['precision']:.4f} / {a['recall']:.4f} / {a['f1']:.4f} | "
            f"{b['precision']:.4f} / {b['recall']:.4f} / {b['f1']:.4f} |"
        )

    ceil_in, ceil_out = held_in["linked_crime_ceiling"], held_out["linked_crime_ceiling"]
    lines = [
        "# Missed pairs on the force preset, by what joins them",
        "",
        f"Command: `python -m pipelines.evaluation.resolution_misses`. Source: {SOURCE} "
        f"({report['records']} records; `spp generate --scale force --seed 42`, production dbt "
        "mentions). Held-out part: the 30 % split of `resolution_sources`. Resolution took "
        f"{report['resolution_seconds']['cpu']} CPU s ({report['resolution_seconds']['wall']} s "
        f"wall; load {report.get('load', '?')}).",
        "",
        "A missed pair is two records of one true person left in different keys.",
        "",
        "| evidence joining the two records | held-in | held-out |",
        "|---|---|---|",
        *table("by_evidence"),
        f"| **all missed pairs** | **{held_in['missed_pairs']}** | "
        f"**{held_out['missed_pairs']}** |",
        "",
        "| sources of the two records | held-in | held-out |",
        "|---|---|---|",
        *table("by_sources"),
        "",
        "| what the two records' own details leave to match on | held-in | held-out |",
        "|---|---|---|",
        *table("by_details"),
        "",
        "## How far recall can go",
        "",
        "The recall ceiling of `resolution_sources` counts every record holding a name, or "
        "linked to a crime whose same side holds a record with details, as reachable. A "
        "record with no nominal id, one name (forename or surname alone), no date "
        "of birth, no counterpart and no linked crime can only be linked by guessing among the "
        "people sharing that name; most are intelligence subjects of a prolific suspect, so "
        "each leaves many pairs. With them out of reach too:",
        "",
        "| | held-in | held-out |",
        "|---|---|---|",
        f"| lone single-name records | {held_in['ceilings']['lone_name_records']} | "
        f"{held_out['ceilings']['lone_name_records']} |",
        *[
            f"| recall ceiling, {label} (F1 at the project's precision) | "
            f"{held_in['ceilings'][key]['recall']} "
            f"({held_in['ceilings'][key]['f1_at_project_precision']}) | "
            f"{held_out['ceilings'][key]['recall']} "
            f"({held_out['ceilings'][key]['f1_at_project_precision']}) |"
            for key, label in (
                ("as_computed", "as computed"),
                ("lone_names_out_of_reach", "lone single-name records out of reach"),
            )
        ],
        metric_row("project P / R / F1", held_in["metrics"], held_out["metrics"]),
        "",
        "## Calibration of the scored pairs",
        "",
        "Node pairs scored by the model (both records in the part) by match probability: the "
        "share that are one true person and the share the clustering put in one key "
        f"(threshold {report['threshold']}). Where the true share is well above the band, "
        "the model is less sure than the data allows; linking those pairs directly still "
        "chains wrong ones (the held-in threshold sweep of `resolution_sources`).",
        "",
        "| match probability | held-in pairs | true share | in one key | held-out pairs "
        "| true share | in one key |",
        "|---|---|---|---|---|---|---|",
        *calibration_rows(held_in["calibration"], held_out["calibration"]),
        "",
        "Missed pairs with an intelligence subject: "
        f"{held_in['intelligence_subject_pairs']} held-in, of which "
        f"{held_in['intelligence_subject_with_linked_crime']} have a report linked to a crime "
        f"({held_out['intelligence_subject_pairs']} / "
        f"{held_out['intelligence_subject_with_linked_crime']} held-out). "
        "The subject's details in those pairs:",
        "",
        "| subject holds | held-in | held-out |",
        "|---|---|---|",
        *table("intelligence_subject_details"),
        "",
        "## Ceiling of blocking intelligence subjects against their linked crime",
        "",
        "An oracle moves every intelligence subject whose linked crime records its true person "
        "on the same side into that person's key.",
        "",
        "| | held-in | held-out |",
        "|---|---|---|",
        f"| subjects reachable this way | {ceil_in['subjects_reachable']} | "
        f"{ceil_out['subjects_reachable']} |",
        f"| of which already in that key | {ceil_in['subjects_already_in_key']} | "
        f"{ceil_out['subjects_already_in_key']} |",
        metric_row("project P / R / F1", held_in["metrics"], held_out["metrics"]),
        metric_row("with the oracle P / R / F1", ceil_in, ceil_out),
        "",
        "## Nominal ids with no details, linked through a counterpart",
        "",
        "Many missed pairs reach a nominal id that holds no name and no date of birth "
        "anywhere (an intelligence victim or protected person recorded under a second id). "
        "Its only evidence is a counterpart: the suspect on the other side of its report or "
        "order. Per such id with a counterpart nominal id, the keys of the records with "
        "details on the same side that share one. Resolution joins such an id to the one "
        "person on its side of its counterpart's incidents (the counterpart as resolved, so "
        "a subject without a nominal id counts) where that person was active within a year "
        "and the id is not a party to a crime itself (`clustering.attach_second_ids`); a "
        "crime's victim recorded without details is that crime's own victim, and victims of "
        "one suspect are often two people (the serial judgment rests on telling them apart), "
        "so one key of another person is left apart. The last row: of the ids with one such "
        "key, how many are in it now.",
        "",
        "| nominal ids without details | held-in | held-out |",
        "|---|---|---|",
        *table("id_only_reach"),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.evaluation.resolution_misses")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="spp_resolution_misses_"))
    cfg = configured_resolution(workdir)
    mentions, truth = generator_source(workdir, "default", args.seed, "force")
    report = evaluate(mentions, truth, cfg)
    report["load"] = round(os.getloadavg()[0], 2)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "resolution_misses.json").write_text(json.dumps(report, indent=2, default=str))
    (args.out / "resolution_misses.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
