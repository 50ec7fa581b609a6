"""A profile run that is private, single and all-or-nothing.

- Private: everything a run creates is owner-only by default (umask 077): the warehouse holds
  names, dates of birth and quarantined rows; Dagster's storage holds run logs. Only the
  published quarter folder is opened up (files 0644, folders 0755), and its restricted/ part
  stays owner-only.
- Single: one run per warehouse at a time, held by a lock file beside it naming the holder's
  pid, host and start time. A lock whose process is gone (same host) is stale and taken over.
  `spp profile` holds it around the whole run; runs started from the Dagster UI take it through
  their warehouse resource (pipelines/resources.py).
- All-or-nothing: the run works on a copy of the warehouse (`<warehouse>.next`) and writes the
  quarter into a staging folder; only when every step (and the publish guard) has passed are
  the copy renamed over the warehouse and the staging folder over OUT/YYYY-Qn. A run killed
  before that leaves the previous warehouse and published quarter exactly as they were.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # openpyxl is not loaded at start-up for a type
    from openpyxl import Workbook

PRIVATE_UMASK = 0o077
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
PUBLISHED_DIR, PUBLISHED_FILE = 0o755, 0o644
RESTRICTED_DIR = "restricted"
# Files DuckDB keeps beside a database.
WAREHOUSE_SIDE_FILES = (".wal",)


class WarehouseBusy(RuntimeError):
    """Another run holds the warehouse."""


class RunPathUnusable(RuntimeError):
    """The output folder or the warehouse file cannot be written where it was asked for."""


def private_by_default() -> None:
    """Every file and folder this process (and its dbt subprocesses) creates is owner-only."""
    os.umask(PRIVATE_UMASK)


def make_private(*paths: Path) -> None:
    """Owner-only modes for existing stores (a warehouse or state folder made by an older
    version, or before the umask was set). Folders are walked."""
    for path in paths:
        if not path.exists():
            continue
        if path.is_file():
            path.chmod(PRIVATE_FILE)
            continue
        path.chmod(PRIVATE_DIR)
        for root, dirs, files in os.walk(path):
            for name in dirs:
                Path(root, name).chmod(PRIVATE_DIR)
            for name in files:
                Path(root, name).chmod(PRIVATE_FILE)


def open_published(quarter_dir: Path) -> None:
    """The published quarter folder readable by others; restricted/ stays owner-only."""
    quarter_dir.chmod(PUBLISHED_DIR)
    for root, dirs, files in os.walk(quarter_dir):
        here = Path(root)
        restricted = RESTRICTED_DIR in here.relative_to(quarter_dir).parts
        for name in dirs:
            private = restricted or name == RESTRICTED_DIR
            (here / name).chmod(PRIVATE_DIR if private else PUBLISHED_DIR)
        for name in files:
            (here / name).chmod(PRIVATE_FILE if restricted else PUBLISHED_FILE)


def owner_only_dir(path: Path) -> Path:
    """A folder of restricted outputs, owner-only whatever the umask."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)
    return path


def write_private(path: Path, content: str | bytes | Workbook) -> Path:
    """Create with 0600 from the start (no window where the file is world-readable); text is
    written as UTF-8, as it stands, a workbook as it saves."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)  # a file already there keeps its mode through O_CREAT
    with os.fdopen(fd, "wb") as handle:
        if isinstance(content, str | bytes):
            handle.write(content.encode("utf-8") if isinstance(content, str) else content)
        else:
            content.save(handle)
    return path


# --------------------------------------------------------------------------- the lock
@dataclass(frozen=True)
class LockHolder:
    pid: int
    host: str
    started: str

    def alive(self) -> bool:
        if self.host != socket.gethostname():
            return True  # cannot tell from here: treat as held
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def _read_holder(path: Path) -> LockHolder | None:
    try:
        data = json.loads(path.read_text())
        return LockHolder(int(data["pid"]), str(data["host"]), str(data["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextmanager
def warehouse_lock(warehouse: Path) -> Iterator[LockHolder]:
    """Hold the warehouse for this process; refuse at once when another live run holds it."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    me = LockHolder(os.getpid(), socket.gethostname(), dt.datetime.now().isoformat("T", "seconds"))
    for _ in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        except FileExistsError:
            holder = _read_holder(path)
            if holder is not None and holder.alive():
                raise WarehouseBusy(
                    f"{warehouse}: another run is using this warehouse (pid {holder.pid} on "
                    f"{holder.host}, started {holder.started}); wait for it to finish, or "
                    f"delete {path.name} if that run is gone"
                ) from None
            path.unlink(missing_ok=True)  # stale: its process has gone
            continue
        with os.fdopen(fd, "w") as handle:
            json.dump(me.__dict__, handle)
        break
    else:  # pragma: no cover - another process took the stale lock between our two tries
        raise WarehouseBusy(f"{warehouse}: another run took the warehouse lock just now")
    try:
        yield me
    finally:
        if _read_holder(path) == me:
            path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- staging
@dataclass(frozen=True)
class StagedRun:
    """Where a run writes, and where its results go once it has passed."""

    warehouse: Path  # the live warehouse
    working_warehouse: Path  # the copy the run works on
    out: Path  # the published output root
    staging_out: Path  # the run's output root; the quarter folder goes under it
    quarter: str

    @property
    def staged_quarter(self) -> Path:
        return self.staging_out / self.quarter

    @property
    def published_quarter(self) -> Path:
        return self.out / self.quarter


def side_files(database: Path) -> list[Path]:
    return [database.with_name(database.name + s) for s in WAREHOUSE_SIDE_FILES]


def staged_paths(warehouse: Path, out: Path, quarter: str) -> StagedRun:
    """Where a run on this warehouse and output root works (nothing is created)."""
    working = warehouse.with_name(warehouse.name + ".next")
    return StagedRun(warehouse, working, out, out / f".staging-{quarter}", quarter)


def stage_run(warehouse: Path, out: Path, quarter: str) -> StagedRun:
    """Copy the warehouse to its working copy and make an empty staging output folder.
    Leftovers of a killed run are replaced. A path that cannot be used (an --out that is a
    file, a --warehouse that is a folder, no permission) stops the run with one line naming
    it, before the first step (it used to end in a traceback)."""
    try:
        return _stage_run(warehouse, out, quarter)
    except OSError as error:
        where = error.filename or out
        raise RunPathUnusable(
            f"{where}: {error.strerror or type(error).__name__} (--out must be a folder and "
            "--warehouse a file, both writable)"
        ) from None


def _stage_run(warehouse: Path, out: Path, quarter: str) -> StagedRun:
    run = staged_paths(warehouse, out, quarter)
    working = run.working_warehouse
    for path in [working, *side_files(working)]:
        path.unlink(missing_ok=True)
    if warehouse.exists():
        shutil.copyfile(warehouse, working)
        for live, copy in zip(side_files(warehouse), side_files(working), strict=True):
            if live.exists():
                shutil.copyfile(live, copy)
    if not out.exists():
        out.mkdir(parents=True)
        out.chmod(PUBLISHED_DIR)  # the published root; what is private inside stays so
    shutil.rmtree(run.staging_out, ignore_errors=True)
    run.staging_out.mkdir(parents=True)
    return run


def commit_run(run: StagedRun) -> Path:
    """Swap the run's results in: warehouse first, then the quarter folder (one rename each)."""
    for live in side_files(run.warehouse):
        live.unlink(missing_ok=True)
    os.replace(run.working_warehouse, run.warehouse)
    for copy, live in zip(
        side_files(run.working_warehouse), side_files(run.warehouse), strict=True
    ):
        if copy.exists():
            os.replace(copy, live)
    open_published(run.staged_quarter)
    previous = run.out / f".previous-{run.quarter}"
    shutil.rmtree(previous, ignore_errors=True)
    if run.published_quarter.exists():
        os.replace(run.published_quarter, previous)
    os.replace(run.staged_quarter, run.published_quarter)
    shutil.rmtree(previous, ignore_errors=True)
    shutil.rmtree(run.staging_out, ignore_errors=True)
    spill = run.working_warehouse.with_name(run.working_warehouse.name + ".tmp")
    shutil.rmtree(spill, ignore_errors=True)
    return run.published_quarter


def abandon_run(run: StagedRun) -> None:
    """A failed run leaves nothing behind but what was there before."""
    shutil.rmtree(run.staging_out, ignore_errors=True)
    for path in [run.working_warehouse, *side_files(run.working_warehouse)]:
        path.unlink(missing_ok=True)
    spill = run.working_warehouse.with_name(run.working_warehouse.name + ".tmp")
    shutil.rmtree(spill, ignore_errors=True)
