"""Trending keywords: fetch them from the sources content teams have, clean them, screen them,
and pour them into templates as a batch spec.

Sources are addressed by a string, an http(s) URL or a local path, with options in the
fragment (never sent to a server):

    https://example.com/feed.xml                      RSS 2.0, RSS 1.0 (RDF) or Atom: item/entry titles
    https://api.example.com/trends#path=data.items[*].title
                                                      JSON; `path` picks the keywords (below)
    /data/keywords.csv#column=keyword                 CSV: that column (default: a header cell named
                                                      keyword/title/term/topic/关键词/热词, else column 1)
    /data/keywords.txt                                text: one keyword a line; '# ' starts a comment
    /data/trending/                                   a folder: every .csv .txt .json .xml .rss .atom in it

The JSON path is dot-separated keys with `[*]` (every element of a list) and `[N]` (one
element, negative counts from the end): `data.items[*].title`, `[*].name`, `trends[0].words[*]`.
It must end on strings (or numbers); without `path` the document must be a list of strings.

Screening, in order: normalise (NFKC, format characters removed, surrounding '#' of a hashtag
removed, whitespace collapsed; casefolded for identity, the display form keeps its case);
drop empties and over-long text; drop duplicates in this poll; blocklist; allowlist; drop
keywords already queued (the caller passes what the database has seen). Word-list matching is
on normalised text: a term containing a CJK character matches as a substring (Chinese has no
spaces between words: "赌博" blocks "线上赌博平台"); any other term matches whole words only
("ass" blocks "kick ass" but not "glass"). The blocklist wins over the allowlist.

No Prefect here: tasks/trending.py wraps these functions.
"""
from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import time
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import httpx

from clipmill.planning import TEMPLATES, expand_template
from clipmill.spec import parse_spec

try:
    from defusedxml import ElementTree as SafeElementTree
    from defusedxml.common import DefusedXmlException
except ImportError:  # pragma: no cover - defusedxml is a declared dependency
    SafeElementTree = None

    class DefusedXmlException(ValueError):  # type: ignore[no-redef]
        pass

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_BYTES = 2 * 2**20
MAX_KEYWORD_CHARS = 120
FILE_SUFFIXES = (".csv", ".txt", ".json", ".xml", ".rss", ".atom")
CSV_HEADER_NAMES = ("keyword", "keywords", "title", "term", "topic", "query", "关键词", "热词", "话题", "标题")
USER_AGENT = "clipmill-trending/0.1 (+https://github.com/clipmill)"

Status = Literal["new", "seen", "duplicate", "blocked", "filtered", "invalid"]


class SourceError(ValueError):
    """A source that cannot be read; the message names the source and says why, on one line."""

    def __init__(self, source: str, problem: str, *, transient: bool = False):
        self.source = source
        self.problem = " ".join(str(problem).split())
        # A timeout, a refused connection, HTTP 429 or 5xx may pass; a broken feed will not.
        self.transient = transient
        super().__init__(f"{source}: {self.problem}")


# --- addressing -----------------------------------------------------------------------------


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


_KNOWN_OPTIONS = {"path", "column", "format"}
_FORMATS = {"rss", "atom", "xml", "json", "csv", "text"}


def parse_source(address: str) -> Source:
    """Check an address: http(s) URLs and local paths only; options after '#'."""
    address = (address or "").strip()
    if not address:
        raise SourceError("<empty>", "no source given; pass an http(s) URL or a local file or folder")
    location, _, fragment = address.partition("#")
    options = dict(parse_qsl(fragment, keep_blank_values=True)) if fragment else {}
    unknown = set(options) - _KNOWN_OPTIONS
    if unknown:
        raise SourceError(address, f"unknown option(s) {', '.join(sorted(unknown))} after '#'; "
                                   f"known: {', '.join(sorted(_KNOWN_OPTIONS))}")
    if "format" in options and options["format"] not in _FORMATS:
        raise SourceError(address, f"format={options['format']!r}; use one of {', '.join(sorted(_FORMATS))}")
    scheme = urlsplit(location).scheme.lower()
    # A Windows drive letter ("C:\\...") parses as a one-letter scheme; it is a path.
    if scheme in ("http", "https"):
        if not urlsplit(location).hostname:
            raise SourceError(address, "URL has no host")
        return Source(address, location, True, options)
    if scheme and len(scheme) > 1:
        raise SourceError(address, f"scheme '{scheme}://' is not accepted; use an http(s) URL or a local path")
    return Source(address, location, False, options)


# --- fetching ---------------------------------------------------------------------------------


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
        body, content_type = _download(source, timeout, max_bytes, client)
        return _parse(source, body, _format_of(source, source.location, content_type, body))
    path = Path(source.location).expanduser()
    if path.is_dir():
        return _read_folder(source, path, max_bytes)
    body = _read_file(source, path, max_bytes)
    return _parse(source, body, _format_of(source, path.name, "", body))


def _download(source: Source, timeout: float, max_bytes: int, client: httpx.Client | None) -> tuple[bytes, str]:
    # httpx's timeout bounds each read, not the whole download; a server dripping one byte a
    # second would never trip it, hence the deadline checked between chunks.
    deadline = time.monotonic() + timeout
    own = client is None
    client = client or httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=5,
                                    headers={"User-Agent": USER_AGENT})
    try:
        with client.stream("GET", source.location) as response:
            if response.url.scheme not in ("http", "https"):
                raise SourceError(source.address, f"redirected to {response.url.scheme}://, which is not accepted")
            if response.status_code >= 400:
                raise SourceError(source.address, f"HTTP {response.status_code} {response.reason_phrase}",
                                  transient=response.status_code == 429 or response.status_code >= 500)
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise SourceError(source.address, f"body of {int(declared)} bytes is over the {max_bytes}-byte limit")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise SourceError(source.address, f"body is over the {max_bytes}-byte limit; stopped reading")
                if time.monotonic() > deadline:
                    raise SourceError(source.address, f"timed out after {timeout:g} s", transient=True)
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("content-type", "")
    except httpx.TimeoutException:
        raise SourceError(source.address, f"timed out after {timeout:g} s", transient=True) from None
    except httpx.HTTPError as error:
        raise SourceError(source.address, f"cannot fetch ({type(error).__name__}: {error})",
                          transient=isinstance(error, httpx.TransportError)) from None
    finally:
        if own:
            client.close()


def _read_file(source: Source, path: Path, max_bytes: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            body = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise SourceError(source.address, "no such file or folder") from None
    except OSError as error:
        raise SourceError(source.address, f"cannot read ({error.strerror or error})") from None
    if len(body) > max_bytes:
        raise SourceError(source.address, f"file is over the {max_bytes}-byte limit")
    return body


def _read_folder(source: Source, folder: Path, max_bytes: int) -> FetchResult:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FILE_SUFFIXES)
    if not files:
        raise SourceError(source.address, f"folder has no {'/'.join(FILE_SUFFIXES)} files")
    merged = FetchResult(source.address, [], format="folder", files=len(files))
    for path in files:
        child = Source(f"{source.address.rstrip('/')}/{path.name}", str(path), False, source.options)
        part = _parse(child, _read_file(child, path, max_bytes), _format_of(child, path.name, "", b""))
        merged.keywords += part.keywords
        merged.malformed += part.malformed
    return merged


def _format_of(source: Source, name: str, content_type: str, body: bytes) -> str:
    if source.options.get("format"):
        return source.options["format"]
    if source.json_path:
        return "json"
    suffix = Path(urlsplit(name).path).suffix.lower()
    by_suffix = {".csv": "csv", ".txt": "text", ".json": "json", ".xml": "xml", ".rss": "xml", ".atom": "xml"}
    if suffix in by_suffix:
        return by_suffix[suffix]
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
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceError(source.address, f"not UTF-8 text (byte {error.start})") from None


def _parse(source: Source, body: bytes, kind: str) -> FetchResult:
    if kind in ("xml", "rss", "atom"):
        keywords, malformed, kind = _parse_feed(source, body)
    elif kind == "json":
        keywords, malformed = _parse_json(source, _decode(source, body))
    elif kind == "csv":
        keywords, malformed = _parse_csv(source, _decode(source, body))
    else:
        keywords, malformed = _parse_text(_decode(source, body)), 0
    return FetchResult(source.address, keywords, malformed, kind)


# --- formats ---------------------------------------------------------------------------------

_ATOM = "{http://www.w3.org/2005/Atom}"
_RSS1 = "{http://purl.org/rss/1.0/}"


def parse_xml(body: bytes):
    """Parse untrusted XML: no DTDs, no entities, no external references (billion laughs, XXE)."""
    if SafeElementTree is not None:
        return SafeElementTree.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    # Without defusedxml: a feed has no business declaring a DTD, so refuse any before parsing.
    if re.search(rb"<!(?:DOCTYPE|ENTITY)", body[:4096], re.IGNORECASE):
        raise DefusedXmlException("DTDs and entity declarations are not accepted")
    import xml.etree.ElementTree as ElementTree

    return ElementTree.fromstring(body)


def _parse_feed(source: Source, body: bytes) -> tuple[list[str], int, str]:
    try:
        root = parse_xml(body)
    except DefusedXmlException as error:
        raise SourceError(source.address, f"refused unsafe XML ({type(error).__name__})") from None
    except Exception as error:  # ParseError and friends; the message has line and column
        raise SourceError(source.address, f"not well-formed XML ({error})") from None
    tag = root.tag.lower()
    if root.tag == f"{_ATOM}feed":
        entries, title_tag, kind = root.iter(f"{_ATOM}entry"), f"{_ATOM}title", "atom"
    elif tag == "rss":
        entries, title_tag, kind = root.iter("item"), "title", "rss"
    elif tag.endswith("rdf"):
        entries, title_tag, kind = root.iter(f"{_RSS1}item"), f"{_RSS1}title", "rss"
    else:
        raise SourceError(source.address, f"XML root <{root.tag}> is neither an RSS nor an Atom feed")
    keywords, malformed = [], 0
    for entry in entries:
        title = entry.find(title_tag)
        text = "".join(title.itertext()) if title is not None else ""
        # Feeds often escape HTML twice ("&amp;amp;", "<b>" as text): one unescape, tags dropped.
        text = re.sub(r"<[^>]{0,200}>", "", html.unescape(text)).strip()
        if text:
            keywords.append(text)
        else:
            malformed += 1
    return keywords, malformed, kind


_PATH_TOKEN = re.compile(r"\[(?P<index>\*|-?\d+)\]|(?P<key>[^.\[\]]+)|(?P<dot>\.)")


def parse_json_path(path: str) -> list[str | int]:
    """'data.items[*].title' -> ['data', 'items', '*', 'title']; '*' iterates a list."""
    steps: list[str | int] = []
    position, expect_key = 0, True
    for match in _PATH_TOKEN.finditer(path):
        if match.start() != position:
            break
        position = match.end()
        if match.group("dot"):
            if expect_key:
                raise ValueError(f"JSON path {path!r}: empty key at character {match.start()}")
            expect_key = True
        elif match.group("key") is not None:
            if not expect_key:
                raise ValueError(f"JSON path {path!r}: missing '.' before {match.group('key')!r}")
            steps.append(match.group("key"))
            expect_key = False
        else:
            index = match.group("index")
            steps.append("*" if index == "*" else int(index))
            expect_key = False
    if position != len(path) or not steps or expect_key and path:
        raise ValueError(f"JSON path {path!r} is not valid; write keys with '.', list steps as [*] or [N], "
                         f"e.g. data.items[*].title")
    return steps


def select_json(document: Any, path: str) -> tuple[list[Any], int]:
    """The values `path` selects, and how many list elements it skipped.

    Below a `[*]` an element that lacks the rest of the path is one malformed item, skipped
    and counted; anywhere else a missing key or index is a wrong path: `LookupError` naming
    where it went wrong. A path whose every element is malformed is wrong too.
    """
    values: list[tuple[Any, str, bool]] = [(document, "$", False)]
    skipped, first_problem = 0, ""
    for step in parse_json_path(path):
        selected: list[tuple[Any, str, bool]] = []
        for value, at, in_list in values:
            try:
                selected += _step(value, at, step, in_list)
            except LookupError as problem:
                if not in_list:
                    raise
                skipped += 1
                first_problem = first_problem or str(problem)
        values = selected
    if skipped and not values:
        raise LookupError(f"no element has it: {first_problem}")
    return [value for value, _, _ in values], skipped


def _step(value: Any, at: str, step: str | int, in_list: bool) -> list[tuple[Any, str, bool]]:
    if step == "*":
        if not isinstance(value, list):
            raise LookupError(f"{at} is {_json_type(value)}, not a list, so [*] does not apply")
        return [(item, f"{at}[{i}]", True) for i, item in enumerate(value)]
    if isinstance(step, int):
        if not isinstance(value, list):
            raise LookupError(f"{at} is {_json_type(value)}, not a list, so [{step}] does not apply")
        if not -len(value) <= step < len(value):
            raise LookupError(f"{at} has {len(value)} element(s); [{step}] is out of range")
        return [(value[step], f"{at}[{step}]", in_list)]
    if not isinstance(value, dict):
        raise LookupError(f"{at} is {_json_type(value)}, not an object, so key {step!r} does not apply")
    if step not in value:
        raise LookupError(f"{at} has no key {step!r} (keys: {', '.join(list(value)[:8]) or 'none'})")
    return [(value[step], f"{at}.{step}", in_list)]


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def _parse_json(source: Source, text: str) -> tuple[list[str], int]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(source.address, f"not valid JSON ({error})") from None
    skipped = 0
    if source.json_path:
        try:
            values, skipped = select_json(document, source.json_path)
        except (LookupError, ValueError) as error:
            raise SourceError(source.address, f"JSON path {source.json_path!r}: {error}") from None
    elif isinstance(document, list):
        values = document
    else:
        raise SourceError(source.address, "JSON is not a list of keywords; add '#path=...' to say where they "
                                          "are, e.g. #path=data.items[*].title")
    keywords, malformed = [], skipped
    for value in values:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            keywords += [v for v in value if v.strip()]
            malformed += sum(1 for v in value if not v.strip())
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
            keywords.append(str(value))
        else:
            malformed += 1
    if values and not keywords:
        raise SourceError(source.address, f"JSON path {source.json_path or '$'!r} selects no text "
                                          f"({_json_type(values[0])} found); point it at the keyword strings")
    return keywords, malformed


def _parse_csv(source: Source, text: str) -> tuple[list[str], int]:
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise SourceError(source.address, f"not valid CSV ({error})") from None
    if not rows:
        return [], 0
    header = [cell.strip().lstrip("\ufeff").casefold() for cell in rows[0]]
    column = 0
    if source.column is not None:
        wanted = source.column.strip().casefold()
        if wanted in header:
            column, rows = header.index(wanted), rows[1:]
        elif wanted.isdigit() and int(wanted) >= 1:
            column = int(wanted) - 1
        else:
            raise SourceError(source.address, f"no column {source.column!r} in the header ({', '.join(header)})")
    else:
        named = next((i for i, cell in enumerate(header) if cell in CSV_HEADER_NAMES), None)
        if named is not None:
            column, rows = named, rows[1:]
    keywords, malformed = [], 0
    for row in rows:
        if column < len(row) and row[column].strip():
            keywords.append(row[column])
        else:
            malformed += 1
    return keywords, malformed


def _parse_text(text: str) -> list[str]:
    # "# note" is a comment; "#露营#" (a Weibo-style hashtag, no space) is a keyword.
    return [line for line in text.splitlines()
            if line.strip() and not re.match(r"\s*#(?:\s|$)", line)]


# --- normalising and screening --------------------------------------------------------------


@dataclass(frozen=True)
class Keyword:
    display: str
    normalised: str
    source: str


@dataclass
class Decision:
    """What the poller does with one fetched keyword, and why."""

    keyword: Keyword
    status: Status
    reason: str = ""

    def to_dict(self) -> dict:
        return {"display": self.keyword.display, "normalised": self.keyword.normalised,
                "source": self.keyword.source, "status": self.status, "reason": self.reason}


def normalise(text: str) -> tuple[str, str]:
    """(display, normalised): NFKC, format characters (zero-width, BOM) removed, a hashtag's
    surrounding '#' removed, whitespace collapsed; `normalised` is also casefolded."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    display = " ".join(text.split())
    display = " ".join(display.strip("#").split())
    return display, display.casefold()


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@dataclass(frozen=True)
class WordList:
    """Brand-safety terms, matched on normalised text (CJK: substring; other: whole words)."""

    terms: tuple[str, ...] = ()

    @classmethod
    def of(cls, terms: Iterable[str] | None) -> "WordList":
        normalised = (normalise(t)[1] for t in (terms or ()))
        return cls(tuple(sorted({t for t in normalised if t})))

    @classmethod
    def load(cls, path: str | Path) -> "WordList":
        """One term a line; blank lines and comment lines ("# ...") are skipped."""
        text = Path(path).read_text(encoding="utf-8-sig")
        return cls.of(line for line in text.splitlines() if not re.match(r"\s*#(?:\s|$)", line))

    def __bool__(self) -> bool:
        return bool(self.terms)

    def match(self, normalised: str) -> str | None:
        """The first term found in `normalised`, or None."""
        for term in self.terms:
            if _CJK.search(term):
                if term in normalised:
                    return term
            elif re.search(rf"(?<!\w){re.escape(term)}(?!\w)", normalised):
                return term
        return None


def screen_keywords(
    fetched: Iterable[tuple[str, str]],
    *,
    seen: Collection[str] = (),
    blocklist: WordList | None = None,
    allowlist: WordList | None = None,
    max_chars: int = MAX_KEYWORD_CHARS,
) -> list[Decision]:
    """Decide for each (source, raw text), in order, whether it becomes jobs ("new")."""
    decisions: list[Decision] = []
    first_seen: set[str] = set()
    for source, raw in fetched:
        display, normalised = normalise(raw)
        keyword = Keyword(display, normalised, source)
        if not normalised:
            decisions.append(Decision(keyword, "invalid", "empty after normalising"))
        elif len(display) > max_chars:
            decisions.append(Decision(keyword, "invalid", f"{len(display)} characters; at most {max_chars}"))
        elif normalised in first_seen:
            decisions.append(Decision(keyword, "duplicate", "already in this poll"))
        elif blocklist and (term := blocklist.match(normalised)):
            decisions.append(Decision(keyword, "blocked", f"blocklist term {term!r}"))
        elif allowlist and not allowlist.match(normalised):
            decisions.append(Decision(keyword, "filtered", "no allowlist term"))
        elif normalised in seen:
            decisions.append(Decision(keyword, "seen", "already queued by an earlier poll"))
        else:
            decisions.append(Decision(keyword, "new"))
        if normalised:
            first_seen.add(normalised)
    return decisions


# --- jobs -------------------------------------------------------------------------------------


def job_id(keyword: Keyword, template: str, taken: Collection[str] = ()) -> str:
    """A spec-valid job id: the keyword's ASCII words, plus a short hash when those lose
    information (Chinese, punctuation, length) or collide with an id in `taken`."""
    words = re.findall(r"[a-z0-9]+", keyword.normalised.encode("ascii", "ignore").decode())
    slug = "-".join(words)[:32].strip("-")
    digest = hashlib.sha1(keyword.normalised.encode("utf-8")).hexdigest()[:6]
    lossless = slug and slug == "-".join(keyword.normalised.split())
    stem = slug if lossless else "-".join(p for p in (slug or "kw", digest) if p)
    candidate = f"{stem}-{template[:20]}".strip("-.")
    if candidate in taken:
        candidate = f"{slug or 'kw'}-{digest}-{template[:20]}"
    return candidate[:64]


def build_batch_spec(
    keywords: Sequence[Keyword],
    templates: Sequence[str],
    *,
    name: str,
    skeleton: Mapping[str, Any] | None = None,
    source: str | Path = "<spec>",
) -> tuple[dict, dict[str, list[str]]]:
    """A batch spec dict (validated by `clipmill.spec.parse_spec`) with one job per keyword
    and template, and the job ids made for each normalised keyword.

    `skeleton` is the rest of the spec: optional `description`, `models` and `defaults`
    (model, size, frames, qa, ...); its jobs, if any, are ignored.
    """
    if not templates:
        raise ValueError("no templates given; name at least one of: " + ", ".join(sorted(TEMPLATES)))
    for template in templates:
        if template not in TEMPLATES:
            raise ValueError(f"unknown template {template!r}; known templates: {', '.join(sorted(TEMPLATES))}")
    if not keywords:
        raise ValueError("no keywords to make jobs from")
    skeleton = dict(skeleton or {})
    unknown = set(skeleton) - {"description", "models", "defaults", "name", "jobs"}
    if unknown:
        raise ValueError(f"spec defaults: unknown field(s) {', '.join(sorted(unknown))}; "
                         f"give 'models', 'defaults' and optionally 'description'")
    jobs: list[dict] = []
    job_keys: dict[str, list[str]] = {}
    taken: set[str] = set()
    for keyword in keywords:
        for template in templates:
            expand_template(keyword.display, template)  # a keyword the template refuses fails here, by name
            identifier = job_id(keyword, template, taken)
            taken.add(identifier)
            jobs.append({"id": identifier, "keyword": keyword.display, "template": template})
            job_keys.setdefault(keyword.normalised, []).append(identifier)
    spec = {
        "name": name,
        "description": skeleton.get("description") or
        f"Trending keywords: {', '.join(k.display for k in keywords[:5])}{' ...' if len(keywords) > 5 else ''}",
        "models": dict(skeleton.get("models") or {}),
        "defaults": dict(skeleton.get("defaults") or {}),
        "jobs": jobs,
    }
    parse_spec(spec, source=source)
    return spec, job_keys
