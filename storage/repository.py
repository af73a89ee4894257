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
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from qa.types import Check
from storage.files import is_url, sha256_file
from storage.schema import (
    ATTEMPT_STATUSES,
    BATCH_STATUSES,
    JOB_STATUSES,
    KEYWORD_STATUSES,
    Artifact,
    Attempt,
    Batch,
    Job,
    Keyword,
    QAResult,
    utcnow,
)


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
        batch = Batch(name=name, status="running")
        session.add(batch)
    batch.spec_path = str(spec_path)
    batch.spec_sha256 = spec_sha256
    batch.run_dir = str(run_dir)
    batch.status = "running"
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
    plan: Mapping[str, Any] | None = None,
) -> Job:
    """The job `key` of `batch`, created or updated from the spec.

    An existing job keeps its status, attempts and files: resuming must not forget what a
    previous run achieved. `plan` is only written when given, so re-reading the spec does not
    erase a shot plan computed earlier.
    """
    job = session.scalar(select(Job).where(Job.batch_id == batch.id, Job.key == key))
    if job is None:
        job = Job(batch=batch, key=key, status="pending")
        session.add(job)
    job.prompt = prompt
    job.model = model
    job.params = dict(params)
    if plan is not None:
        job.plan = dict(plan)
    session.flush()
    return job


def start_attempt(
    session: Session, job: Job, *, seed: int, params: Mapping[str, Any], device: str | None = None
) -> Attempt:
    """A new running attempt numbered after every earlier one, including earlier runs'."""
    previous = session.scalar(select(func.max(Attempt.number)).where(Attempt.job_id == job.id))
    attempt = Attempt(
        job=job, number=(previous or 0) + 1, seed=int(seed), params=dict(params), device=device, status="running"
    )
    session.add(attempt)
    job.status = "running"
    job.reason = None
    session.flush()
    return attempt


def finish_attempt(
    session: Session,
    attempt: Attempt,
    *,
    status: str,
    error: str | None = None,
    timings: Mapping[str, float] | None = None,
) -> Attempt:
    _require(status, tuple(s for s in ATTEMPT_STATUSES if s != "running"), "finished attempt")
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
    session: Session, job: Job, status: str, reason: str | None = None, accepted_attempt: Attempt | None = None
) -> Job:
    """Set the job's outcome. "accepted" needs the attempt whose clip was accepted."""
    _require(status, JOB_STATUSES, "job")
    if status == "accepted":
        if accepted_attempt is None:
            raise ValueError(f"job {job.key!r}: status 'accepted' needs the accepted attempt")
        if accepted_attempt.job_id != job.id:
            raise ValueError(f"attempt {accepted_attempt.number} does not belong to job {job.key!r}")
    elif accepted_attempt is not None:
        raise ValueError(f"job {job.key!r}: an accepted attempt only goes with status 'accepted', not {status!r}")
    job.status = status
    job.reason = reason
    job.accepted_attempt = accepted_attempt
    session.flush()
    return job


def finish_batch(session: Session, batch: Batch, status: str = "finished") -> Batch:
    _require(status, BATCH_STATUSES, "batch")
    batch.status = status
    batch.finished_at = None if status == "running" else utcnow()
    session.flush()
    return batch


def abandon_running_attempts(session: Session, batch: Batch, error: str = "interrupted") -> int:
    """Mark attempts still "running" from a crashed or cancelled run as errors.

    Call when resuming a batch, before starting new attempts, so reports do not show
    attempts that will never finish. Returns how many were closed.
    """
    stale = session.scalars(
        select(Attempt).join(Job, Attempt.job_id == Job.id).where(Job.batch_id == batch.id, Attempt.status == "running")
    ).all()
    for attempt in stale:
        finish_attempt(session, attempt, status="error", error=error)
    return len(stale)


# --- trending keywords ----------------------------------------------------------------------

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
            select(Keyword.normalised).where(Keyword.normalised.in_(chunk), Keyword.status == "queued")
        ))
    return seen


def record_keywords(
    session: Session, keywords: Iterable[Mapping[str, Any]], *, batch_name: str | None = None
) -> list[Keyword]:
    """Insert or update one row per keyword; each mapping has `normalised`, `display`,
    `source`, `status` and optionally `reason` and `job_keys`.

    `batch_name` is stored on the "queued" ones. A keyword already queued keeps its batch,
    jobs and status (only `last_seen_at` moves), so a repeated poll cannot re-assign it.
    """
    now = utcnow()
    given: dict[str, Mapping[str, Any]] = {}
    for entry in keywords:
        _require(entry["status"], KEYWORD_STATUSES, "keyword")
        given.setdefault(entry["normalised"], entry)
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
        elif row.status == "queued":
            row.last_seen_at = now
            rows.append(row)
            continue
        row.display = entry["display"]
        row.source = entry["source"]
        row.status = entry["status"]
        row.reason = entry.get("reason")
        row.batch_name = batch_name if entry["status"] == "queued" else None
        row.job_keys = list(entry.get("job_keys") or [])
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


# --- reading -------------------------------------------------------------------------------


def accepted_job_keys(session: Session, batch: Batch) -> set[str]:
    """Keys of the batch's accepted jobs: what a resumed run skips."""
    return set(session.scalars(select(Job.key).where(Job.batch_id == batch.id, Job.status == "accepted")))


def batch_report(session: Session, name_or_id: str | int) -> dict[str, Any]:
    """Everything a report or gallery shows about one batch, as JSON-safe data.

    A string is taken as the batch name first and, if all digits and no such name exists,
    as an id: `clipmill report 3` works as a user expects.
    """
    batch = _find_batch(session, name_or_id)
    jobs = session.scalars(
        select(Job)
        .where(Job.batch_id == batch.id)
        .order_by(Job.id)
        .options(
            selectinload(Job.attempts).selectinload(Attempt.checks),
            selectinload(Job.artifacts).selectinload(Artifact.attempt),
            selectinload(Job.accepted_attempt),
        )
    ).all()
    counts = dict.fromkeys(JOB_STATUSES, 0)
    for job in jobs:
        counts[job.status] += 1
    return {
        **_batch_fields(batch),
        "jobs_total": len(jobs),
        "counts": counts,
        # Share of the batch's jobs that ended with an accepted clip; None for an empty batch.
        "yield": counts["accepted"] / len(jobs) if jobs else None,
        "attempts_total": sum(len(job.attempts) for job in jobs),
        "jobs": [_job_report(job) for job in jobs],
    }


def list_batches(session: Session) -> list[dict[str, Any]]:
    """Every batch, newest first, with its job counts."""
    totals = (
        select(
            Job.batch_id,
            func.count(Job.id).label("jobs"),
            func.count(Job.id).filter(Job.status == "accepted").label("accepted"),
        )
        .group_by(Job.batch_id)
        .subquery()
    )
    rows = session.execute(
        select(Batch, totals.c.jobs, totals.c.accepted)
        .outerjoin(totals, totals.c.batch_id == Batch.id)
        .order_by(Batch.created_at.desc(), Batch.id.desc())
    ).all()
    return [
        {**_batch_fields(batch), "jobs_total": jobs or 0, "accepted": accepted or 0}
        for batch, jobs, accepted in rows
    ]


# --- helpers -------------------------------------------------------------------------------


def _find_batch(session: Session, name_or_id: str | int) -> Batch:
    batch = None
    if isinstance(name_or_id, str):
        batch = session.scalar(select(Batch).where(Batch.name == name_or_id))
        if batch is None and name_or_id.isdigit():
            batch = session.get(Batch, int(name_or_id))
    else:
        batch = session.get(Batch, int(name_or_id))
    if batch is None:
        raise LookupError(f"no batch named or numbered {name_or_id!r} in the results database")
    return batch


def _finite_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _batch_fields(batch: Batch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "name": batch.name,
        "status": batch.status,
        "spec_path": batch.spec_path,
        "spec_sha256": batch.spec_sha256,
        "run_dir": batch.run_dir,
        "created_at": _iso(batch.created_at),
        "updated_at": _iso(batch.updated_at),
        "finished_at": _iso(batch.finished_at),
    }


def _job_report(job: Job) -> dict[str, Any]:
    return {
        "key": job.key,
        "prompt": job.prompt,
        "model": job.model,
        "params": job.params,
        "plan": job.plan,
        "status": job.status,
        "reason": job.reason,
        "accepted_attempt": job.accepted_attempt.number if job.accepted_attempt is not None else None,
        "attempts": [_attempt_report(attempt) for attempt in job.attempts],
        "artifacts": [
            {
                "kind": artifact.kind,
                "path": artifact.path,
                "bytes": artifact.bytes,
                "sha256": artifact.sha256,
                "attempt": artifact.attempt.number if artifact.attempt is not None else None,
                "created_at": _iso(artifact.created_at),
            }
            for artifact in job.artifacts
        ],
    }


def _attempt_report(attempt: Attempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "seed": attempt.seed,
        "status": attempt.status,
        "error": attempt.error,
        "device": attempt.device,
        "params": attempt.params,
        "timings": attempt.timings,
        "started_at": _iso(attempt.started_at),
        "finished_at": _iso(attempt.finished_at),
        "checks": [
            {
                "stage": check.stage,
                "metric": check.metric,
                "value": check.value,
                "threshold": check.threshold,
                "passed": check.passed,
                "reason": check.reason,
            }
            for check in attempt.checks
        ],
    }
