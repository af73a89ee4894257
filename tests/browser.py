"""A headless Chromium driven over the DevTools protocol: load a page, wait until a script says
it is ready, read what the script returns. Standard library and `websockets` (Prefect's own
dependency) only; tests skip where no Chromium is installed (.ci/run installs one)."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from itertools import count
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000"]


class Page:
    def __init__(self, socket):
        self.socket, self.ids = socket, count(1)

    def call(self, method: str, **params):
        message_id = next(self.ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.socket.recv(timeout=60))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str, ready: str, seconds: float = 90):
        """Navigate to `url`, then poll the JavaScript expression `ready` until it is truthy;
        returns its last value."""
        self.call("Page.navigate", url=url)
        return self.wait(ready, seconds, url)

    def wait(self, ready: str, seconds: float = 90, where: str = "page"):
        """Poll the JavaScript expression `ready` until it is truthy; returns its last value."""
        deadline = time.monotonic() + seconds
        value = None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(ready)
            except RuntimeError:  # the page is between documents (no body yet)
                value = None
            if value:
                return value
            time.sleep(0.5)
        raise AssertionError(f"{where}: not ready after {seconds} s ({ready[:120]} -> {value!r}); page text: "
                             f"{(self.evaluate('document.body.innerText') or '')[:1500]}")

    def screenshot(self, path: Path) -> None:
        import base64

        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))


@contextmanager
def chromium_page(profile: Path, port: int):
    """A headless Chromium with one page, closed afterwards."""
    from websockets.sync.client import connect

    browser = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--remote-debugging-port={port}",
                                "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as response:
                    pages = [t for t in json.load(response) if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline and browser.poll() is None, "chromium did not start"
            time.sleep(0.3)
        with connect(pages[0]["webSocketDebuggerUrl"], max_size=2**26) as socket:
            page = Page(socket)
            page.call("Page.enable")
            page.call("Runtime.enable")
            yield page
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=20)
        except subprocess.TimeoutExpired:
            browser.kill()
            browser.wait()
