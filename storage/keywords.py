"""Trending keywords: which were already queued, and what each poll decided about each one."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clipmill.storage.repository import _require
from clipmill.storage.reports import _iso
from clipmill.statuses import KeywordStatus
from clipmill.storage.schema import KEYWORD_STATUSES, Keyword, utcnow

# SQLite allows 32766 bound parameters a statement (999 before 3.32); stay well below either.
_IN_CHUNK = 500


def seen_keywords(session: Session, normalised: Iterable[str]) -> set[str]:
    """Those of the `normalised` keywords already queued into a batch (blocked or filtered
    ones are not "seen": a changed blocklist or allowlist may let them through later)."""
    wanted = sorted(set(normalised))
    seen: set[str] = set()
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        seen |= set(session.scalars(
            select(Keyword.normalised).where(Keyword.normalised.in_(chunk), Keyword.status == KeywordStatus.QUEUED)
        ))
    return seen


@dataclass(frozen=True)
class KeywordRecord:
    """What a poll decided about one keyword, as stored: `job_keys` are the jobs made for a
    queued one."""

    normalised: str
    display: str
    source: str
    status: KeywordStatus
    reason: str | None = None
    job_keys: Sequence[str] = ()


def record_keywords(
    session: Session, keywords: Iterable[KeywordRecord], *, batch_name: str | None = None
) -> list[Keyword]:
    """Insert or update one row per keyword (the first of each normalised text).

    `batch_name` is stored on the "queued" ones. A keyword already queued keeps its batch,
    jobs and status (only `last_seen_at` moves), so a repeated poll cannot re-assign it.
    """
    now = utcnow()
    given: dict[str, KeywordRecord] = {}
    for entry in keywords:
        _require(entry.status, KEYWORD_STATUSES, "keyword")
        given.setdefault(entry.normalised, entry)
    existing = {}
    names = sorted(given)
    for start in range(0, len(names), _IN_CHUNK):
        for row in session.scalars(select(Keyword).where(Keyword.normalised.in_(names[start : start + _IN_CHUNK]))):
            existing[row.normalised] = row
    rows = []
    for normalised, entry in given.items():
        row = existing.get(normalised)
        if row is None:
            row = Keyword(normalised=normalised, first_seen_at=now)
            session.add(row)
        elif row.status == KeywordStatus.QUEUED:
            row.last_seen_at = now
            rows.append(row)
            continue
        row.display = entry.display
        row.source = entry.source
        row.status = entry.status
        row.reason = entry.reason
        row.batch_name = batch_name if entry.status == KeywordStatus.QUEUED else None
        row.job_keys = list(entry.job_keys)
        row.last_seen_at = now
        rows.append(row)
    session.flush()
    return rows


def list_keywords(session: Session, *, status: str | None = None) -> list[dict[str, Any]]:
    """Every recorded keyword (optionally of one status), oldest first."""
    query = select(Keyword).order_by(Keyword.first_seen_at, Keyword.id)
    if status is not None:
        _require(status, KEYWORD_STATUSES, "keyword")
        query = query.where(Keyword.status == status)
    return [
        {"normalised": k.normalised, "display": k.display, "source": k.source, "status": k.status,
         "reason": k.reason, "batch_name": k.batch_name, "job_keys": list(k.job_keys),
         "first_seen_at": _iso(k.first_seen_at), "last_seen_at": _iso(k.last_seen_at)}
        for k in session.scalars(query)
    ]
