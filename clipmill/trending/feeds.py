"""RSS 2.0, RSS 1.0 (RDF) and Atom feeds: the title of each item or entry is a keyword."""
from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

from clipmill.trending.addressing import Source, SourceError

try:
    from defusedxml import ElementTree as SafeElementTree
    from defusedxml.common import DefusedXmlException
except ImportError:  # pragma: no cover - defusedxml is a declared dependency
    SafeElementTree = None

    class DefusedXmlException(ValueError):  # type: ignore[no-redef]
        pass

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


def parse_feed_titles(source: Source, body: bytes) -> tuple[list[str], int, str]:
    """(titles in feed order, entries without a usable title, "rss" or "atom")."""
    try:
        root = parse_xml(body)
    except DefusedXmlException as error:
        raise SourceError(source.address, f"refused unsafe XML ({type(error).__name__})") from None
    except Exception as error:  # ParseError and friends; the message has line and column
        raise SourceError(source.address, f"not well-formed XML ({error})") from None
    entries, title_tag, kind = _feed_layout(source, root)
    keywords, malformed = [], 0
    for entry in entries:
        text = _title_text(entry, title_tag)
        if text:
            keywords.append(text)
        else:
            malformed += 1
    return keywords, malformed, kind


def _feed_layout(source: Source, root: Any) -> tuple[Iterator[Any], str, str]:
    """The entries of the feed, the tag of their titles, and which kind of feed it is."""
    tag = root.tag.lower()
    if root.tag == f"{_ATOM}feed":
        return root.iter(f"{_ATOM}entry"), f"{_ATOM}title", "atom"
    if tag == "rss":
        return root.iter("item"), "title", "rss"
    if tag.endswith("rdf"):
        return root.iter(f"{_RSS1}item"), f"{_RSS1}title", "rss"
    raise SourceError(source.address, f"XML root <{root.tag}> is neither an RSS nor an Atom feed")


def _title_text(entry: Any, title_tag: str) -> str:
    title = entry.find(title_tag)
    text = "".join(title.itertext()) if title is not None else ""
    # Feeds often escape HTML twice ("&amp;amp;", "<b>" as text): one unescape, tags dropped.
    return re.sub(r"<[^>]{0,200}>", "", html.unescape(text)).strip()
