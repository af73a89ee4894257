"""The statuses a batch, a job, an attempt and a trending keyword can be in: the bottom of the
vocabulary, used by every layer, and the source of the database's CHECK constraints
(storage/schema.py), so a status the code can write is one the database accepts.

StrEnum members are str: they compare equal to, and store as, their value.
"""
from __future__ import annotations

from enum import StrEnum


class BatchStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class JobStatus(StrEnum):
    """A job has ended when accepted, rejected (input gate), failed (attempt budget spent) or
    error (bad input); a run of the batch runs only the others. INTERRUPTED: its process died
    mid-attempt. CANCELLED: stopped on request (`clipmill cancel`, the Prefect UI); like
    interrupted, it runs again next time."""

    PENDING = "pending"
    RUNNING = "running"
    ACCEPTED = "accepted"
    FAILED = "failed"
    REJECTED = "rejected"
    ERROR = "error"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"

    @property
    def ended(self) -> bool:
        return self in ENDED_JOB_STATUSES


ENDED_JOB_STATUSES: frozenset[JobStatus] = frozenset(
    {JobStatus.ACCEPTED, JobStatus.FAILED, JobStatus.REJECTED, JobStatus.ERROR})


class AttemptStatus(StrEnum):
    RUNNING = "running"
    ACCEPTED = "accepted"
    FAILED_QA = "failed_qa"
    REJECTED = "rejected"
    ERROR = "error"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"


class AttemptEventKind(StrEnum):
    """What happened to an attempt besides its checks: the retry policy's decision after it, an
    out-of-memory fallback during it, a warning about how it was made (a distilled profile run
    without a LoRA)."""

    RETRY = "retry"
    OOM_FALLBACK = "oom_fallback"
    WARNING = "warning"


class KeywordStatus(StrEnum):
    """QUEUED: jobs were made for it; BLOCKED: matched the blocklist; FILTERED: missed the
    allowlist; INVALID: unusable text (too long, nothing left after normalising)."""

    QUEUED = "queued"
    BLOCKED = "blocked"
    FILTERED = "filtered"
    INVALID = "invalid"
