"""Source addresses: an http(s) URL or a local path, with options in the '#' fragment.

The fragment carries the options because it is never sent to a server, so one string can name
both where the keywords are and how to read them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

KNOWN_OPTIONS = {"path", "column", "format"}
FORMATS = {"rss", "atom", "xml", "json", "csv", "text"}


class SourceError(ValueError):
    """A source that cannot be read; the message names the source and says why, on one line."""

    def __init__(self, source: str, problem: str, *, transient: bool = False):
        self.source = source
        self.problem = " ".join(str(problem).split())
        # A timeout, a refused connection, HTTP 429 or 5xx may pass; a broken feed will not.
        self.transient = transient
        super().__init__(f"{source}: {self.problem}")


@dataclass(frozen=True)
class Source:
    """A parsed source address: where (`location`) and how (`options` from the fragment)."""

    address: str
    location: str
    remote: bool
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def json_path(self) -> str | None:
        return self.options.get("path")

    @property
    def column(self) -> str | None:
        return self.options.get("column")


def parse_source(address: str) -> Source:
    """Check an address: http(s) URLs and local paths only; options after '#'."""
    address = (address or "").strip()
    if not address:
        raise SourceError("<empty>", "no source given; pass an http(s) URL or a local file or folder")
    location, _, fragment = address.partition("#")
    options = dict(parse_qsl(fragment, keep_blank_values=True)) if fragment else {}
    _check_options(address, options)
    scheme = urlsplit(location).scheme.lower()
    if scheme in ("http", "https"):
        if not urlsplit(location).hostname:
            raise SourceError(address, "URL has no host")
        return Source(address, location, True, options)
    # A Windows drive letter ("C:\\...") parses as a one-letter scheme; it is a path.
    if scheme and len(scheme) > 1:
        raise SourceError(address, f"scheme '{scheme}://' is not accepted; use an http(s) URL or a local path")
    return Source(address, location, False, options)


def _check_options(address: str, options: Mapping[str, str]) -> None:
    unknown = set(options) - KNOWN_OPTIONS
    if unknown:
        raise SourceError(address, f"unknown option(s) {', '.join(sorted(unknown))} after '#'; "
                                   f"known: {', '.join(sorted(KNOWN_OPTIONS))}")
    if "format" in options and options["format"] not in FORMATS:
        raise SourceError(address, f"format={options['format']!r}; use one of {', '.join(sorted(FORMATS))}")
