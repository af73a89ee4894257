"""What the pipeline records and what reports read: small functions over a Session.

Each function does one thing to the database and leaves committing to the caller
(storage.db.session_scope), so a task can group several of them into one transaction.
JSON columns are always assigned fresh objects, never mutated in place: SQLAlchemy does not
notice in-place changes to a plain JSON value.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from clipmill.qa.types import Check
from clipmill.statuses import AttemptEventKind, AttemptStatus, BatchStatus, JobStatus
from clipmill.storage.files import is_url, sha256_file
from clipmill.storage.schema import (
    ATTEMPT_EVENT_KINDS,
    ATTEMPT_STATUSES,
    BATCH_STATUSES,
    ENDED_JOB_STATUSES,
    JOB_STATUSES,
    Artifact,
    Attempt,
    AttemptEvent,
    Batch,
    Job,
    QAResult,
    utcnow,
)


@dataclass(frozen=True)
class JobHistory:
    """What earlier runs of one job version spent: `spent` attempts of its budget, every seed
    it tried, and the parameters of its last attempt (None before the first)."""

    spent: int
    tried_seeds: frozenset[int]
    last_params: dict[str, Any] | None
    status: str = JobStatus.PENDING  # the job's status now: another run may have ended it meanwhile


def _require(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} status {value!r}; expected one of {', '.join(allowed)}")


# --- writing -------------------------------------------------------------------------------


def get_or_create_batch(
    session: Session, *, name: str, spec_path: str | os.PathLike, spec_sha256: str, run_dir: str | os.PathLike
) -> Batch:
    """The batch called `name`; an existing one is resumed: back to "running", spec updated."""
    batch = session.scalar(select(Batch).where(Batch.name == name))
    if batch is None:
        batch = Batch(name=name, status=BatchStatus.RUNNING)
        session.add(batch)
    batch.spec_path = str(spec_path)
    batch.spec_sha256 = spec_sha256
    batch.run_dir = str(run_dir)
    batch.status = BatchStatus.RUNNING
    batch.finished_at = None
    session.flush()
    return batch


def upsert_job(
    session: Session,
    batch: Batch,
    *,
    key: str,
    prompt: str,
    model: str,
    params: Mapping[str, Any],
    version: str | None = None,
    retry_failed: bool = False,
) -> Job:
    """The job `key` of `batch`, created or updated from the spec.

    An existing job keeps its status, attempts and files: resuming must not forget what a
    previous run achieved. Two things start it afresh: a new `version` (a changed definition:
    back to pending, the old version's attempts stay recorded) and `retry_failed` on a failed
    or errored job (back to pending with a new attempt budget).
    """
    job = session.scalar(select(Job).where(Job.batch_id == batch.id, Job.key == key))
    if job is None:
        job = Job(batch=batch, key=key, status=JobStatus.PENDING, version=version, budget_from=0)
        session.add(job)
    elif version is not None and job.version != version:
        job.version, job.status, job.reason, job.accepted_attempt = version, JobStatus.PENDING, None, None
    elif retry_failed and job.status in (JobStatus.FAILED, JobStatus.ERROR):
        job.budget_from = _last_attempt_number(session, job)
        job.status, job.reason = JobStatus.PENDING, None
    job.prompt = prompt
    job.model = model
    job.params = dict(params)
    session.flush()
    return job


def set_job_plan(session: Session, job: Job, plan: Mapping[str, Any]) -> Job:
    """The shot plan the job's next attempts run (a re-split for more segments replaces it)."""
    job.plan = dict(plan)
    session.flush()
    return job


def job_history(session: Session, job: Job) -> JobHistory:
    """What this version of the job has already spent and tried, across every run."""
    attempts = session.scalars(
        select(Attempt).where(Attempt.job_id == job.id, Attempt.job_version == job.version).order_by(Attempt.number)
    ).all()
    return JobHistory(
        spent=sum(1 for a in attempts if a.number > (job.budget_from or 0)),
        tried_seeds=frozenset(int(a.seed) for a in attempts),
        last_params=dict(attempts[-1].params) if attempts else None,
        status=job.status,
    )


def _last_attempt_number(session: Session, job: Job) -> int:
    return session.scalar(select(func.max(Attempt.number)).where(Attempt.job_id == job.id)) or 0


def start_attempt(
    session: Session, job: Job, *, seed: int, params: Mapping[str, Any], device: str | None = None
) -> Attempt:
    """A new running attempt of the job's current version, numbered after every earlier one,
    including earlier runs' and earlier versions'."""
    attempt = Attempt(
        job=job, number=_last_attempt_number(session, job) + 1, seed=int(seed), params=dict(params), device=device,
        job_version=job.version, status=AttemptStatus.RUNNING,
    )
    session.add(attempt)
    job.status = JobStatus.RUNNING
    job.reason = None
    session.flush()
    return attempt


def finish_attempt(
    session: Session,
    attempt: Attempt,
    *,
    status: AttemptStatus,
    error: str | None = None,
    timings: Mapping[str, float] | None = None,
) -> Attempt:
    _require(status, tuple(s for s in ATTEMPT_STATUSES if s != AttemptStatus.RUNNING), "finished attempt")
    attempt.status = status
    attempt.error = error
    if timings is not None:
        attempt.timings = {stage: float(seconds) for stage, seconds in timings.items()}
    attempt.finished_at = utcnow()
    session.flush()
    return attempt


def record_checks(session: Session, attempt: Attempt, checks: Iterable[Check]) -> list[QAResult]:
    rows = [
        QAResult(
            attempt=attempt,
            stage=check.stage,
            kind=check.kind,
            subject=check.subject,
            metric=check.metric,
            value=_finite_or_none(check.value),
            threshold=_finite_or_none(check.threshold),
            passed=bool(check.passed),
            reason=check.reason,
        )
        for check in checks
    ]
    session.add_all(rows)
    session.flush()
    return rows


class EventFields(Protocol):
    """What an attempt event brings to its row (clipmill.bookkeeping.AttemptEvent is one)."""

    kind: AttemptEventKind
    action: str
    reason: str
    details: Mapping[str, Any]


def record_events(session: Session, attempt: Attempt, events: Iterable[EventFields]) -> list[AttemptEvent]:
    rows = []
    for event in events:
        _require(event.kind, ATTEMPT_EVENT_KINDS, "attempt event")
        rows.append(AttemptEvent(attempt=attempt, kind=event.kind, action=event.action, reason=event.reason,
                                 details=dict(event.details)))
    session.add_all(rows)
    session.flush()
    return rows


def record_artifact(
    session: Session,
    *,
    job: Job,
    attempt: Attempt | None = None,
    kind: str,
    path: str | os.PathLike,
    compute_hash: bool = True,
) -> Artifact:
    """Record a file (size and sha256 read from disk) or a URL (stored as given, unhashed).

    Local paths are stored absolute so the gallery finds them whatever its working folder.
    A missing local file raises FileNotFoundError when hashing: recording a file that is not
    there would make the report lie.
    """
    if attempt is not None and attempt.job_id != job.id:
        raise ValueError(f"attempt {attempt.number} belongs to job {attempt.job.key!r}, not {job.key!r}")
    size: int | None = None
    digest: str | None = None
    if is_url(path):
        stored = path
    else:
        local = Path(path).resolve()
        stored = str(local)
        if compute_hash:
            digest = sha256_file(local)
            size = local.stat().st_size
        elif local.exists():
            size = local.stat().st_size
    artifact = Artifact(job=job, attempt=attempt, kind=kind, path=stored, bytes=size, sha256=digest)
    session.add(artifact)
    session.flush()
    return artifact


def set_job_status(
    session: Session, job: Job, status: JobStatus, reason: str | None = None, accepted_attempt: Attempt | None = None
) -> Job:
    """Set the job's outcome. "accepted" needs the attempt whose clip was accepted."""
    _require(status, JOB_STATUSES, "job")
    if status == JobStatus.ACCEPTED:
        if accepted_attempt is None:
            raise ValueError(f"job {job.key!r}: status 'accepted' needs the accepted attempt")
        if accepted_attempt.job_id != job.id:
            raise ValueError(f"attempt {accepted_attempt.number} does not belong to job {job.key!r}")
    elif accepted_attempt is not None:
        raise ValueError(f"job {job.key!r}: an accepted attempt only goes with status 'accepted', not '{status}'")
    job.status = status
    job.reason = reason
    job.accepted_attempt = accepted_attempt
    session.flush()
    return job


def finish_batch(session: Session, batch: Batch, status: BatchStatus = BatchStatus.FINISHED) -> Batch:
    _require(status, BATCH_STATUSES, "batch")
    batch.status = status
    batch.finished_at = None if status == BatchStatus.RUNNING else utcnow()
    session.flush()
    return batch


def interrupt_running_attempts(session: Session, job: Job,
                               error: str = "interrupted: its run ended before the attempt did") -> int:
    """Close the job's attempts still "running" as interrupted, and the job too: call only
    when no live run holds the job (storage.leases), so those attempts can never finish."""
    stale = session.scalars(select(Attempt).where(Attempt.job_id == job.id, Attempt.status == AttemptStatus.RUNNING)).all()
    for attempt in stale:
        finish_attempt(session, attempt, status=AttemptStatus.INTERRUPTED, error=error)
    if job.status == JobStatus.RUNNING:
        job.status, job.reason = JobStatus.INTERRUPTED, error
    session.flush()
    return len(stale)


def abandon_running_attempts(session: Session, batch: Batch) -> int:
    """Close, as interrupted, the attempts that killed runs left "running" in `batch`: those of
    jobs no live lease holds (a job a live run is making is left alone). Returns how many."""
    now = utcnow()
    unheld = session.scalars(select(Job).where(
        Job.batch_id == batch.id, or_(Job.claimed_by.is_(None), Job.lease_expires_at < now))).all()
    return sum(interrupt_running_attempts(session, job) for job in unheld)


def busy_jobs(session: Session, batch: Batch) -> dict[str, tuple[str, datetime]]:
    """Key -> (worker, lease expiry in UTC) of the batch's jobs that a live run is making now."""
    rows = session.execute(select(Job.key, Job.claimed_by, Job.lease_expires_at).where(
        Job.batch_id == batch.id, Job.claimed_by.is_not(None), Job.lease_expires_at >= utcnow()))
    return {key: (worker, expires) for key, worker, expires in rows.all()}


def ended_jobs(session: Session, batch: Batch) -> dict[str, str]:
    """Key -> status of the batch's jobs that have ended (ENDED_JOB_STATUSES): what a run skips."""
    rows = session.execute(select(Job.key, Job.status).where(Job.batch_id == batch.id,
                                                              Job.status.in_(ENDED_JOB_STATUSES)))
    return dict(rows.all())


def _finite_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
