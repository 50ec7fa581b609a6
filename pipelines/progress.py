"""Terminal progress for `spp profile`: one line per step as it starts and ends, with elapsed
time. It is a Dagster logger, so it sees the run's events live. It prints step and asset names
and timings only; log messages from assets are not echoed (they could carry data)."""

from __future__ import annotations

import logging
import sys
import time

import dagster as dg

_EVENTS = {"STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "ASSET_MATERIALIZATION"}


class ProgressHandler(logging.Handler):
    def __init__(self, stream=None) -> None:
        super().__init__(logging.DEBUG)
        self.stream = stream or sys.stderr
        self.run_started = time.monotonic()
        self.step_started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None or event.event_type_value not in _EVENTS:
            return
        step = event.step_key or "run"
        now = time.monotonic()
        total = now - self.run_started
        kind = event.event_type_value
        if kind == "STEP_START":
            self.step_started[step] = now
            line = f"[{total:7.1f}s] ▶ {step}"
        elif kind == "ASSET_MATERIALIZATION":
            key = event.asset_key.to_user_string() if event.asset_key else step
            line = f"[{total:7.1f}s]   ✓ {key}"
        else:
            took = now - self.step_started.get(step, now)
            mark = "■" if kind == "STEP_SUCCESS" else "✗ FAILED"
            line = f"[{total:7.1f}s] {mark} {step} ({took:.1f}s)"
        print(line, file=self.stream, flush=True)


@dg.logger(description="Step-by-step progress on the terminal (no data, only names and times).")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger("spp.progress")
    # Dagster logs its structured events (step start/success) at DEBUG.
    logger.setLevel(logging.DEBUG)
    logger.handlers = [ProgressHandler()]
    logger.propagate = False
    return logger
