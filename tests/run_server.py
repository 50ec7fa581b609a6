"""Whole runs forked from one process that has imported what a run imports, once per session.

Every whole run of the suite used to be a fresh `spp profile` process paying the same start-up:
~4.4 s of CPU importing Dagster and the definitions, ~4 s importing Great Expectations (in the
run's validation process) and more for the analytics libraries, some 9-10 s of an otherwise
~45 s run, seven times a session on CI's two busy cores. The run server is a single-threaded
process that imports those modules once; each run is a child forked from it, so it is still a
process of its own (own pid, environment, working folder, console, priority; a signal ends it
as it ends `spp profile`) that starts with the imports done, and with dbt's project parsed for
the settings file's vars (each run loaded it again in a warm-up thread of its own).

Nor does a forked run start a fork server of its own for its analytics steps' workers (a fresh
interpreter importing the forecasting, hotspot and assessment libraries, ~3-4 s of CPU): the
server starts one before it forks any run, and every run asks it for its workers.

What a forked run does not repeat is the import of Great Expectations in a validation process
of its own: with GX imported already, `spp profile` checks the contracts in its own process
(pipelines/cli.py), as a second run in one process does. That the two give the same outcomes
is tests/contracts/test_gx_process.py's; the README's main command
(tests/test_end_to_end.py) still runs as a process of its own, validation process included.

Protocol: one JSON request a line on the server's stdin ({"id", "target", "argv", "env", "cwd",
"console", "niceness"}); it answers "started <id> <pid>" when it has forked the run and
"ended <id> <exit code>" (negative: killed by that signal, as Popen says) when the run ended.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

# What a whole run imports before and during its steps (the analytics libraries are imported
# by their steps); the marts fixture's module for the marts tests' `dbt build`.
PRELOAD = (
    "pipelines.cli",
    "pipelines.definitions",
    "pipelines.dbt_project",
    "dbt.cli.main",
    # Imported by each run as its Dagster instance opens its storage and its first dbt step
    # builds (~0.35 s of CPU a run).
    "pipelines.event_log_sqlite",
    "dagster._core.storage.sqlite_storage",
    "dbt.task.build",
    "pipelines.contracts.gx_checks",
    "great_expectations",
    "pipelines.resolution",
    "pipelines.hotspots",
    "pipelines.forecasting",
    "pipelines.publish",
    "tests.analytics.force_fixture",
)
ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- the server
def _run_child(request: dict) -> None:
    """In the forked child: become the run (environment, folder, console, priority), then run
    its target; never returns."""
    code = 1
    try:
        if request.get("niceness"):
            os.nice(request["niceness"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        stdin = os.open(os.devnull, os.O_RDONLY)
        console = os.open(request["console"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(stdin, 0)
        os.dup2(console, 1)
        os.dup2(console, 2)
        os.close(stdin)
        os.close(console)
        _own_resource_tracker()
        _share_the_fork_server()
        sys.argv = [request["target"], *request["argv"]]
        module_name, _, function = request["target"].partition(":")
        module = importlib.import_module(module_name)
        if function:
            getattr(module, function)()  # the console script's function: exits itself
        else:
            import runpy

            runpy.run_module(module_name, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _own_resource_tracker() -> None:
    """Let go of the server's multiprocessing resource tracker (its imports started one): the
    run starts its own when it first needs it, writing to the run's console as a run of its
    own does, so a killed run's leaked semaphores are reported there, not to the session."""
    from multiprocessing import resource_tracker

    tracker = resource_tracker._resource_tracker
    if tracker._fd is not None:
        os.close(tracker._fd)
    tracker._fd = None
    tracker._pid = None


def _share_the_fork_server() -> None:
    """Let the run ask the server's fork server (started in `serve`) for its analytics
    workers instead of starting one of its own. The inherited one is the server's child, not
    the run's, so multiprocessing's liveness check (a waitpid on it) cannot be made here: a
    fork server that died fails the run's step, as one of its own would."""
    from multiprocessing import forkserver, resource_tracker

    def ensure_running() -> None:
        resource_tracker.ensure_running()  # the run's own tracker, passed on to its workers

    # Both names: a pool's request calls the method, pipelines/fork_server.py the module's.
    forkserver._forkserver.ensure_running = ensure_running  # type: ignore[method-assign]
    forkserver.ensure_running = ensure_running


def _reap(children: dict[int, str]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        run_id = children.pop(pid, None)
        if run_id is not None:
            print(f"ended {run_id} {os.waitstatus_to_exitcode(status)}", flush=True)


def _parse_the_dbt_project() -> None:
    """dbt's parsed project for the settings file's vars, loaded here once: every run loads it
    as its extracts load (pipelines/dbt_project.py `start_warm_up`, ~1.5 s of CPU a run), and a
    forked run finds it loaded, as a second run in one process does. A run with other settings
    (other PARSE_SECTIONS values) parses for its own, as before."""
    from pipelines.dbt_project import project_manifest
    from pipelines.settings import dbt_vars, load_settings

    project_manifest(dbt_vars(load_settings()))


def serve() -> None:
    for module in PRELOAD:
        importlib.import_module(module)
    _parse_the_dbt_project()
    # Every run's forecast, hotspot and assessment steps take their workers from a fork server
    # (pipelines/fork_server.py): a fresh interpreter importing those steps' libraries, ~3 s of
    # CPU that each run paid again for its own. One, started here, serves every run forked below.
    from pipelines import fork_server
    from pipelines.cli import FIT_WORKER_MODULES

    fork_server.start(FIT_WORKER_MODULES)
    # A fork copies only the forking thread: with another thread holding a lock at that moment
    # the child could hang or crash (pipelines/fork_server.py). Nothing above starts one.
    assert threading.active_count() == 1, threading.enumerate()
    print("ready", flush=True)
    children: dict[int, str] = {}
    stdin = sys.stdin.fileno()
    buffer = b""
    while True:
        readable, _, _ = select.select([stdin], [], [], 0.05)
        if readable:
            chunk = os.read(stdin, 65536)
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = json.loads(line)
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    _run_child(request)
                children[pid] = request["id"]
                print(f"started {request['id']} {pid}", flush=True)
        _reap(children)
    # The session has ended: a run still going does not outlive it.
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for _ in list(children):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(-1, 0)


# --------------------------------------------------------------------------- the client
class ForkedRun:
    """A run forked by the server, with the part of Popen's interface the suite uses."""

    def __init__(self, run_id: str, console: Path) -> None:
        self.id, self.console = run_id, console
        self.pid = 0
        self.returncode: int | None = None
        self._started = threading.Event()
        self._ended = threading.Event()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(f"run {self.id}", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def console_text(self) -> str:
        return self.console.read_text(errors="replace")

    def console_lines(self, poll_seconds: float = 0.05) -> Iterator[bytes]:
        """The console's lines as the run writes them, until it has ended."""
        with self.console.open("rb") as console:
            pending = b""
            while True:
                ended = self.poll() is not None
                chunk = console.read()
                *lines, pending = (pending + chunk).split(b"\n")
                yield from (line + b"\n" for line in lines)
                if ended and not chunk:  # it had ended before this read: nothing more comes
                    if pending:
                        yield pending
                    return
                if not chunk:
                    time.sleep(poll_seconds)


class RunServer:
    """The server process and the thread reading its answers."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.run_server"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._runs: dict[str, ForkedRun] = {}
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._next = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            kind, *rest = line.split()
            if kind == "ready":
                self._ready.set()
            elif kind in {"started", "ended"}:
                run = self._runs[rest[0]]
                if kind == "started":
                    run.pid = int(rest[1])
                    run._started.set()
                else:
                    run.returncode = int(rest[1])
                    run._ended.set()
        # The server is gone: nothing it forked will be reported any more.
        self._ready.set()
        for run in self._runs.values():
            if not run._ended.is_set():
                if run.returncode is None:
                    run.returncode = -signal.SIGKILL
                run._started.set()
                run._ended.set()

    def start(
        self,
        target: str,
        argv: list[str],
        env: dict[str, str],
        console: Path,
        niceness: int = 0,
        cwd: Path = ROOT,
    ) -> ForkedRun:
        """Fork a run of `target` ("module:function", or a module run as __main__) with `argv`,
        `env`, stdout and stderr appended to `console`, at `niceness` above the server's."""
        self._ready.wait()
        assert self.process.poll() is None, "the run server has ended"
        console.open("ab").close()  # there to be read from the start
        with self._lock:
            self._next += 1
            run = ForkedRun(str(self._next), console)
            self._runs[run.id] = run
            request = {
                "id": run.id,
                "target": target,
                "argv": [str(a) for a in argv],
                "env": env,
                "cwd": str(cwd),
                "console": str(console),
                "niceness": niceness,
            }
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        run._started.wait()
        return run

    def stop(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


if __name__ == "__main__":
    serve()
