"""Worker processes forked from a fork server, not from the calling process.

A pipeline run holds threads (DuckDB's, dbt's, Dagster's, the dbt warm-up). A child forked from
such a process copies memory in whatever state those threads left it, and one forked while a
thread held a libc lock crashed there now and then under load (BrokenProcessPool in the forecast
step; segfaults in libc in the kernel log). The fork server is a fresh single-threaded process
that imports the modules the workers need once; every worker is forked from it, safely and in
~0.05 s. Starting it costs those imports (~2.5 s CPU for the forecasting module), so the CLI
starts it early, on the other core (`start`); a pool starts it itself if nobody has.

Kept free of heavy imports: the CLI imports it before Dagster.
"""

from __future__ import annotations

import importlib
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver
from typing import Any


def start(modules: Sequence[str]) -> None:
    """Start the fork server with `modules` imported in it (idempotent: the first call's
    modules stay; a later call with others only costs its workers those imports)."""
    multiprocessing.set_forkserver_preload(list(modules))
    forkserver.ensure_running()


# True in a worker running a function for `call`. A pool opened there forks its workers from
# that worker, a process with no threads of its own forked from the server, as safe to fork
# as the server; a fork server of its own would cost the worker a fresh interpreter importing
# everything again.
_in_worker = False


def pool(jobs: int, modules: Sequence[str]) -> ProcessPoolExecutor:
    """A process pool whose workers come from the fork server (started here if need be), or,
    in a worker of `call`, are forked from that worker."""
    if _in_worker:
        return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"))
    start(modules)
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("forkserver"))


def call(
    target: str, *args: Any, modules: Sequence[str] = (), import_meanwhile: Sequence[str] = ()
) -> Any:
    """`target` ("package.module:function") called with `args` in one worker of the fork
    server, its result returned. By name, so that the caller need not import the module (a
    step whose library the server imported in advance, on the other core).

    `import_meanwhile`: modules the caller's process will need later, imported by the calling
    thread while the worker computes, instead of blocking on the result (the caller's process
    is otherwise idle then, and its other threads wait too: no thread competes for the GIL)."""
    with pool(1, modules or [target.partition(":")[0]]) as worker:
        result = worker.submit(_call, target, *args)
        for module in import_meanwhile:
            importlib.import_module(module)
        return result.result()


def _call(target: str, *args: Any) -> Any:
    global _in_worker
    _in_worker = True
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(*args)
