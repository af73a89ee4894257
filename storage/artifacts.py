"""The artifact store: where a batch's published files go, addressed by URL.

Published artifacts — accepted clips with their posters and sidecars, every attempt's MP4 and
poster, prepared input images, report.json and the gallery — go through an ArtifactStore, so
workers on several hosts can write to one place (any fsspec URL: s3://bucket/prefix, gs://...)
and the database records each one's URL. Scratch work (frames, segments) stays in the worker's
local run folder (storage/paths.py).

The default store is the run root itself: on one machine the layout is the one in
storage/paths.py, and a file's URL is its absolute path.
"""
from __future__ import annotations

import os
import posixpath
import shutil
from pathlib import Path

from fsspec.core import split_protocol, url_to_fs
from fsspec.implementations.local import LocalFileSystem

from clipmill.storage.files import atomic_path, atomic_write_bytes, is_url

ENV_VAR = "CLIPMILL_ARTIFACT_URL"

# How to get the filesystem package a protocol needs, where clipmill has an extra for it.
_INSTALL_HINTS = {protocol: "s3fs: pip install 'clipmill[s3]'" for protocol in ("s3", "s3a")}


def artifact_base_url(explicit: str | None, configured: str | None, run_root: str | Path) -> str:
    """explicit (a flow parameter) > the spec's `artifacts` > $CLIPMILL_ARTIFACT_URL > the run root.

    Checked here, once per batch, so a bad URL or a missing package fails before any job runs."""
    return ArtifactStore(explicit or configured or os.environ.get(ENV_VAR) or run_root).url


class ArtifactStore:
    """Files under one base URL, each addressed by its path relative to that base."""

    def __init__(self, url: str | os.PathLike):
        url = str(url).strip()
        if not url:
            raise ValueError("artifact URL is empty")
        try:
            self.fs, root = url_to_fs(url if is_url(url) else str(Path(url).expanduser()))
        except ImportError as error:  # a protocol fsspec knows, whose package is not installed
            hint = _INSTALL_HINTS.get(split_protocol(url)[0])
            raise ValueError(f"artifact URL {url} needs {hint}" if hint else f"artifact URL {url}: {error}") from None
        except ValueError as error:  # a protocol fsspec does not know
            raise ValueError(f"artifact URL {url}: {error}") from None
        self.root = root.rstrip("/")
        self.local = isinstance(self.fs, LocalFileSystem)
        if not self.root:
            raise ValueError(f"artifact URL {url} names no bucket or folder")
        # A local file's URL is its absolute path, so the database and the gallery see plain paths.
        self.url = self.root if self.local else self.fs.unstrip_protocol(self.root)

    @classmethod
    def for_batch(cls, base_url: str | os.PathLike, batch_name: str) -> "ArtifactStore":
        """The batch's own folder under the base, as BatchPaths.for_batch is under the run root."""
        return cls(cls(base_url).url_for(batch_name))

    def url_for(self, relative: str) -> str:
        return posixpath.join(self.url, relative)

    def _path(self, relative: str) -> str:
        return posixpath.join(self.root, relative)

    def put_file(self, local_path: str | os.PathLike, relative: str) -> str:
        """Copy a finished local file to `relative` in the store; returns its URL."""
        dest = self._path(relative)
        if self.local:
            # With the default store the file may already be in place (the run folder is the store).
            if Path(local_path).resolve() != Path(dest).resolve():
                with atomic_path(dest) as tmp:
                    shutil.copyfile(local_path, tmp)
        else:
            # No temporary name and rename here: object stores (S3, GCS) make an object visible
            # only once its upload completes (one PUT, or a completed multipart upload), so a
            # reader never sees half a file, and a "rename" would be a copy plus a delete.
            self.fs.put_file(os.fspath(local_path), dest)
        return self.url_for(relative)

    def put_bytes(self, data: bytes, relative: str) -> str:
        """Write `data` to `relative` in the store (atomically, as put_file); returns its URL."""
        if self.local:
            atomic_write_bytes(self._path(relative), data)
        else:
            self.fs.pipe_file(self._path(relative), data)
        return self.url_for(relative)

    def put_text(self, text: str, relative: str) -> str:
        return self.put_bytes(text.encode("utf-8"), relative)

    def exists(self, relative: str) -> bool:
        return self.fs.exists(self._path(relative))

    def read_bytes(self, relative: str) -> bytes:
        return self.fs.cat_file(self._path(relative))


# A presigned link in a dashboard card outlives the run by a week: S3's longest allowed.
PRESIGNED_S = 7 * 24 * 3600


def browser_url(url: str, expires_s: int = PRESIGNED_S) -> str:
    """An address a browser can open for a stored file: an object store's presigned URL where
    its filesystem signs (s3fs, gcsfs), else the URL or path as it is."""
    if not is_url(url) or url.startswith(("http://", "https://")):
        return url
    try:
        fs, path = url_to_fs(url)
        return fs.sign(path, expiration=expires_s)
    except (ImportError, NotImplementedError, ValueError):
        return url
