"""Everything a job writes: its database rows, its lease, and its cards on the dashboard.

Every batch, job and attempt (failed, rejected and errored ones too) is written as it
happens, so a crash mid-batch leaves an accurate record and a re-run resumes. In the order a
job meets them:

1. open-batch (the batch flow): every job's row, brought up to its definition; what a killed
   run left is closed. Between clips the batch asks pause-requested.
2. open-job (the clip flow): the job's row. Then its lease (storage/leases.py `JobLease`),
   held under this_runs_worker_id and taken over at once from a holder holder_is_dead proves
   dead.
3. resume-job, take-cancel-request: what earlier runs of this version spent and tried; a
   cancel asked for before the job began.
4. begin-attempt, save-plan, finish-attempt: each attempt's row, with its checks, events,
   files and timings.
5. close-job, then announce-clip and announce-job: how the job ended, and its link and card
   on the dashboard.
6. Back in the batch flow: read-outcome (when Prefect hands a clip flow's state back without
   its data), held-jobs (where jobs another run held stand), close-batch.

load-reproduction is what `clipmill rerun` reads to make a recorded attempt again. The batch's
own report, contact sheet and events, written once its jobs are done, are tasks/report.py's.
"""
from __future__ import annotations

import dataclasses
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from prefect import task
from prefect.artifacts import create_image_artifact, create_link_artifact, create_markdown_artifact
from sqlalchemy import select

from clipmill.bookkeeping import AttemptRecord, Reproduction
from clipmill.job_card import render_job_card
from clipmill.outcomes import JobOutcome, PublishedClip
from clipmill.planning import ShotPlan
from clipmill.spec import BatchSpec, JobSpec
from clipmill.qa.retry import AttemptParams
from clipmill.storage import repository as repo
from clipmill.storage.config import RunConfig
from clipmill.storage.db import init_db, session_scope
from clipmill.storage.files import is_url, remove_stale_temporaries
from clipmill.storage.leases import (
    describe_holder,
    flow_run_of,
    live_holders,
    new_worker_id,
    process_is_gone,
    release_dead_claims,
)
from clipmill.storage.reports import job_report
from clipmill.storage.repository import JobHistory
from clipmill.statuses import AttemptStatus, BatchStatus, JobStatus
from clipmill.storage.schema import ENDED_JOB_STATUSES, Attempt, Batch, Job, utcnow
from clipmill.tasks.common import DB_TASK, STORE_TASK, artifact_key

logger = logging.getLogger(__name__)


# 1. The batch opens --------------------------------------------------------------------------

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


# 2. The job's row and its lease --------------------------------------------------------------

@task(name="open-job", **DB_TASK)
def open_job(config: RunConfig, batch_id: int, job: JobSpec) -> int:
    """The job's record (created or brought up to its definition); returns its id."""
    with session_scope(init_db(config.db_url)) as session:
        return _record_job(session, session.get(Batch, batch_id), job).id


def holder_is_dead(worker: str) -> bool:
    """Whether the run holding `worker`'s leases is provably dead: its process on this host is
    gone (storage.leases judges that), or the Prefect flow run it served is Crashed, which only
    Prefect knows (a worker on another host whose process was killed: the Prefect worker that
    ran it says so). Not knowing (no server, another server, an unreadable id) is no proof:
    the lease is then waited out."""
    if process_is_gone(worker):
        return True
    run_id = flow_run_of(worker)
    if run_id is None:
        return False
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            state = client.read_flow_run(uuid.UUID(run_id)).state
    except Exception as error:  # no such run on this server, no server at all: nothing proven
        logger.debug("flow run %s of lease holder %s not read: %s", run_id, worker, error)
        return False
    return state is not None and state.is_crashed()


def this_runs_worker_id() -> str:
    """A worker id naming this process and the batch flow run it serves (called from the clip
    subflow: its parent). That run is what a Prefect worker marks Crashed when its process
    dies: the deployment's run, or a fan-out shard's, whose root is the fan-out's own run on
    another process, so not the root."""
    from prefect.runtime import flow_run

    try:
        run_id = flow_run.parent_flow_run_id or flow_run.get_id()
    except Exception:  # outside a flow run
        run_id = None
    return new_worker_id(str(run_id) if run_id else None)


# 3. What earlier runs left -------------------------------------------------------------------

@task(name="resume-job", **DB_TASK)
def resume_job(config: RunConfig, job_id: int) -> JobHistory:
    """With the job's lease held: close what a killed run left of it (attempts still "running",
    temporary files in its folder), then say what its current version has spent and tried."""
    with session_scope(init_db(config.db_url)) as session:
        job = session.get(Job, job_id)
        repo.interrupt_running_attempts(session, job)
        remove_stale_temporaries(config.paths(job.batch.name).job_dir(job.key))
        return repo.job_history(session, job)


@task(name="take-cancel-request", **DB_TASK)
def take_cancel_request(config: RunConfig, job_id: int) -> bool:
    """Whether `clipmill cancel` asked for this job before it started; the request is used up."""
    with session_scope(init_db(config.db_url)) as session:
        job = session.get(Job, job_id)
        requested, job.cancel_requested = job.cancel_requested, False
        return requested


# 4. Attempts ---------------------------------------------------------------------------------

@task(name="begin-attempt", **DB_TASK)
def begin_attempt(config: RunConfig, job_id: int, params: AttemptParams) -> AttemptRecord:
    """A new attempt row, and the attempt's folder in the batch's scratch space."""
    with session_scope(init_db(config.db_url)) as session:
        job = session.get(Job, job_id)
        attempt = repo.start_attempt(session, job, seed=params.seed, params=dataclasses.asdict(params))
        folder = config.paths(job.batch.name).attempt_dir(job.key, attempt.number)
        return AttemptRecord(attempt_id=attempt.id, number=attempt.number, folder=folder)


@task(name="save-plan", **DB_TASK)
def save_plan(config: RunConfig, job_id: int, plan: ShotPlan) -> None:
    with session_scope(init_db(config.db_url)) as session:
        repo.set_job_plan(session, session.get(Job, job_id), plan.to_dict())


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


# 5. How the job ended, and its card ----------------------------------------------------------

@task(name="close-job", **DB_TASK)
def close_job(config: RunConfig, job_id: int, *, status: JobStatus, reason: str | None = None,
              accepted_attempt_id: int | None = None, artifacts: list[tuple[str, str]] = ()) -> None:
    with session_scope(init_db(config.db_url)) as session:
        job = session.get(Job, job_id)
        for kind, path in artifacts:
            repo.record_artifact(session, job=job, kind=kind, path=path)
        accepted = session.get(Attempt, accepted_attempt_id) if accepted_attempt_id else None
        repo.set_job_status(session, job, status, reason=reason, accepted_attempt=accepted)


@task(name="announce-clip", **STORE_TASK)
def announce_clip(config: RunConfig, batch_name: str, job_id: str, published: PublishedClip) -> None:
    """A link to the accepted clip among the run's artifacts (its poster comes with its card)."""
    create_link_artifact(config.browser_url(published.clip), link_text=f"{job_id}.mp4",
                         key=artifact_key("clipmill", batch_name, job_id, "clip"),
                         description=f"clipmill batch {batch_name}: accepted clip of job {job_id}")


@task(name="announce-job", task_run_name="announce-{job_key}", **STORE_TASK)
def announce_job(config: RunConfig, batch_name: str, job_key: str, job_id: int) -> str | None:
    """The job's card in its own run (poster or input image, status, reason, attempts, seed, a
    link that opens the clip) and its poster as an image artifact, with URLs a browser opens
    (config.browser_url). Returns the poster's URL, if the job has one."""
    with session_scope(init_db(config.db_url)) as session:
        job = job_report(session, job_id)
    card = render_job_card(job, config.browser_url)
    create_markdown_artifact(card.markdown, key=artifact_key("clipmill", batch_name, job_key, "card"),
                             description=f"clipmill batch {batch_name}: job {job_key}, {job['status']}")
    if card.poster:
        create_image_artifact(card.poster, key=artifact_key("clipmill", batch_name, job_key, "poster"),
                              description=f"clipmill batch {batch_name}: job {job_key} ({job['status']})")
    return card.poster


# 6. Back in the batch flow -------------------------------------------------------------------

@task(name="read-outcome", **DB_TASK)
def read_outcome(config: RunConfig, batch_id: int, job_key: str) -> JobOutcome:
    """How the job stands in the database: what a clip flow's outcome is when Prefect cannot
    hand its state's data back (results are not persisted, and a busy server may return the
    state without it)."""
    with session_scope(init_db(config.db_url)) as session:
        job = session.scalar(select(Job).where(Job.batch_id == batch_id, Job.key == job_key))
        if job is None:
            return JobOutcome(job_key, JobStatus.ERROR, reason="the job was never recorded")
        clip = next((a.path for a in job.artifacts if a.kind == "clip" and a.attempt_id is None), None)
        return JobOutcome(job_key, JobStatus(job.status), reason=job.reason, attempts=len(job.attempts),
                          clip=clip if job.status == JobStatus.ACCEPTED else None)


@dataclass(frozen=True)
class HeldJob:
    """Where a job another run held stands now: `ended` (its status) when that run ended it,
    `holder` (worker and lease expiry) while a live run still holds it; neither: free to make."""

    key: str
    ended: str | None = None
    holder: str | None = None


@task(name="held-jobs", **DB_TASK)
def held_jobs(config: RunConfig, batch_id: int, keys: list[str]) -> dict[str, HeldJob]:
    """Where each of the batch's jobs `keys`, which other runs held, stands now."""
    with session_scope(init_db(config.db_url)) as session:
        rows = session.execute(select(Job.key, Job.status, Job.claimed_by, Job.lease_expires_at).where(
            Job.batch_id == batch_id, Job.key.in_(keys))).all()
    now, found = utcnow(), {}
    for key, status, worker, expires in rows:
        if status in ENDED_JOB_STATUSES:
            found[key] = HeldJob(key, ended=status)
        elif worker and expires and expires >= now and not holder_is_dead(worker):
            found[key] = HeldJob(key, holder=describe_holder(worker, expires))
        else:
            found[key] = HeldJob(key)
    return found


@task(name="close-batch", **DB_TASK)
def close_batch(config: RunConfig, batch_id: int, status: BatchStatus = BatchStatus.FINISHED) -> None:
    with session_scope(init_db(config.db_url)) as session:
        repo.finish_batch(session, session.get(Batch, batch_id), status=status)


# Reruns --------------------------------------------------------------------------------------

@task(name="load-reproduction", **DB_TASK)
def load_reproduction(config: RunConfig, batch_name: str, job_key: str,
                      attempt_number: int | None = None) -> tuple[int, Reproduction]:
    """The number of the attempt and what it recorded to be made again: the accepted attempt
    by default, else the last."""
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
