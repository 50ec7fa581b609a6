"""A minimal headless-Chromium driver over the DevTools protocol (no Playwright: its browser
download fails here). Opens one page, records console errors, uncaught exceptions and failed
requests, evaluates JavaScript and takes screenshots. Flags from ../shared/ENVIRONMENT.md."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Any attempt to reach a host fails (and is recorded as a failed request).
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-port=0",
]


@dataclass
class PageReport:
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return self.console_errors + self.exceptions + self.failed_requests


class Browser:
    """`with Browser() as b: report = b.open(url)`; then b.evaluate(js), b.screenshot(path)."""

    def __init__(self, width: int = 1280, height: int = 900) -> None:
        self.width, self.height = width, height
        self._next_id = 0
        self.report = PageReport()
        self._urls: dict[str, str] = {}

    def __enter__(self) -> Browser:
        # Chromium's helper processes can still write to the profile for a moment after the
        # browser exits; a leftover temp folder must not fail the test (seen once in CI).
        self._profile = tempfile.TemporaryDirectory(
            prefix="spp-chromium-", ignore_cleanup_errors=True
        )
        self._proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # D-Bus noise; the protocol reports what matters
        )
        endpoint = self._endpoint()
        self._ws = connect(endpoint, max_size=None, open_timeout=30)
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self._call(f"{domain}.enable", session=True)
        self._call(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
            session=True,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._ws.close()
        finally:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            for _ in range(10):  # give the helpers time to let go of the profile
                self._profile.cleanup()
                if not Path(self._profile.name).exists():
                    break
                time.sleep(0.2)

    def _endpoint(self, timeout: float = 30) -> str:
        """Chromium writes its DevTools port and path to DevToolsActivePort when ready."""
        active = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = active.read_text().split() if active.exists() else []
            if len(lines) >= 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            if self._proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("chromium did not open its DevTools endpoint")

    def _record(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            self._urls[params["requestId"]] = params["request"]["url"]
        elif method == "Network.loadingFailed":
            url = self._urls.get(params["requestId"], "?")
            self.report.failed_requests.append(f"{url}: {params.get('errorText')}")
        elif method == "Network.responseReceived" and params["response"].get("status", 0) >= 400:
            response = params["response"]
            self.report.failed_requests.append(f"{response['url']}: HTTP {response['status']}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            self.report.exceptions.append(str(text)[:300])
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            args = [str(a.get("value", a.get("description", ""))) for a in params["args"]]
            self.report.console_errors.append(" ".join(args)[:300])
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            self.report.console_errors.append(f"{entry.get('url', '')}: {entry['text']}"[:300])

    def _call(
        self, method: str, params: dict | None = None, session: bool = False, timeout: float = 60
    ) -> dict:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        self._ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self._ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._record(reply)

    def _pump(self, seconds: float, until: str | None = None) -> bool:
        """Record events for `seconds`, or until the event `until` arrives."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                message = json.loads(self._ws.recv(timeout=max(0.05, deadline - time.monotonic())))
            except TimeoutError:
                break
            self._record(message)
            if until and message.get("method") == until:
                return True
        return False

    def open(self, url: str, settle: float = 1.0, timeout: float = 60) -> PageReport:
        self._call("Page.navigate", {"url": url}, session=True)
        if not self._pump(timeout, until="Page.loadEventFired"):
            self.report.exceptions.append(f"page did not finish loading in {timeout:.0f}s")
        self._pump(settle)  # late errors (plotly draws after load)
        return self.report

    def evaluate(self, expression: str) -> Any:
        result = self._call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluation failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def pdf(self) -> bytes:
        """The open page printed (A4 unless the page's @page says otherwise)."""
        data = self._call("Page.printToPDF", {"preferCSSPageSize": True}, session=True)["data"]
        return base64.b64decode(data)

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            width, height = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["clip"] = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
            params["captureBeyondViewport"] = True
        data = self._call("Page.captureScreenshot", params, session=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path


PDFTOTEXT = shutil.which("pdftotext")


def pdf_page_texts(pdf: bytes) -> list[str]:
    """Text of each page of a PDF, by poppler's pdftotext (skips the calling test when
    poppler-utils is not installed: .ci/run installs it beside chromium)."""
    import pytest

    if PDFTOTEXT is None:
        pytest.skip("poppler-utils (pdftotext) is not installed: the printed pages are unchecked")
    text = subprocess.run(
        [PDFTOTEXT, "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode("utf-8", errors="replace")
    return text.split("\f")[:-1]
