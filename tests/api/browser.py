"""Headless Chromium driven over the Chrome DevTools Protocol: no selenium, no chromedriver.

    with Chromium() as browser:
        browser.open("http://127.0.0.1:8000/01/09506000134352/21/SN1", width=360)
        text = browser.evaluate("document.body.innerText")
        browser.screenshot(Path("reports/page.png"))

Chromium (Debian package `chromium`) starts with a fresh profile in a temporary folder and
`--remote-debugging-port=0`; its DevTools websocket address is read from the DevToolsActivePort file
it writes there. The page is emulated as a phone (width, device pixel ratio, mobile viewport, touch).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = (
    "install it with: apt-get update && apt-get install -y chromium chromium-driver (or set RT_CHROMIUM to its path)"
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


class BrowserError(AssertionError):
    pass


def find_chromium() -> str:
    """The Chromium binary, or a BrowserError that says how to install it (tests fail, never skip)."""
    explicit = os.environ.get("RT_CHROMIUM")
    if explicit:
        if not (Path(explicit).is_file() and os.access(explicit, os.X_OK)):
            raise BrowserError(f"RT_CHROMIUM={explicit} is not an executable file")
        return explicit
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserError(
        f"headless Chromium is needed for the browser tests but none of {', '.join(CANDIDATES)} is on PATH; "
        f"{INSTALL_HINT}"
    )


class Chromium:
    def __init__(self, binary: str | None = None, timeout: float = 30.0) -> None:
        self.binary = binary or find_chromium()
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._events: list[dict[str, Any]] = []
        self.proc: subprocess.Popen | None = None
        self.ws = None

    # --- life cycle ---------------------------------------------------------------------------

    def __enter__(self) -> Chromium:
        self.profile = Path(tempfile.mkdtemp(prefix="rt-chromium-"))
        self.log = self.profile / "chromium.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [self.binary, *FLAGS, f"--user-data-dir={self.profile / 'profile'}", "about:blank"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            port = self._devtools_port()
            page = self._page_target(port)
            self.ws = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=self.timeout, compression=None)
            self.send("Page.enable")
            self.send("Runtime.enable")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                self.ws.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _output(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def _devtools_port(self) -> int:
        marker = self.profile / "profile" / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BrowserError(f"{self.binary} exited with {self.proc.returncode} at start:\n{self._output()}")
            try:
                first = marker.read_text().splitlines()[0]
                return int(first)
            except (OSError, IndexError, ValueError):
                time.sleep(0.05)
        raise BrowserError(f"{self.binary} did not open its DevTools port within {self.timeout} s:\n{self._output()}")

    def _page_target(self, port: int) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            if pages:
                return pages[0]
            time.sleep(0.05)
        raise BrowserError("Chromium has no page target")

    # --- protocol -----------------------------------------------------------------------------

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Sends one DevTools command and returns its result; events that arrive meanwhile are kept."""
        call_id = next(self._ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == call_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self._events.append(message)

    def _next_event(self, deadline: float, what: str) -> dict[str, Any]:
        if self._events:
            return self._events.pop(0)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"no {what} within {self.timeout} s")
            try:
                message = json.loads(self.ws.recv(timeout=remaining))
            except TimeoutError:
                continue
            if "method" in message:
                return message

    def next_event(self, method: str, timeout: float | None = None) -> dict[str, Any]:
        """The next event `method` the page sends (e.g. Runtime.bindingCalled); others are dropped."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            message = self._next_event(deadline, method)
            if message["method"] == method:
                return message["params"]

    # --- what a test does ---------------------------------------------------------------------

    def open(self, url: str, width: int = 360, height: int = 780, scale: float = 2.0, mobile: bool = True) -> int:
        """Loads `url` in a phone-sized viewport and waits for the load event; returns the HTTP status."""
        self.send(
            "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=scale, mobile=mobile
        )
        self.send("Emulation.setTouchEmulationEnabled", enabled=mobile)
        self.send("Network.enable")
        self._events.clear()
        result = self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise BrowserError(f"navigating to {url} failed: {result['errorText']}")
        deadline, status = time.monotonic() + self.timeout, None
        while True:
            message = self._next_event(deadline, f"load of {url}")
            if message["method"] == "Network.responseReceived" and message["params"].get("type") == "Document":
                status = message["params"]["response"]["status"]
            elif message["method"] == "Page.loadEventFired":
                break
        self.send("Network.disable")
        return status

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, full_page: bool = True, height: float | None = None) -> Path:
        """A PNG of the page (all of it, not only the viewport, when full_page; its top `height` CSS pixels
        when given)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            bottom = size["height"] if height is None else min(height, size["height"])
            params.update(
                captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": size["width"], "height": bottom, "scale": 1},
            )
        data = base64.b64decode(self.send("Page.captureScreenshot", **params)["data"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path
