"""What reports read: one batch, or every batch, as JSON-safe data for the report command,
the gallery, report.json and the Prefect artifacts."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from clipmill.statuses import JobStatus
from clipmill.storage.schema import JOB_STATUSES, Artifact, Attempt, Batch, Job, Keyword


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
            selectinload(Job.attempts).selectinload(Attempt.events),
            selectinload(Job.artifacts).selectinload(Artifact.attempt),
            selectinload(Job.accepted_attempt),
        )
    ).all()
    # Jobs the trending poller made: which source their keyword came from (yield per source).
    sources = {key: keyword.source for keyword in session.scalars(select(Keyword).where(Keyword.batch_name == batch.name))
               for key in keyword.job_keys}
    counts = dict.fromkeys(JOB_STATUSES, 0)
    for job in jobs:
        counts[job.status] += 1
    return {
        **_batch_fields(batch),
        "jobs_total": len(jobs),
        "counts": counts,
        # Share of the batch's jobs that ended with an accepted clip; None for an empty batch.
        "yield": counts[JobStatus.ACCEPTED] / len(jobs) if jobs else None,
        "attempts_total": sum(len(job.attempts) for job in jobs),
        "jobs": [{**_job_report(job), "keyword_source": sources.get(job.key)} for job in jobs],
    }


def job_report(session: Session, job_id: int) -> dict[str, Any]:
    """One job as batch_report shows it: attempts with checks and seeds, and its files."""
    job = session.scalar(
        select(Job)
        .where(Job.id == job_id)
        .options(
            selectinload(Job.attempts).selectinload(Attempt.checks),
            selectinload(Job.attempts).selectinload(Attempt.events),
            selectinload(Job.artifacts).selectinload(Artifact.attempt),
            selectinload(Job.accepted_attempt),
        )
    )
    if job is None:
        raise LookupError(f"no job with id {job_id} in the results database")
    return _job_report(job)


def list_batches(session: Session) -> list[dict[str, Any]]:
    """Every batch, newest first, with its job counts."""
    totals = (
        select(
            Job.batch_id,
            func.count(Job.id).label("jobs"),
            func.count(Job.id).filter(Job.status == JobStatus.ACCEPTED).label("accepted"),
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
        "version": job.version,
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
        "job_version": attempt.job_version,
        "produce_id": attempt.produce_id,
        "label_status": attempt.label_status,
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
                "kind": check.kind,
                "subject": check.subject,
                "metric": check.metric,
                "value": check.value,
                "threshold": check.threshold,
                "passed": check.passed,
                "reason": check.reason,
            }
            for check in attempt.checks
        ],
        "events": [
            {"kind": event.kind, "action": event.action, "reason": event.reason, "details": event.details}
            for event in attempt.events
        ],
    }
