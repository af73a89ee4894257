"""Database tasks: every batch, job and attempt — failed, rejected and errored ones too —
is written as it happens, so a crash mid-batch leaves an accurate record and a re-run resumes."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from prefect import task

from clipmill.bookkeeping import AttemptRecord, Reproduction
from clipmill.outcomes import JobOutcome
from clipmill.planning import ShotPlan
from clipmill.spec import BatchSpec, JobSpec
from clipmill.qa.retry import AttemptParams
from clipmill.storage import repository as repo
from clipmill.storage.config import RunConfig
from clipmill.storage.db import init_db, session_scope
from clipmill.storage.files import is_url, remove_stale_temporaries
from clipmill.storage.leases import describe_holder, live_holders, release_dead_claims
from clipmill.storage.repository import JobHistory
from clipmill.statuses import AttemptStatus, BatchStatus, JobStatus
from clipmill.storage.schema import Attempt, Batch, Job
from clipmill.tasks.common import DB_TASK
from clipmill.tasks.leases import holder_is_dead


@dataclass(frozen=True)
class OpenedBatch:
    batch_id: int
    ended: dict[str, str]  # job key -> how it ended in an earlier run (not run again)
    busy: dict[str, str]  # job key -> the worker of another live run making it now, and its lease's expiry


@task(name="open-batch", **DB_TASK)
def open_batch(config: RunConfig, spec: BatchSpec, *, retry_failed: bool = False) -> OpenedBatch:
    """Create the batch, or reopen it when the same spec runs again (resume), and bring every
    job's record up to its definition: a changed job is a new version and runs again;
    `retry_failed` gives failed and errored jobs a new attempt budget. Attempts a killed run
    left "running" are closed as interrupted; those of jobs another live run holds are not."""
    # A killed run's leases would hold its jobs for their whole length: those of holders that
    # are provably dead are released at once, so their attempts are closed below and their jobs
    # made now. Judged outside the writing transaction: asking Prefect must not hold SQLite's lock.
    with session_scope(init_db(config.db_url)) as session:
        holders = live_holders(session, spec.name)
    dead = {worker for worker in holders if holder_is_dead(worker)}
    with session_scope(init_db(config.db_url)) as session:
        batch = repo.get_or_create_batch(session, name=spec.name, spec_path=str(spec.source_path or ""),
                                         spec_sha256=spec.source_sha256 or "", run_dir=str(config.paths(spec.name).root))
        release_dead_claims(session, batch.id, dead.__contains__)
        repo.abandon_running_attempts(session, batch)
        busy = {key: describe_holder(*held) for key, held in repo.busy_jobs(session, batch).items()}
        for job in spec.jobs:
            if job.id not in busy:  # another run is making it: its record is that run's
                _record_job(session, batch, job, retry_failed=retry_failed)
        for invalid in spec.invalid_jobs:  # wrong in the spec: it costs only itself, recorded with where and what
            if invalid.key not in busy:
                row = repo.upsert_job(session, batch, key=invalid.key, prompt=invalid.prompt, model=invalid.model,
                                      params=invalid.params, version=invalid.version)
                repo.set_job_status(session, row, JobStatus.ERROR, reason=invalid.reason)
        return OpenedBatch(batch_id=batch.id, ended=repo.ended_jobs(session, batch), busy=busy)


@task(name="open-job", **DB_TASK)
def open_job(config: RunConfig, batch_id: int, job: JobSpec) -> int:
    """The job's record (created or brought up to its definition); returns its id."""
    with session_scope(init_db(config.db_url)) as session:
        return _record_job(session, session.get(Batch, batch_id), job).id


def _record_job(session, batch: Batch, job: JobSpec, *, retry_failed: bool = False) -> Job:
    """The job's row, brought up to its definition (a changed one is a new version)."""
    return repo.upsert_job(session, batch, key=job.id, prompt=job.text(), model=job.model,
                           params=job.model_dump(mode="json"), version=job.version(), retry_failed=retry_failed)


@task(name="pause-requested", **DB_TASK)
def pause_requested(config: RunConfig, batch_id: int, *, clear: bool = False) -> bool:
    """Whether `clipmill pause` asked the batch to stop starting clips; `clear`: the run was
    resumed (by `clipmill resume` or the dashboard), so the request is used up."""
    with session_scope(init_db(config.db_url)) as session:
        batch = session.get(Batch, batch_id)
        requested = batch.pause_requested
        if clear:
            batch.pause_requested = False
        return requested


@task(name="take-cancel-request", **DB_TASK)
def take_cancel_request(config: RunConfig, job_id: int) -> bool:
    """Whether `clipmill cancel` asked for this job before it started; the request is used up."""
    with session_scope(init_db(config.db_url)) as session:
        job = session.get(Job, job_id)
        requested, job.cancel_requested = job.cancel_requested, False
        return requested


@task(name="resume-job", **DB_TASK)
def resume_job(config: RunConfig, job_id: int) -> JobHistory:
    """With the job's lease held: close what a killed run left of it (attempts still "running",
    temporary files in its folder), then say what its current version has spent and tried."""
    with session_scope(init_db(config.db_url)) as session:
        job = session.get(Job, job_id)
        repo.interrupt_running_attempts(session, job)
        remove_stale_temporaries(config.paths(job.batch.name).job_dir(job.key))
        return repo.job_history(session, job)


@task(name="save-plan", **DB_TASK)
def save_plan(config: RunConfig, job_id: int, plan: ShotPlan) -> None:
    with session_scope(init_db(config.db_url)) as session:
        repo.set_job_plan(session, session.get(Job, job_id), plan.to_dict())


@task(name="begin-attempt", **DB_TASK)
def begin_attempt(config: RunConfig, job_id: int, params: AttemptParams) -> AttemptRecord:
    """A new attempt row, and the attempt's folder in the batch's scratch space."""
    with session_scope(init_db(config.db_url)) as session:
        job = session.get(Job, job_id)
        attempt = repo.start_attempt(session, job, seed=params.seed, params=dataclasses.asdict(params))
        folder = config.paths(job.batch.name).attempt_dir(job.key, attempt.number)
        return AttemptRecord(attempt_id=attempt.id, number=attempt.number, folder=folder)


# An attempt's frame arrays between generation and encode: a third of a gigabyte each at 720p,
# so they are sized, not hashed (0.26 s each to hash on this machine; finishing an attempt took
# 0.8-0.9 s on the H200, at the end of every clip). What is watched or published (MP4s,
# posters, images) is hashed.
SCRATCH_FRAME_KINDS = frozenset({"segment", "frames"})


@task(name="finish-attempt", **DB_TASK)
def finish_attempt(config: RunConfig, record: AttemptRecord, status: AttemptStatus, error: str | None = None) -> None:
    """The attempt's checks, events, files and timings, and how it ended."""
    with session_scope(init_db(config.db_url)) as session:
        attempt = session.get(Attempt, record.attempt_id)
        if record.device:
            attempt.device = record.device
        if record.reproduction is not None:
            attempt.reproduce = record.reproduction.to_dict()
        attempt.produce_id, attempt.label_status = record.produce_id, record.label_status
        repo.record_checks(session, attempt, record.checks)
        repo.record_events(session, attempt, record.events)
        for kind, path in record.artifacts:
            # A URL is listed only once its upload has succeeded; a local file is looked for.
            if is_url(path) or Path(path).exists():
                repo.record_artifact(session, job=attempt.job, attempt=attempt, kind=kind, path=path,
                                     compute_hash=kind not in SCRATCH_FRAME_KINDS)
        repo.finish_attempt(session, attempt, status=status, error=error, timings=record.timings)


@task(name="load-reproduction", **DB_TASK)
def load_reproduction(config: RunConfig, batch_name: str, job_key: str,
                      attempt_number: int | None = None) -> tuple[int, Reproduction]:
    """The number of the attempt and what it recorded to be made again: the accepted attempt
    by default, else the last."""
    from sqlalchemy import select

    with session_scope(init_db(config.db_url)) as session:
        job = session.scalar(select(Job).join(Batch).where(Batch.name == batch_name, Job.key == job_key))
        if job is None:
            raise LookupError(f"batch {batch_name!r} has no job {job_key!r}")
        chosen = [a for a in job.attempts if a.reproduce and (
            a.number == attempt_number if attempt_number else True)]
        if attempt_number is None and job.accepted_attempt is not None and job.accepted_attempt.reproduce:
            chosen = [job.accepted_attempt]
        if not chosen:
            which = f"attempt {attempt_number}" if attempt_number else "any attempt"
            raise LookupError(f"job {job_key!r} of {batch_name!r}: {which} has no record to make it again "
                              "(it generated nothing, or ran before clipmill recorded reproductions)")
        return chosen[-1].number, Reproduction.from_dict(chosen[-1].reproduce)


@task(name="read-outcome", **DB_TASK)
def read_outcome(config: RunConfig, batch_id: int, job_key: str) -> JobOutcome:
    """How the job stands in the database: what a clip flow's outcome is when Prefect cannot
    hand its state's data back (results are not persisted, and a busy server may return the
    state without it)."""
    from sqlalchemy import select

    with session_scope(init_db(config.db_url)) as session:
        job = session.scalar(select(Job).where(Job.batch_id == batch_id, Job.key == job_key))
        if job is None:
            return JobOutcome(job_key, JobStatus.ERROR, reason="the job was never recorded")
        clip = next((a.path for a in job.artifacts if a.kind == "clip" and a.attempt_id is None), None)
        return JobOutcome(job_key, JobStatus(job.status), reason=job.reason, attempts=len(job.attempts),
                          clip=clip if job.status == JobStatus.ACCEPTED else None)


@task(name="close-job", **DB_TASK)
def close_job(config: RunConfig, job_id: int, *, status: JobStatus, reason: str | None = None,
              accepted_attempt_id: int | None = None, artifacts: list[tuple[str, str]] = ()) -> None:
    with session_scope(init_db(config.db_url)) as session:
        job = session.get(Job, job_id)
        for kind, path in artifacts:
            repo.record_artifact(session, job=job, kind=kind, path=path)
        accepted = session.get(Attempt, accepted_attempt_id) if accepted_attempt_id else None
        repo.set_job_status(session, job, status, reason=reason, accepted_attempt=accepted)


@task(name="close-batch", **DB_TASK)
def close_batch(config: RunConfig, batch_id: int, status: BatchStatus = BatchStatus.FINISHED) -> None:
    with session_scope(init_db(config.db_url)) as session:
        repo.finish_batch(session, session.get(Batch, batch_id), status=status)
