"""The independent synthetic force as a source every evaluation holds out whole.

`pipelines.evaluation.independent_force` is a force generator written apart from the
project's own (pipelines.synthetic), blind to its code, with its own population and noise
model; it writes the five extracts and truth/ in the project generator's truth format. No
threshold, weight or rule is chosen on it: figures on it are figures on data nobody here tuned
to. The package may be absent (the branches land in either order): an evaluation then skips
the part with `skip_message` and runs the rest. `given` extracts (with truth/) stand in for it,
e.g. the project generator's output in the tests or one delivery shared by several
evaluations.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import resource
import time
from pathlib import Path

import pandas as pd

PACKAGE = "pipelines.evaluation.independent_force"
# a name field holding only a placeholder (a nominal made for an unknown person) says no more
# than an empty one
PART = "independent"
DEFAULT_SEED = 1


def available() -> bool:
    """Whether the independent generator's package is on this branch."""
    return importlib.util.find_spec(PACKAGE) is not None


def skip_message(evaluation: str) -> str:
    return (
        f"{evaluation}: skipping the independent force: {PACKAGE} is not on this branch "
        "(pass --independent-extracts DIR to evaluate extracts with truth/ instead)"
    )


def independent_extracts(
    folder: Path,
    *,
    seed: int = DEFAULT_SEED,
    scale: str = "small",
    end_quarter: str = "2026-Q3",
    given: Path | None = None,
) -> Path | None:
    """Extracts with truth/ for the independent part: `given` when set, else the independent
    force generated into `folder` (kept from an earlier run when its truth is there); None when
    neither is possible (the package is absent)."""
    if given is not None:
        if not (given / "truth" / "crimes.csv").exists():
            raise FileNotFoundError(f"{given}: no truth/crimes.csv (extracts with truth/ needed)")
        return given
    if not available():
        return None
    if not (folder / "truth" / "crimes.csv").exists():
        generate = importlib.import_module(PACKAGE).generate_independent_force
        generate(folder, seed=seed, scale=scale, end_quarter=end_quarter)
    return folder


def describe(scale: str, seed: int, given: Path | None) -> str:
    """What the independent part was made from, for the docs."""
    if given is not None:
        return f"stand-in extracts ({given.name}, with truth/), not the independent force"
    return (
        f"the independent force ({PACKAGE}, scale {scale}, seed {seed}), written blind to the "
        "project's generator (its own population and noise model)"
    )


class Runtime:
    """Wall and CPU seconds (this process and the children it waited for) since creation,
    with the load average at the start: the machine is shared, so wall time alone says little."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = self._cpu()
        self.load = os.getloadavg()[0]

    @staticmethod
    def _cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def figures(self) -> dict[str, float]:
        return {
            "wall_seconds": round(time.perf_counter() - self.wall, 1),
            "cpu_seconds": round(self._cpu() - self.cpu, 1),
            "load_average_at_start": round(self.load, 2),
        }


def runtime_line(figures: dict[str, float] | None) -> str:
    """The runtime sentence at the top of an evaluation's doc."""
    if not figures:
        return "Runtime: not recorded."
    return (
        f"Runtime: {figures['wall_seconds']} s wall, {figures['cpu_seconds']} s CPU (this "
        f"process and its children), load average {figures['load_average_at_start']} at the "
        "start."
    )


def previous_report(path: Path, merge: bool) -> dict | None:
    """With `merge`, the report an earlier run wrote at `path` (None when there is none): the
    parts or sources not run now are carried from it, so that running one part alone (the
    independent force, say) keeps the others' figures in the docs, said to be carried."""
    if not merge or not path.exists():
        return None
    return json.loads(path.read_text())


def carried(previous: dict | None, names: list[str]) -> dict | None:
    """What the report says of the parts carried from `previous` (None when none are)."""
    if previous is None or not names:
        return None
    earlier = previous.get("carried") or {}
    if set(names) <= set(earlier.get("names", [])):
        # carried into the previous report already: name the run they come from
        return {**earlier, "names": names}
    return {
        "names": names,
        "command": previous.get("command"),
        "runtime": previous.get("runtime"),
    }


def carried_line(carry: dict | None) -> str:
    """The sentence under the runtime naming what was carried from an earlier run."""
    if not carry:
        return ""
    runtime = carry.get("runtime")
    took = f", which took: {runtime_line(runtime)[len('Runtime: ') :]}" if runtime else ""
    return (
        f"Carried from an earlier run, not re-run now: {', '.join(carry['names'])} (from "
        f"`{carry['command']}`{took}). The runtime above is this run's only."
    )


def is_placeholder_name(text: pd.Series) -> pd.Series:
    """A name field holding what is typed where a name is not known (UNKNOWN, N/K, ...), read
    as person resolution reads it (letters only, lower case; resolve.PLACEHOLDER_NAMES): the
    evaluations count such a record as unnamed, as the pipeline does."""
    from pipelines.resolution.resolve import PLACEHOLDER_NAMES

    letters = text.fillna("").astype(str).str.lower().str.replace(r"[^a-z]", "", regex=True)
    return letters.isin(PLACEHOLDER_NAMES)
