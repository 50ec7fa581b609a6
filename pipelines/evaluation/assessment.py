"""How well the assessment's rule separates real change from noise, on generated forces.

    python -m pipelines.evaluation.assessment [--warehouse FILE --quarter Q]
                                              [--heldout-warehouse FILE --heldout-quarter Q]
                                              [--reps 500]

For each force (held-in: seed 42; held-out: seed 7, never looked at while the rule's
thresholds were set; both `small` scale unless warehouses are given) it reports:
- the judgments the run made on the real quarter (signal, comparison, change, p, phrase:
  reporting.rpt_assessment_judgments);
- size: on Poisson noise drawn at every count signal's real level (no change at all), the
  share of comparisons judged, for the rule (exact test + minimum effect) and for the
  baseline a hand-made profile uses (a change of at least the same minimum, no test);
- power: the share of planted +50% and +100% changes at the same levels that are judged.
Writes docs/evaluation/assessment.{json,md}. Thresholds come from the settings (a priori
values; nothing here tunes them).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import duckdb
import numpy as np

from pipelines import assessment
from pipelines.paths import PROJECT_ROOT
from pipelines.quarters import shift_quarter
from pipelines.settings import AssessmentSettings, load_settings

OUT = PROJECT_ROOT / "docs" / "evaluation"
FORCES = {"held_in": ("small", 42), "held_out": ("small", 7)}
END_QUARTER = "2025-Q4"


def _signals(warehouse: Path, quarter: str) -> list[assessment.Signal]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select * from reporting.rpt_assessment_signals").df()
    return assessment.signals_from_rows(
        rows.to_dict("records"), quarter, shift_quarter(quarter, -1), shift_quarter(quarter, -4)
    )


def _baseline_judged(test: assessment.Test, rules: AssessmentSettings) -> bool:
    """A hand-made profile's rule: report any change of at least the minimum, untested."""
    return abs(test.change) >= rules.min_relative_change


def simulate(
    signals: list[assessment.Signal], rules: AssessmentSettings, reps: int, lift: float, seed: int
) -> dict[str, float]:
    """Share of comparisons judged when the true rate changed by `lift` (0 = noise)."""
    rng = np.random.default_rng(seed)
    counts = [s for s in signals if s.kind == "count" and s.now.numerator > 0]
    method = baseline = total = 0
    for _ in range(reps):
        for s in counts:
            level = s.now.numerator
            now = int(rng.poisson(level * (1 + lift)))
            before = int(rng.poisson(level))
            test = assessment.count_test(now, before, "previous quarter", s.signal)
            if test is None:
                continue
            total += 1
            method += assessment.is_judgment(test, rules)
            baseline += _baseline_judged(test, rules)
    return {
        "comparisons": total,
        "method": round(method / total, 4) if total else None,
        "baseline": round(baseline / total, 4) if total else None,
    }


def _judgments(warehouse: Path, quarter: str) -> list[dict]:
    """The judgments the run made (reporting.rpt_assessment_judgments), in rank order."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select signal, measure_kind, comparison, direction, change, p_value, "
            "probability_phrase from reporting.rpt_assessment_judgments where quarter = ? "
            "order by judgment_rank",
            [quarter],
        ).fetchall()
    return [
        {
            "signal": signal,
            "kind": kind,
            "comparison": comparison,
            "direction": direction,
            "change": round(change, 3),
            "p_value": float(f"{p_value:.3g}"),
            "phrase": phrase,
        }
        for signal, kind, comparison, direction, change, p_value, phrase in rows
    ]


def measure(warehouse: Path, quarter: str, rules: AssessmentSettings, reps: int) -> dict:
    signals = _signals(warehouse, quarter)
    return {
        "quarter": quarter,
        "signals": len(signals),
        "judgments": _judgments(warehouse, quarter),
        "noise": simulate(signals, rules, reps, 0.0, 1),
        "planted_50pct": simulate(signals, rules, reps, 0.5, 2),
        "planted_100pct": simulate(signals, rules, reps, 1.0, 3),
        "count_levels": sorted(s.now.numerator for s in signals if s.kind == "count"),
    }


def _run_force(scale: str, seed: int, scratch: Path) -> Path:
    from pipelines.cli import main as spp
    from pipelines.synthetic import generate_force

    extracts = scratch / f"{scale}-{seed}"
    generate_force(scale=scale, seed=seed, out_dir=extracts, end_quarter=END_QUARTER, years=5)
    warehouse = scratch / f"{scale}-{seed}.duckdb"
    code = spp(
        ["profile", "--extracts", str(extracts), "--quarter", END_QUARTER,
         "--out", str(scratch / f"out-{seed}"), "--warehouse", str(warehouse),
         "--run-date", "2026-01-15"]
    )  # fmt: skip
    if code != 0:
        raise SystemExit(f"spp profile failed on the {scale} force seed {seed}")
    return warehouse


def write(results: dict, rules: AssessmentSettings) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "assessment.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# Assessment rule: real change against noise",
        "",
        "`python -m pipelines.evaluation.assessment` (generated forces: held-in "
        f"{FORCES['held_in']}, held-out {FORCES['held_out']}; the held-out force was never "
        "looked at while the thresholds were set). Rule: exact conditional test p < "
        f"{rules.significance} and a change of at least {rules.min_relative_change:.0%}. "
        f"Baseline: any change of at least {rules.min_relative_change:.0%}, untested (what a "
        "hand-made profile reports). Shares are of count comparisons, Poisson draws at each "
        "count signal's real level in the quarter.",
        "",
        "| measure | held-in rule | held-in baseline | held-out rule | held-out baseline |",
        "|---|---|---|---|---|",
    ]
    for key, label in (
        ("noise", "judged when nothing changed (false judgments)"),
        ("planted_50pct", "judged when the rate rose 50%"),
        ("planted_100pct", "judged when the rate doubled"),
    ):
        a, b = results["held_in"][key], results["held_out"][key]
        lines.append(
            f"| {label} | {a['method']:.1%} | {a['baseline']:.1%} | {b['method']:.1%} | "
            f"{b['baseline']:.1%} |"
        )
    for part in ("held_in", "held_out"):
        r = results[part]
        lines += [
            "",
            f"## Judgments on the real quarter, {part.replace('_', '-')} ({r['quarter']})",
            "",
        ]
        if not r["judgments"]:
            lines.append("None: no measure changed beyond chance and the minimum effect.")
        for j in r["judgments"]:
            change = (
                f"{j['change']:+.0%}"
                if j.get("kind") == "count"
                else f"{j['change'] * 100:+.0f} points"
            )
            lines.append(
                f"- {j['signal']}: {j['direction'].replace('_', ' ')} against the "
                f"{j['comparison']} ({change}), p = {j['p_value']:.2g}, {j['phrase']}"
            )
    (OUT / "assessment.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.evaluation.assessment")
    parser.add_argument("--warehouse")
    parser.add_argument("--quarter", default=END_QUARTER)
    parser.add_argument("--heldout-warehouse")
    parser.add_argument("--heldout-quarter", default=END_QUARTER)
    parser.add_argument("--reps", type=int, default=500)
    args = parser.parse_args(argv)
    rules = load_settings().assessment
    with tempfile.TemporaryDirectory(prefix="spp-assessment-") as tmp:
        scratch = Path(tmp)
        held_in = (
            Path(args.warehouse) if args.warehouse else _run_force(*FORCES["held_in"], scratch)
        )
        held_out = (
            Path(args.heldout_warehouse)
            if args.heldout_warehouse
            else _run_force(*FORCES["held_out"], scratch)
        )
        results = {
            "rule": {
                "significance": rules.significance,
                "min_relative_change": rules.min_relative_change,
                "min_rate_gap": rules.min_rate_gap,
            },
            "held_in": measure(held_in, args.quarter, rules, args.reps),
            "held_out": measure(held_out, args.heldout_quarter, rules, args.reps),
        }
    write(results, rules)
    print((OUT / "assessment.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
