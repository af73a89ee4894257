"""A read-only HTTP server over the run root, so the dashboard's image and link artifacts open in
a browser (`clipmill serve`; $CLIPMILL_PUBLIC_URL names where it answers).

The Prefect UI renders image and link artifacts in the browser, which cannot open a worker's
local path. This serves the published files of a one-machine setup and nothing else:

- GET and HEAD only; no directory listings (a folder answers with its index.html, else 404);
- nothing outside the run root: a path is resolved, symlinks included, before it is served;
- only the kinds of file a batch publishes (videos, images, the gallery, reports, sidecars):
  the SQLite results database and the frames sit in the same folder and are never served;
- a FIFO or device named inside the root is refused, never opened for a blocking read.

No Prefect; standard library only. Several hosts publish to an object store instead, whose
own URLs the artifacts carry.
"""
from __future__ import annotations

import os
import stat
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# What a batch publishes (storage/paths.py); the rest of the run root is the worker's own.
SERVED_SUFFIXES = frozenset({".mp4", ".webm", ".png", ".jpg", ".jpeg", ".webp", ".gif", ".html", ".json", ".csv"})
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


class RunRootHandler(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler limited to published files under `directory`."""

    server_version = "clipmill-serve"
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".mp4": "video/mp4", ".webm": "video/webm",
                      ".json": "application/json", ".csv": "text/csv"}

    def send_head(self):
        path = self._published_file(self.translate_path(self.path))
        if path is None:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        try:
            # Non-blocking open, then fstat: a FIFO swapped in after the check cannot hang us.
            fd = os.open(path, _OPEN_FLAGS)
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Length", str(info.st_size))
        self.send_header("Last-Modified", self.date_time_string(info.st_mtime))
        # Files are written once under a new name (atomic writes); a short cache is safe.
        self.send_header("Cache-Control", "max-age=60")
        self.end_headers()
        return os.fdopen(fd, "rb")

    def _published_file(self, translated: str) -> str | None:
        """The real path of a published file under the root, or None."""
        root = Path(self.directory).resolve()
        try:
            path = Path(translated).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if path.is_dir():
            path = path / "index.html"
        if not path.is_relative_to(root) or path.suffix.lower() not in SERVED_SUFFIXES:
            return None
        try:
            return str(path) if stat.S_ISREG(path.stat().st_mode) else None
        except OSError:
            return None

    def list_directory(self, path):  # never reached through send_head; refused all the same
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None


def make_server(run_root: str | os.PathLike, host: str = "127.0.0.1", port: int = 8700) -> ThreadingHTTPServer:
    """A server over `run_root` (not started: call serve_forever); port 0 picks a free one."""
    root = Path(run_root).expanduser().resolve()
    if not root.is_dir():
        raise ValueError(f"run root {root} is not a folder")
    return ThreadingHTTPServer((host, port), partial(RunRootHandler, directory=str(root)))
