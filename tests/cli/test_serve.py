"""`clipmill serve`: the run root's published files over HTTP, read-only, and nothing else."""
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from clipmill.file_server import make_server

BIN = Path(sys.executable).parent


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "runs"
    (root / "demo" / "clips").mkdir(parents=True)
    Image.new("RGB", (8, 8), "red").save(root / "demo" / "clips" / "a.png")
    (root / "demo" / "index.html").write_text("<h1>gallery</h1>")
    (root / "clipmill.db").write_bytes(b"SQLite format 3\0")
    (root / "demo" / "frames.npy").write_bytes(b"\x93NUMPY")
    (tmp_path / "secret.png").write_bytes(b"outside")
    os.symlink(tmp_path / "secret.png", root / "demo" / "escape.png")
    os.mkfifo(root / "demo" / "pipe.png")
    server = make_server(root, port=0)
    # a short poll: shutdown() waits for the loop's next look, 0.5 s by default, at every teardown
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def fetch(url, method="GET"):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=5) as response:
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as error:
        return error.code, None, b""


def test_published_files_are_served(served):
    status, kind, body = fetch(f"{served}/demo/clips/a.png")
    assert (status, kind) == (200, "image/png") and body.startswith(b"\x89PNG")
    assert fetch(f"{served}/demo/")[0:2] == (200, "text/html")  # a folder's gallery
    assert fetch(f"{served}/demo/clips/a.png", "HEAD")[0] == 200


@pytest.mark.parametrize("path", ["/", "/demo/clips/", "/clipmill.db", "/demo/frames.npy", "/demo/escape.png",
                                  "/demo/pipe.png", "/../secret.png", "/demo/../../secret.png",
                                  "/%2e%2e/secret.png", "/demo/missing.png"])
def test_nothing_else_is(served, path):
    started = time.monotonic()
    assert fetch(served + path)[0] == 404
    assert time.monotonic() - started < 3, "a FIFO must be refused, not opened for a blocking read"


def test_read_only(served):
    for method in ("PUT", "POST", "DELETE"):
        assert fetch(f"{served}/demo/clips/a.png", method)[0] == 501


def test_the_command_says_where_it_serves(tmp_path):
    from tests.flows.test_workers import free_port

    port = free_port()
    process = subprocess.Popen([str(BIN / "clipmill"), "serve", "--run-root", str(tmp_path), "--port", str(port)],
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        assert f"serving {tmp_path.resolve()} read-only at http://127.0.0.1:{port}/" in line
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0, "SIGTERM stops it cleanly (a script's `wait` under set -e)"
