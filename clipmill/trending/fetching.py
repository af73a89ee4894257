"""Fetching one source: download it or read it from disk, decide its format, parse its keywords."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from clipmill.trending.addressing import Source, SourceError, parse_source
from clipmill.trending.documents import parse_csv_keywords, parse_json_keywords, parse_text_keywords
from clipmill.trending.download import download
from clipmill.trending.feeds import parse_feed_titles
from clipmill.storage.user_files import UserFileError, open_user_file

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_BYTES = 2 * 2**20
FILE_SUFFIXES = (".csv", ".txt", ".json", ".xml", ".rss", ".atom")
_FORMAT_BY_SUFFIX = {".csv": "csv", ".txt": "text", ".json": "json", ".xml": "xml", ".rss": "xml", ".atom": "xml"}
_READ_CHUNK = 64 * 2**10


@dataclass
class FetchResult:
    """The keywords one source gave (raw text, in source order) and how many entries were unusable."""

    source: str
    keywords: list[str]
    malformed: int = 0
    format: str = ""
    files: int = 1

    def to_dict(self) -> dict:
        return {"source": self.source, "keywords": list(self.keywords), "malformed": self.malformed,
                "format": self.format, "files": self.files}


def fetch_source(address: str, *, timeout: float = DEFAULT_TIMEOUT_S, max_bytes: int = DEFAULT_MAX_BYTES,
                 client: httpx.Client | None = None) -> FetchResult:
    """Read the keywords of one source. Raises `SourceError` for anything wrong with it."""
    source = parse_source(address)
    if source.remote:
        body, content_type = download(source, timeout, max_bytes, client)
        return _parse(source, body, _format_of(source, source.location, content_type, body))
    # The same limits as a download: `max_bytes` a file, `timeout` for the whole source.
    deadline = time.monotonic() + timeout
    path = Path(source.location).expanduser()
    if path.is_dir():
        return _read_folder(source, path, max_bytes, timeout, deadline)
    body = _read_file(source, path, max_bytes, timeout, deadline)
    return _parse(source, body, _format_of(source, path.name, "", body))


def _read_file(source: Source, path: Path, max_bytes: int, timeout: float, deadline: float) -> bytes:
    # Opened as every user-named file is (storage.user_files): a FIFO, a device or a socket is
    # refused before and after a non-blocking open, and a file over the limit before reading.
    try:
        with open_user_file(path, kind="text", max_bytes=max_bytes) as handle:
            return _read_until(source, handle, max_bytes, timeout, deadline)
    except UserFileError as error:
        problem = "no such file or folder" if error.problem == "file not found" else error.problem
        raise SourceError(source.address, problem) from None


def _read_until(source: Source, handle, max_bytes: int, timeout: float, deadline: float) -> bytes:
    """The opened file's bytes, within the source's deadline and byte limit."""
    # One byte past the limit is enough to know the file grew too big, without reading all of it.
    chunks, size = [], 0
    while size <= max_bytes:
        if time.monotonic() > deadline:
            raise SourceError(source.address, f"timed out after {timeout:g} s", transient=True)
        try:
            chunk = handle.read(min(_READ_CHUNK, max_bytes + 1 - size))
        except OSError as error:
            raise SourceError(source.address, f"cannot read ({error.strerror or error})") from None
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > max_bytes:
        raise SourceError(source.address, f"file is over the {max_bytes}-byte limit")
    return b"".join(chunks)


def _read_folder(source: Source, folder: Path, max_bytes: int, timeout: float, deadline: float) -> FetchResult:
    # Name order, so a folder always gives its keywords in the same order (screening keeps the
    # first of duplicates, so order decides which source a keyword is credited to). Only
    # regular files count: a FIFO or device in the folder is passed over, never opened.
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FILE_SUFFIXES)
    except OSError as error:
        raise SourceError(source.address, f"cannot list the folder ({error.strerror or error})") from None
    if not files:
        raise SourceError(source.address, f"folder has no {'/'.join(FILE_SUFFIXES)} files")
    merged = FetchResult(source.address, [], format="folder", files=len(files))
    for path in files:
        # Each file gets its own address so an error names the file, not just the folder.
        child = Source(f"{source.address.rstrip('/')}/{path.name}", str(path), False, source.options)
        body = _read_file(child, path, max_bytes, timeout, deadline)
        part = _parse(child, body, _format_of(child, path.name, "", b""))
        merged.keywords += part.keywords
        merged.malformed += part.malformed
    return merged


def _format_of(source: Source, name: str, content_type: str, body: bytes) -> str:
    """The format to parse as: what the address says, else the file suffix, else the
    Content-Type, else a look at the first character."""
    if source.options.get("format"):
        return source.options["format"]
    if source.json_path:
        return "json"
    suffix = Path(urlsplit(name).path).suffix.lower()
    if suffix in _FORMAT_BY_SUFFIX:
        return _FORMAT_BY_SUFFIX[suffix]
    content_type = content_type.lower()
    if "json" in content_type:
        return "json"
    if "xml" in content_type or "rss" in content_type or "atom" in content_type:
        return "xml"
    if "csv" in content_type:
        return "csv"
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return {b"<": "xml", b"{": "json", b"[": "json"}.get(start, "text")


def _decode(source: Source, body: bytes) -> str:
    # utf-8-sig: spreadsheet exports often start with a BOM, which would otherwise end up in
    # the first keyword or header cell.
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceError(source.address, f"not UTF-8 text (byte {error.start})") from None


def _parse(source: Source, body: bytes, kind: str) -> FetchResult:
    # XML goes to the parser as bytes: the document's own encoding declaration decides.
    if kind in ("xml", "rss", "atom"):
        keywords, malformed, kind = parse_feed_titles(source, body)
    elif kind == "json":
        keywords, malformed = parse_json_keywords(source, _decode(source, body))
    elif kind == "csv":
        keywords, malformed = parse_csv_keywords(source, _decode(source, body))
    else:
        keywords, malformed = parse_text_keywords(_decode(source, body)), 0
    return FetchResult(source.address, keywords, malformed, kind)
