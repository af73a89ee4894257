"""Screening fetched keywords: which become jobs ("new") and why the others do not.

In order: normalise; drop empties and over-long text; drop duplicates in this poll;
blocklist; allowlist; drop keywords already queued (the caller passes what the database has
seen). The blocklist is checked before the allowlist so that it wins when both match.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from clipmill.statuses import KeywordStatus
from clipmill.trending.keywords import Keyword, normalise
from clipmill.trending.wordlists import WordList

MAX_KEYWORD_CHARS = 120

class ScreeningStatus(StrEnum):
    """What one poll decided about a fetched keyword. NEW ones become jobs; SEEN: queued by an
    earlier poll; DUPLICATE: already in this poll; the rest are refused (KeywordStatus says why)."""

    NEW = "new"
    SEEN = "seen"
    DUPLICATE = "duplicate"
    BLOCKED = "blocked"
    FILTERED = "filtered"
    INVALID = "invalid"

    @property
    def recorded_as(self) -> KeywordStatus | None:
        """The status the keyword is stored with; None for a decision that adds nothing new
        (a duplicate, or one an earlier poll already queued)."""
        return _RECORDED_AS.get(self)


_RECORDED_AS = {ScreeningStatus.NEW: KeywordStatus.QUEUED, ScreeningStatus.BLOCKED: KeywordStatus.BLOCKED,
                ScreeningStatus.FILTERED: KeywordStatus.FILTERED, ScreeningStatus.INVALID: KeywordStatus.INVALID}


@dataclass
class Decision:
    """What the poller does with one fetched keyword, and why."""

    keyword: Keyword
    status: ScreeningStatus
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
             blocklist: WordList | None, allowlist: WordList | None, max_chars: int) -> tuple[ScreeningStatus, str]:
    normalised = keyword.normalised
    if not normalised:
        return ScreeningStatus.INVALID, "empty after normalising"
    if len(keyword.display) > max_chars:
        return ScreeningStatus.INVALID, f"{len(keyword.display)} characters; at most {max_chars}"
    if normalised in first_seen:
        return ScreeningStatus.DUPLICATE, "already in this poll"
    if blocklist and (term := blocklist.match(normalised)):
        return ScreeningStatus.BLOCKED, f"blocklist term {term!r}"
    if allowlist and not allowlist.match(normalised):
        return ScreeningStatus.FILTERED, "no allowlist term"
    if normalised in seen:
        return ScreeningStatus.SEEN, "already queued by an earlier poll"
    return ScreeningStatus.NEW, ""
