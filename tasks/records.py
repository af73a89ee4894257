"""Database tasks: every batch, job and attempt — failed, rejected and errored ones too —
is written as it happens, so a crash mid-batch leaves an accurate record and a re-run resumes."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from prefect import task

from clipmill.spec import BatchSpec, JobSpec
from qa.types import Check
from storage import repository as repo
from storage.db import init_db, session_scope
from storage.files import is_url
from storage.schema import Attempt, Batch, Job
from tasks.common import DB_TASK

@task(name="open-batch", **DB_TASK)
def open_batch(db_url: str, spec: BatchSpec, run_dir: Path, abandon_running: bool = True) -> dict:
    """Create the batch, or reopen it when the same spec runs again (resume).

    `abandon_running`: close attempts a crashed run left "running". A shard must not: the
    other shards' attempts are running for real (the fan-out flow does it once, before them)."""
    with session_scope(init_db(db_url)) as session:
        batch = repo.get_or_create_batch(session, name=spec.name, spec_path=str(spec.source_path or ""),
                                         spec_sha256=spec.source_sha256 or "", run_dir=str(run_dir))
        session.flush()
        if abandon_running:
            repo.abandon_running_attempts(session, batch)
        return {"batch_id": batch.id, "accepted": sorted(repo.accepted_job_keys(session, batch))}


@task(name="open-job", **DB_TASK)
def open_job(db_url: str, batch_id: int, job: JobSpec, plan: dict | None = None) -> int:
    with session_scope(init_db(db_url)) as session:
        batch = session.get(Batch, batch_id)
        record = repo.upsert_job(session, batch, key=job.id, prompt=job.prompt or f"{job.keyword} [{job.template}]",
                                 model=job.model, params=job.model_dump(mode="json"))
        if plan is not None:
            record.plan = plan
        session.flush()
        return record.id


@task(name="begin-attempt", **DB_TASK)
def begin_attempt(db_url: str, job_id: int, *, seed: int, params: dict, device: str = "") -> dict:
    with session_scope(init_db(db_url)) as session:
        attempt = repo.start_attempt(session, session.get(Job, job_id), seed=seed, params=params, device=device)
        session.flush()
        return {"attempt_id": attempt.id, "number": attempt.number}


@task(name="finish-attempt", **DB_TASK)
def finish_attempt(
    db_url: str,
    attempt_id: int,
    *,
    status: str,
    checks: list[dict] = (),
    artifacts: list[tuple[str, str]] = (),
    timings: dict | None = None,
    error: str | None = None,
    device: str | None = None,
) -> None:
    with session_scope(init_db(db_url)) as session:
        attempt = session.get(Attempt, attempt_id)
        if device:
            attempt.device = device
        repo.record_checks(session, attempt, [Check(**c) for c in checks])
        for kind, path in artifacts:
            # A URL is listed only once its upload has succeeded; a local file is looked for.
            if is_url(path) or Path(path).exists():
                repo.record_artifact(session, job=attempt.job, attempt=attempt, kind=kind, path=path)
        repo.finish_attempt(session, attempt, status=status, error=error, timings=timings)


@task(name="close-job", **DB_TASK)
def close_job(db_url: str, job_id: int, *, status: str, reason: str | None = None,
              accepted_attempt_id: int | None = None, artifacts: list[tuple[str, str]] = ()) -> None:
    with session_scope(init_db(db_url)) as session:
        job = session.get(Job, job_id)
        for kind, path in artifacts:
            repo.record_artifact(session, job=job, kind=kind, path=path)
        accepted = session.get(Attempt, accepted_attempt_id) if accepted_attempt_id else None
        repo.set_job_status(session, job, status, reason=reason, accepted_attempt=accepted)


@task(name="close-batch", **DB_TASK)
def close_batch(db_url: str, batch_id: int, status: str = "finished") -> None:
    with session_scope(init_db(db_url)) as session:
        repo.finish_batch(session, session.get(Batch, batch_id), status=status)


def params_record(params) -> dict:
    """AttemptParams as the JSON stored with an attempt."""
    return dataclasses.asdict(params)
