"""Downloading a remote source: http(s) only, a byte limit and a deadline for the whole body.

A feed is untrusted input from someone else's server, so nothing here trusts it to be small,
quick, or to stay on http(s) when it redirects.
"""
from __future__ import annotations

import time

import httpx

from clipmill.trending.addressing import Source, SourceError

USER_AGENT = "clipmill-trending/0.1 (+https://github.com/clipmill)"


def download(source: Source, timeout: float, max_bytes: int, client: httpx.Client | None) -> tuple[bytes, str]:
    """The body and Content-Type of `source`. Raises `SourceError`, transient where a retry may help."""
    # httpx's timeout bounds each read, not the whole download; a server dripping one byte a
    # second would never trip it, hence the deadline checked between chunks.
    deadline = time.monotonic() + timeout
    own = client is None
    client = client or httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=5,
                                    headers={"User-Agent": USER_AGENT})
    try:
        with client.stream("GET", source.location) as response:
            _check_response(source, response, max_bytes)
            body = _read_body(source, response, max_bytes, timeout, deadline)
            return body, response.headers.get("content-type", "")
    except httpx.TimeoutException:
        raise SourceError(source.address, f"timed out after {timeout:g} s", transient=True) from None
    except httpx.HTTPError as error:
        raise SourceError(source.address, f"cannot fetch ({type(error).__name__}: {error})",
                          transient=isinstance(error, httpx.TransportError)) from None
    finally:
        # A caller's client is theirs to reuse across sources; only ours is closed here.
        if own:
            client.close()


def _check_response(source: Source, response: httpx.Response, max_bytes: int) -> None:
    """Refuse a response before reading its body: wrong scheme after redirects, an HTTP error,
    or a declared length over the limit."""
    if response.url.scheme not in ("http", "https"):
        raise SourceError(source.address, f"redirected to {response.url.scheme}://, which is not accepted")
    if response.status_code >= 400:
        raise SourceError(source.address, f"HTTP {response.status_code} {response.reason_phrase}",
                          transient=response.status_code == 429 or response.status_code >= 500)
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise SourceError(source.address, f"body of {int(declared)} bytes is over the {max_bytes}-byte limit")


def _read_body(source: Source, response: httpx.Response, max_bytes: int, timeout: float,
               deadline: float) -> bytes:
    # Content-Length may be missing or wrong, so the limit is enforced on what actually arrives.
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise SourceError(source.address, f"body is over the {max_bytes}-byte limit; stopped reading")
        if time.monotonic() > deadline:
            raise SourceError(source.address, f"timed out after {timeout:g} s", transient=True)
        chunks.append(chunk)
    return b"".join(chunks)
