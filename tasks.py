#!/usr/bin/env python3
"""Bootstrap and run the project with nothing but Python 3.11 and pip.

    python3 tasks.py profile   # set up, then write the demo force's quarterly profile
    python3 tasks.py test      # set up, then run every check CI runs

Set-up is idempotent: a virtual environment in .venv, the locked dependencies
(requirements.lock, installed with uv for speed), the project itself (editable),
and dbt's manifest (dagster-dbt reads it at import time). Anything after the task
name is passed through (e.g. `python3 tasks.py profile --quarter 2025-Q4`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".lock-installed"


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    completed = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def project_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env.setdefault("DO_NOT_TRACK", "1")
    return env


def setup() -> None:
    """Create the venv and install the lock file, only when it changed."""
    if not PY.exists():
        print(f"Creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    lock_digest = hashlib.sha256(LOCK.read_bytes() + b"editable-v1").hexdigest()
    if not STAMP.exists() or STAMP.read_text() != lock_digest:
        run(PY, "-m", "pip", "install", "--quiet", "uv")
        # Bytecode compiled once here: where PYTHONDONTWRITEBYTECODE is set, every run (and
        # every dbt subprocess) would otherwise recompile dagster, dbt and pandas (~2x start-up).
        run(BIN / "uv", "pip", "sync", "--compile-bytecode", "--python", PY, LOCK)
        run(BIN / "uv", "pip", "install", "--python", PY, "--no-deps", "-e", ".")
        STAMP.write_text(lock_digest)
    run(PY, "-m", "pipelines.dbt_project", "prepare", env=project_env())


def task_profile(args: list[str]) -> None:
    setup()
    run(BIN / "spp", "profile", *args, env=project_env())


def _lower_priority() -> None:
    os.nice(10)


class LintEnd(threading.Thread):
    """Waits for the lint process: when it ended and the CPU it took (its own and its workers')."""

    def __init__(self, process: subprocess.Popen) -> None:
        super().__init__(daemon=True)
        self.process = process
        self.ended = 0.0
        self.cpu_seconds = 0.0

    def run(self) -> None:
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(self.process.pid, 0)
            self.process.returncode = os.waitstatus_to_exitcode(status)
            self.cpu_seconds = usage.ru_utime + usage.ru_stime
        else:
            self.process.wait()
        self.ended = time.monotonic()


def task_test(args: list[str]) -> None:
    setup()
    env = project_env()
    run(BIN / "ruff", "check", ".", env=env)
    run(BIN / "ruff", "format", "--check", ".", env=env)
    # sqlfluff (~1.5 minutes of CPU in one process, its own dbt target path) lints while pytest
    # runs, at a lower priority: it takes the CPU the suite leaves idle (while a test waits for
    # a background run) instead of slowing the tests and their runs. Its report is printed after
    # the tests, with its CPU and when it ended (after the tests, it made CI longer); either
    # failing fails.
    lint_cmd = [str(BIN / "sqlfluff"), "lint", "dbt_project/models"]
    print("+", " ".join(lint_cmd), "(alongside pytest, niced)", flush=True)
    with tempfile.TemporaryFile() as lint_log:
        lint = subprocess.Popen(
            lint_cmd,
            cwd=ROOT,
            env=env,
            stdout=lint_log,
            stderr=subprocess.STDOUT,
            preexec_fn=_lower_priority if hasattr(os, "nice") else None,
        )
        lint_end = LintEnd(lint)
        lint_end.start()
        tests = subprocess.run([str(PY), "-m", "pytest", *args], cwd=ROOT, env=env)
        tests_ended = time.monotonic()
        lint_end.join()
        lint_log.seek(0)
        print("+", " ".join(lint_cmd), flush=True)
        sys.stdout.write(lint_log.read().decode(errors="replace"))
        after = lint_end.ended - tests_ended
        print(
            f"sqlfluff: {lint_end.cpu_seconds:.1f} s of CPU, ended "
            + (f"{after:.0f} s after the tests" if after > 0 else f"{-after:.0f} s before them"),
            flush=True,
        )
    if lint.returncode != 0:
        sys.exit(lint.returncode)
    if tests.returncode != 0:
        sys.exit(tests.returncode)


def task_setup(args: list[str]) -> None:
    setup()


TASKS = {"profile": task_profile, "test": task_test, "setup": task_setup}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        print(__doc__)
        sys.exit(2)
    TASKS[sys.argv[1]](sys.argv[2:])
