"""Screening fetched keywords: which become jobs ("new") and why the others do not.

In order: normalise; drop empties and over-long text; drop duplicates in this poll;
blocklist; allowlist; drop keywords already queued (the caller passes what the database has
seen). The blocklist is checked before the allowlist so that it wins when both match.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Literal

from clipmill.trending.keywords import Keyword, normalise
from clipmill.trending.wordlists import WordList

MAX_KEYWORD_CHARS = 120

Status = Literal["new", "seen", "duplicate", "blocked", "filtered", "invalid"]


@dataclass
class Decision:
    """What the poller does with one fetched keyword, and why."""

    keyword: Keyword
    status: Status
    reason: str = ""

    def to_dict(self) -> dict:
        return {"display": self.keyword.display, "normalised": self.keyword.normalised,
                "source": self.keyword.source, "status": self.status, "reason": self.reason}


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
        status, reason = _verdict(keyword, first_seen, seen, blocklist, allowlist, max_chars)
        decisions.append(Decision(keyword, status, reason))
        # Every non-empty keyword counts, blocked ones included: a repeat of a blocked keyword
        # is reported as a duplicate rather than blocked twice.
        if normalised:
            first_seen.add(normalised)
    return decisions


def _verdict(keyword: Keyword, first_seen: Collection[str], seen: Collection[str],
             blocklist: WordList | None, allowlist: WordList | None, max_chars: int) -> tuple[Status, str]:
    normalised = keyword.normalised
    if not normalised:
        return "invalid", "empty after normalising"
    if len(keyword.display) > max_chars:
        return "invalid", f"{len(keyword.display)} characters; at most {max_chars}"
    if normalised in first_seen:
        return "duplicate", "already in this poll"
    if blocklist and (term := blocklist.match(normalised)):
        return "blocked", f"blocklist term {term!r}"
    if allowlist and not allowlist.match(normalised):
        return "filtered", "no allowlist term"
    if normalised in seen:
        return "seen", "already queued by an earlier poll"
    return "new", ""
