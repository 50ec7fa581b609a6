"""Great Expectations in a process of its own, for `spp profile`.

Importing GX (with pandas and SciPy) and registering the five suites is ~3 s of CPU, pure
Python. Inside the run it held the GIL while the extracts loaded, and the run's process does
nothing else at the same time on a 2-core machine. So the CLI starts this process before it
imports Dagster: GX is imported and the suites registered on the other core while the run
starts up. The contract checks then build each batch in the run's process as before
(gx_checks.batch_frame: the DuckDB reads and derived columns) and send it here, each as soon
as it is built, so this process checks one while the run builds the next
(validate_elsewhere_many); the verdict comes from the same function either way
(gx_checks.validate_frame), so nothing is checked differently.

The process validates each extract it was started for once and then exits, so its memory is
not held for the rest of the run. If it fails in any way (it died, GX raised), the check runs
in the calling process instead, which then reports the error as it always did. Batches travel
pickled over the process's stdin and replies over a duplicate of its stdout (anything GX
prints goes to stderr). When the run's process dies, the pipe closes and this process exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from pipelines.contracts.gx_checks import SuiteOutcome

    # (extract, suite, batch, expectation parameters): what one validation is sent.
    Batch = tuple[str, dict[str, Any], pd.DataFrame, dict[str, Any]]

log = logging.getLogger(__name__)

_PROJECT_ROOT = Path(__file__).resolve().parents[2]
# It exits as soon as its input closes; this only bounds a hung one.
_EXIT_TIMEOUT_SECONDS = 10


class _ValidationProcess:
    def __init__(self, extracts: Sequence[str]) -> None:
        self.pending = set(extracts)
        env = dict(os.environ)
        # The same code as the run's process, wherever the command was started.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.contracts.gx_process", *extracts],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        # Batches handed over while the run goes on (submit): written to the process by a
        # thread of their own, its replies read by another, so no side waits on a full pipe.
        self.submitted: list[str] = []
        self.rows_in_table: dict[str, int] = {}
        self._outbox: queue.Queue[Batch | None] | None = None
        self._replies: list[tuple[str, Any]] = []
        self._threads: list[threading.Thread] = []

    def validate(
        self,
        extract: str,
        suite_json: dict[str, Any],
        frame: pd.DataFrame,
        parameters: dict[str, Any],
    ) -> SuiteOutcome:
        assert self.process.stdin is not None and self.process.stdout is not None
        pickle.dump(
            (extract, suite_json, frame, parameters),
            self.process.stdin,
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        self.process.stdin.flush()
        status, reply = pickle.load(self.process.stdout)
        if status != "ok":
            raise RuntimeError(f"GX raised {reply} in the validation process")
        self.pending.discard(extract)
        return reply

    def submit(self, batch: Batch, rows_in_table: int | None = None) -> None:
        """Hand over one batch without waiting: the process checks it while the caller goes
        on (the next extract's load, the next batch). `finish` collects the outcomes."""
        if self._outbox is None:
            self._outbox = queue.Queue()
            self._threads = [
                threading.Thread(target=self._send, name="gx-batches", daemon=True),
                threading.Thread(target=self._read_replies, name="gx-replies", daemon=True),
            ]
            for thread in self._threads:
                thread.start()
        self.submitted.append(batch[0])
        self.pending.discard(batch[0])
        if rows_in_table is not None:
            self.rows_in_table[batch[0]] = rows_in_table
        self._outbox.put(batch)

    def _send(self) -> None:
        assert self._outbox is not None and self.process.stdin is not None
        with contextlib.suppress(OSError, pickle.PickleError):
            while (batch := self._outbox.get()) is not None:
                pickle.dump(batch, self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                self.process.stdin.flush()
        # Its input closed, the process answers what it was sent, then exits.
        with contextlib.suppress(OSError):
            self.process.stdin.close()

    def _read_replies(self) -> None:
        assert self.process.stdout is not None
        with contextlib.suppress(OSError, EOFError, pickle.PickleError):
            while True:
                self._replies.append(pickle.load(self.process.stdout))

    def finish(self) -> dict[str, SuiteOutcome]:
        """The outcome of every batch submitted, once the process has answered them all and
        exited. An extract whose batch failed is left out (the caller checks it itself)."""
        if self._outbox is None:
            return {}
        self._outbox.put(None)
        for thread in self._threads:
            thread.join()
        outcomes: dict[str, SuiteOutcome] = {}
        for extract, (status, reply) in zip(self.submitted, self._replies, strict=False):
            if status == "ok":
                if extract in self.rows_in_table:
                    reply.rows_in_table = self.rows_in_table[extract]
                outcomes[extract] = reply
            else:
                log.warning(
                    "contract check of %s: GX raised %s in the validation process; checking "
                    "here instead",
                    extract,
                    reply,
                )
        return outcomes

    def validate_many(self, batches: Iterable[Batch]) -> dict[str, SuiteOutcome]:
        """Each batch's outcome (and those submitted before), each sent as soon as it is
        built: the process checks one batch while the caller builds the next."""
        for batch in batches:
            self.submit(batch)
        return self.finish()

    def close(self, wait: bool = True) -> None:
        """Close its input, on which it exits; `wait=False` ends it at once (its work is no
        longer wanted)."""
        if not wait:
            self.process.kill()
        if self.process.stdin is not None:
            # A process that died has closed its end already.
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=_EXIT_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


_process: _ValidationProcess | None = None
_LOCK = threading.Lock()


def start(extracts: Sequence[str]) -> None:
    """Start the validation process for these extracts (once; the CLI calls it first thing)."""
    global _process
    with _LOCK:
        if _process is None:
            _process = _ValidationProcess(extracts)


def is_running() -> bool:
    return _process is not None


def stop() -> None:
    """End the validation process if it is still running (the run is over or failed early)."""
    global _process
    with _LOCK:
        if _process is not None:
            _process.close(wait=False)
            _process = None


def wait() -> None:
    """Return when the validation process has exited (it does after its last extract, or when
    stopped); at once when none was started."""
    process = _process
    if process is not None:
        process.process.wait()


def submit(batch: Batch, rows_in_table: int) -> bool:
    """Hand the extract's batch to the validation process now, to be checked while the run
    goes on; `validate_elsewhere_many` returns its outcome with the others. False when there
    is no process for this extract (the contract-check step then checks it as before)."""
    with _LOCK:
        if _process is None or batch[0] not in _process.pending:
            return False
        _process.submit(batch, rows_in_table)
        return True


def submitted() -> frozenset[str]:
    """The extracts whose batch the validation process has been given already."""
    with _LOCK:
        return frozenset(_process.submitted) if _process is not None else frozenset()


def validate_elsewhere(
    extract: str,
    suite_json: dict[str, Any],
    frame: pd.DataFrame,
    parameters: dict[str, Any],
) -> SuiteOutcome | None:
    """The batch's outcome from the validation process, or None when there is none for this
    extract (not started, already used, or failed: the caller validates in-process)."""
    global _process
    with _LOCK:
        # A process given batches to check in the background answers them all at the end.
        if _process is None or extract not in _process.pending or _process.submitted:
            return None
        try:
            outcome = _process.validate(extract, suite_json, frame, parameters)
        except (OSError, EOFError, pickle.PickleError, RuntimeError) as error:
            # The error's type only: a message could quote a value of the batch.
            log.warning(
                "contract check of %s: validation process failed (%s); checking here instead",
                extract,
                type(error).__name__,
            )
            _process.close(wait=False)
            _process = None
            return None
        if not _process.pending:
            # Its work is done: ended now, rather than waiting for the interpreter to unload GX.
            _process.close(wait=False)
            _process = None
        return outcome


def validate_elsewhere_many(batches: Iterable[Batch]) -> dict[str, SuiteOutcome]:
    """validate_elsewhere for several batches, built one by one as the process checks the one
    before (`gx_checks.run_suites`), and those `submit` gave it earlier. Returns the outcomes
    the process gave; the caller checks the rest in its own process (none when no process was
    started, or it failed)."""
    global _process
    with _LOCK:
        process = _process
        if process is None:
            return {}
        _process = None
    wanted = (batch for batch in batches if batch[0] in process.pending)
    try:
        return process.validate_many(wanted)
    except (OSError, pickle.PickleError) as error:
        # The error's type only: a message could quote a value of the batch.
        log.warning(
            "contract checks: validation process failed (%s); checking here instead",
            type(error).__name__,
        )
        return {}
    finally:
        process.close(wait=False)


def _serve(extracts: Sequence[str], requests: IO[bytes], replies: IO[bytes]) -> None:
    from pipelines.contracts import gx_checks

    gx_checks.register_suites(extracts)
    while True:
        try:
            extract, suite_json, frame, parameters = pickle.load(requests)
        except EOFError:
            return
        try:
            reply: tuple[str, Any] = (
                "ok",
                gx_checks.validate_frame(extract, suite_json, frame, parameters),
            )
        except Exception as error:
            reply = ("error", type(error).__name__)
        pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()


if __name__ == "__main__":
    import gc

    from pipelines.cli import GC_THRESHOLDS

    # Importing GX leaves ~280,000 long-lived objects: the run's thresholds spare this process
    # its full collections as they spare the run's (pipelines/cli.py).
    gc.set_threshold(*GC_THRESHOLDS)
    # Ctrl-C reaches the whole process group: the run's process ends this one (or its pipe
    # closes), so no second traceback is printed from here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Replies go to a copy of stdout; stdout itself becomes stderr, so nothing GX prints can
    # corrupt them.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _serve(sys.argv[1:], sys.stdin.buffer, replies)
