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

import contextlib
import importlib
import mmap
import multiprocessing
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver
from pathlib import Path
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
    target: str,
    *args: Any,
    modules: Sequence[str] = (),
    import_meanwhile: Sequence[str] = (),
    large_result: bool = False,
) -> Any:
    """`target` ("package.module:function") called with `args` in one worker of the fork
    server, its result returned. By name, so that the caller need not import the module (a
    step whose library the server imported in advance, on the other core).

    `import_meanwhile`: modules the caller's process will need later, imported by the calling
    thread while the worker computes, instead of blocking on the result (the caller's process
    is otherwise idle then, and its other threads wait too: no thread competes for the GIL).

    `large_result`: the result's arrays come back through a file the caller maps, not the
    pipe (`_call_to_file`): the same objects, without pickling ~1.5 GB of arrays into bytes,
    sending them and unpickling them again (the national hotspot panel: ~6 s of the step)."""
    with (
        pool(1, modules or [target.partition(":")[0]]) as worker,
        _result_file(large_result) as path,
    ):
        if path is None:
            result = worker.submit(_call, target, *args)
        else:
            result = worker.submit(_call_to_file, path, target, *args)
        for module in import_meanwhile:
            importlib.import_module(module)
        value = result.result()
        return value if path is None else _result_from_file(path, *value)


def _call(target: str, *args: Any) -> Any:
    global _in_worker
    _in_worker = True
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(*args)


# Each array's data starts at a multiple of this in the file, so that every array the caller
# maps is aligned as numpy allocates one.
_ALIGN = 64


@contextlib.contextmanager
def _result_file(wanted: bool) -> Iterator[str | None]:
    """An empty file (owner-only) for a worker's large result, removed when the block ends
    whatever happens, so that an interrupted caller leaves nothing in shared memory; None
    when not wanted or none can be made (the result then comes through the pipe)."""
    if not wanted:
        yield None
        return
    try:
        fd, path = tempfile.mkstemp(prefix="spp-result-", dir=_result_dir())
        os.close(fd)
    except OSError:
        yield None
        return
    try:
        yield path
    finally:
        Path(path).unlink(missing_ok=True)


def _result_dir() -> str:
    """Shared memory (/dev/shm) where there is one, else the temporary directory."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else tempfile.gettempdir()


def _call_to_file(path: str, target: str, *args: Any) -> tuple[bytes, list[int] | None]:
    """`_call`'s result for `_result_from_file`: the pickle (protocol 5) without its arrays'
    data, which is written into the caller's file `path`, and the arrays' sizes. Where the
    file has no room (or is gone: the caller stopped waiting) the arrays stay in the pickle
    (sizes None); the file is never created here."""
    result = _call(target, *args)
    buffers: list[pickle.PickleBuffer] = []
    header = pickle.dumps(result, protocol=5, buffer_callback=buffers.append)
    views = [buffer.raw() for buffer in buffers]
    sizes = [view.nbytes for view in views]
    try:
        if shutil.disk_usage(Path(path).parent).free < 2 * sum(sizes):
            raise OSError("no room for the result")
        with open(path, "r+b") as out:
            for view in views:
                out.write(view)
                out.write(b"\0" * (-view.nbytes % _ALIGN))
    except OSError:
        return pickle.dumps(result, protocol=5), None
    return header, sizes


def _result_from_file(path: str, header: bytes, sizes: list[int] | None) -> Any:
    """The result `_call_to_file` wrote: its arrays are views of the file mapped copy-on-write
    (writable, and nothing written back); the mapping outlives the file's name, which the
    caller removes."""
    if sizes is None:
        return pickle.loads(header)
    mapped = None
    if sum(sizes):
        with open(path, "rb") as source:
            mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_COPY)
    whole = memoryview(mapped) if mapped is not None else memoryview(b"")
    buffers, offset = [], 0
    for size in sizes:
        buffers.append(whole[offset : offset + size])
        offset += size + (-size % _ALIGN)
    return pickle.loads(header, buffers=buffers)
