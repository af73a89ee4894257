"""The batch flow: a spec in, every job that has not ended through the clip flow, a report out.

Running the same spec again resumes the batch: jobs that ended (accepted, rejected, failed,
error) are not run again, so a nightly schedule over one spec pays only for new or changed
jobs; `retry_failed` gives failed and errored jobs a new attempt budget on purpose.

A worker keeps `clips_in_flight` clips going at once (two by default), each in its own
thread. Generation holds the device (tasks/concurrency.py), so while one clip is
deflickered, checked and encoded on the CPU, the next one is already generating.
"""
from __future__ import annotations

import dataclasses
import errno
import os
import time
from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingResult
from prefect.futures import as_completed
from prefect.flow_runs import pause_flow_run
from prefect.runtime import flow_run
from prefect.states import Cancelled, Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from clipmill.outcomes import BatchEnded, JobOutcome, OutcomeStatus
from clipmill.publishing import PublishSettings
from clipmill.spec import BatchSpec, JobSpec, ModelSources, in_lora_order, load_spec
from clipmill.statuses import BatchStatus, JobStatus
from clipmill.bookkeeping import DISK_FULL
from clipmill.flows.clip import clip_flow, tag_this_run
from clipmill.storage.config import RunConfig
from clipmill.storage.files import DiskFullError, disk_full
from clipmill.tasks.clip import check_batch_ready
from clipmill.tasks.common import import_model_libraries, run_config
from clipmill.tasks.progress import BatchProgress
from clipmill.tasks.records import OpenedBatch, close_batch, held_jobs, open_batch, pause_requested, read_outcome
from clipmill.tasks.report import announce_batch, show_every_clip, write_report

# How long a run waits, after its own jobs, for jobs another live run holds (a clip or two of
# that run in flight; a killed holder on another host is let go when its lease expires, 120 s).
DEFAULT_WAIT_HELD_S = 300.0
WAIT_HELD_ENV = "CLIPMILL_WAIT_HELD_S"
HELD_POLL_S = 5.0


@task(name="run-clip", task_run_name="{job.id}", cache_policy=NO_CACHE)
def run_clip(job: JobSpec, batch_id: int, batch_name: str, config: RunConfig, models: ModelSources,
             publish: PublishSettings) -> State:
    """One job's clip flow, as a task so that the batch can keep several in flight. It ends in
    the job's own state (type, name, reason), holding the JobOutcome: the batch run's timeline
    draws this task, not the subflow, and would show a failed job green otherwise."""
    state = clip_flow(job, batch_id, batch_name, config, models, publish, return_state=True)
    try:
        outcome = state.result(raise_on_failure=False)
    except MissingResult:  # the state came back from the API without its data: ask the database
        outcome = read_outcome(config, batch_id, job.id)
    if not isinstance(outcome, JobOutcome):
        # The clip flow itself crashed (it records its own failures): the job ends as "error".
        outcome = JobOutcome(job.id, JobStatus.ERROR, reason=state.message or f"{type(outcome).__name__}: {outcome}")
        return Failed(name="Error", message=outcome.reason, data=outcome)
    # A new state, not the subflow's own: Prefect keeps a state it did not make as it is.
    return State(type=state.type, name=state.name, message=state.message, data=outcome)


def batch_run_name() -> str:
    """`<batch>-<date-time>`, or the name the caller gave (`run_name`: the poller's batch)."""
    parameters = flow_run.parameters
    if parameters.get("run_name"):
        return parameters["run_name"]
    try:
        name = load_spec(parameters["spec_path"], jobs_may_fail=True).name
    except Exception:  # the flow itself reports a bad spec; the name only has to exist
        name = Path(str(parameters.get("spec_path", "batch"))).stem
    return f"{name}-{datetime.now():%Y%m%d-%H%M%S}"


@flow(name="clipmill-batch", flow_run_name=batch_run_name)
def batch_flow(spec_path: str, run_root: str | None = None, db_secret: str | None = None,
               only_jobs: list[str] | None = None, report: bool = True, clips_in_flight: int = 2,
               artifact_url: str | None = None, retry_failed: bool = False, run_name: str | None = None,
               wait_held_s: float | None = None) -> State:
    """Run every job of the batch spec at `spec_path` that has not ended yet.

    Results go to `run_root` and the database, published files to the artifact store at
    `artifact_url` (see storage.config.RunConfig for the defaults). The database is the URL in
    the Prefect Secret block named `db_secret`, else the worker's $CLIPMILL_DATABASE_URL: a
    parameter is stored and shown, so it never holds the URL. `only_jobs` runs a shard
    of the batch (flows/fanout.py gives each GPU worker one); `report=False` leaves the batch
    open and the report to whoever runs the last shard; `clips_in_flight`: clips this worker
    works on at once; `retry_failed`: failed and errored jobs get a new attempt budget;
    `wait_held_s`: how long, once its own jobs are done, the run waits for jobs another live
    run holds (it makes those whose holder dies or lets go; the rest end the run "skipped");
    default $CLIPMILL_WAIT_HELD_S, else 300 s.
    The run ends Completed when no job failed or errored, Failed otherwise, with the counts
    as its message (`5/7 accepted · 1 rejected · 1 failed QA`)."""
    if clips_in_flight < 1:
        raise ValueError(f"clips_in_flight must be at least 1, got {clips_in_flight}")
    logger = get_run_logger()
    # A job whose own fields are wrong costs only itself (recorded "error" by open_batch); only
    # a spec that cannot be read at all (YAML, top-level fields, defaults) stops the run here.
    spec = load_spec(spec_path, jobs_may_fail=True)
    spec_errors = {job.key: JobOutcome(job.key, JobStatus.ERROR, reason=job.reason) for job in spec.invalid_jobs
                   if only_jobs is None or job.key in only_jobs}
    for outcome in spec_errors.values():
        logger.error("%s", outcome.reason)
    config = run_config(run_root, db_secret, artifact_url, spec.artifacts)
    tag_this_run(f"batch:{spec.name}")
    random_models = spec.random_weight_models()
    if random_models:
        logger.warning("RANDOM WEIGHTS: %s run with random weights; clips and scores are not meaningful.",
                       ", ".join(random_models))

    # 1. Everything the batch needs, before any GPU time; then the batch's record.
    check_batch_ready(config, spec)
    opened = open_batch(config, spec, retry_failed=retry_failed)
    jobs = [job for job in spec.jobs if only_jobs is None or job.id in only_jobs]
    try:
        # 2. The jobs that have not ended, `clips_in_flight` at a time, once the model
        # libraries are imported here, before any clip's thread needs them.
        if jobs:
            import_model_libraries()
        results = {**_run_jobs(in_lora_order(jobs), opened, spec, config, clips_in_flight, _wait_held(wait_held_s)),
                   **spec_errors}
        stopped = next((outcome.stops_batch for outcome in results.values() if outcome.stops_batch), None)
        if stopped:  # a full disk: no report can be written either
            return _stopped(config, opened.batch_id, spec.name, results, stopped)
        # 3. The report (unless a fan-out writes it once all shards are done), and the run's state.
        summary = {"batch": spec.name, "run_dir": str(config.paths(spec.name).root),
                   "database": config.database_label, "random_weights": random_models,
                   "jobs": {key: dataclasses.asdict(results[key]) for key in [*(job.id for job in jobs), *spec_errors]},
                   "spec_errors": {job.key: job.field for job in spec.invalid_jobs if job.key in spec_errors}}
        counts = _count(results.values())
        if report:
            close_batch(config, opened.batch_id)
            reported = write_report(config, spec.name, bool(random_models))
            show_every_clip(config, spec.name)
            summary, counts = {**summary, **reported}, reported["counts"]
    except BaseException:
        # A run that ends early (a full disk, a lost database) must not leave the batch "running".
        _close_failed(config, opened.batch_id)
        raise
    ran = sum(1 for outcome in results.values() if not outcome.resumed and outcome.status != OutcomeStatus.SKIPPED)
    state = batch_state(counts, summary, ran=ran)
    if report:
        announce_batch(spec.name, state.message, counts, summary.get("gallery"), spec.min_yield)
    return state


def _run_jobs(jobs: list[JobSpec], opened: OpenedBatch, spec: BatchSpec, config: RunConfig,
              clips_in_flight: int, wait_held_s: float = DEFAULT_WAIT_HELD_S) -> dict[str, JobOutcome]:
    """Every job that has not ended and that no other live run is making, through the clip
    flow in the order given (spec order, with jobs that share a LoRA set next to each other:
    spec.in_lora_order); results come back as they finish. Then, for up to `wait_held_s`, the
    jobs other runs held: made here if their holder lets go or dies, taken as they ended if it
    ends them; those still held at the end are "skipped". Returns every job's outcome."""
    logger = get_run_logger()
    results = {job.id: JobOutcome(job.id, opened.ended[job.id], resumed=True) for job in jobs if job.id in opened.ended}
    if results:
        logger.info("%d job(s) ended in an earlier run and are skipped: %s", len(results), ", ".join(results))
    # Made right now by another run of this batch: never twice at once, but never forgotten
    # either (that run may die): looked at again once this run's own jobs are done.
    held = {job.id: job for job in jobs if job.id in opened.busy and job.id not in results}
    if held:
        logger.info("%d job(s) are being made by another run, looked at again after this run's own: %s",
                    len(held), "; ".join(f"{key} by {opened.busy[key]}" for key in held))
    pending = [job for job in jobs if job.id not in results and job.id not in held]
    deadline = time.monotonic() + max(0.0, wait_held_s)
    progress = BatchProgress(spec.name, results, len(jobs))
    # Clips start one by one as slots free up, so a pause takes effect between clips.
    running: dict = {}
    with ThreadPoolTaskRunner(max_workers=clips_in_flight) as runner:
        while pending or running or held:
            if held and not pending and not running:
                pending = _look_at_held(held, results, config, opened.batch_id, deadline)
                if not pending:
                    if held:
                        time.sleep(min(HELD_POLL_S, max(0.0, deadline - time.monotonic())))
                    continue
            paused = pause_requested(config, opened.batch_id) if pending else False
            while pending and len(running) < clips_in_flight and not paused:
                job = pending.pop(0)
                running[runner.submit(run_clip, parameters={
                    "job": job, "batch_id": opened.batch_id, "batch_name": spec.name, "config": config,
                    "models": spec.models, "publish": spec.publish})] = job
            if not running:
                _wait_for_resume(spec.name)
                pause_requested(config, opened.batch_id, clear=True)
                continue
            future = next(as_completed(list(running)))
            job, outcome = running.pop(future), future.result(raise_on_failure=False)
            if isinstance(outcome, JobOutcome) and outcome.stops_batch:
                # The machine's fault (a full disk): every next clip would meet it too.
                for waiting in [*pending, *held.values()]:
                    results[waiting.id] = JobOutcome(waiting.id, JobStatus.PENDING, reason=f"not started: {outcome.stops_batch}")
                pending, held = [], {}
            if isinstance(outcome, JobOutcome) and outcome.status == OutcomeStatus.SKIPPED and time.monotonic() < deadline:
                held[job.id] = job  # another run claimed it first: wait for it like the others
                continue
            # Whatever escaped the clip flow's own handling ends this job, never the batch.
            results[job.id] = outcome if isinstance(outcome, JobOutcome) else JobOutcome(
                job.id, JobStatus.ERROR, reason=f"{type(outcome).__name__}: {outcome}")
            progress.update(results)
    return results


def _stopped(config: RunConfig, batch_id: int, batch_name: str, results: dict[str, JobOutcome], fault: str) -> State:
    """The run stopped by a fault of the machine (a full disk): one line saying what, and
    what it left for the next run to make once the fault is fixed."""
    _close_failed(config, batch_id)
    interrupted = [key for key, outcome in results.items() if outcome.stops_batch]
    waiting = [key for key, outcome in results.items() if outcome.status == JobStatus.PENDING]
    left = f"{', '.join(interrupted)} interrupted" + (f", {', '.join(waiting)} not started" if waiting else "")
    message = f"{fault}; batch {batch_name} stopped ({left}): free space and run it again"
    return Failed(name=DISK_FULL, message=message, data=DiskFullError(errno.ENOSPC, message))


def _close_failed(config: RunConfig, batch_id: int) -> None:
    try:
        close_batch.fn(config, batch_id, status=BatchStatus.FAILED)
    except Exception as error:  # the database is on the full disk: the next run reopens the batch
        get_run_logger().warning("batch not closed: %s", disk_full(error, config.database_label) or error)


def _wait_held(seconds: float | None) -> float:
    if seconds is not None:
        return float(seconds)
    try:
        return float(os.environ.get(WAIT_HELD_ENV) or DEFAULT_WAIT_HELD_S)
    except ValueError:
        raise ValueError(f"${WAIT_HELD_ENV} must be a number of seconds, got {os.environ[WAIT_HELD_ENV]!r}") from None


def _look_at_held(held: dict[str, JobSpec], results: dict[str, JobOutcome], config: RunConfig, batch_id: int,
                  deadline: float) -> list[JobSpec]:
    """Where the jobs other runs held stand: those ended there get their outcome, those let go
    (or whose holder died) come back to be made here, and past `deadline` those still held
    are "skipped", naming their holder. Returns the jobs to make."""
    free = []
    for key, now in held_jobs(config, batch_id, list(held)).items():
        if now.ended:
            results[key] = JobOutcome(key, now.ended, reason="made by another run", resumed=True)
        elif now.holder is None:
            free.append(held[key])
        elif time.monotonic() >= deadline:
            results[key] = JobOutcome(key, OutcomeStatus.SKIPPED, reason=f"held by {now.holder}")
        else:
            continue
        del held[key]
    return free


def _wait_for_resume(batch_name: str) -> None:
    """Paused (`clipmill pause`) with no clip in flight: the run shows Paused in the dashboard
    until `clipmill resume` or the dashboard's Resume button."""
    get_run_logger().info("batch %s paused between clips; resume with `clipmill resume %s`", batch_name, batch_name)
    pause_flow_run(timeout=7 * 24 * 3600, poll_interval=2)


def batch_state(counts: dict[str, int], summary: dict, ran: int | None = None) -> State:
    """Cancelled when a job was cancelled; Failed named "Held by another run" when jobs were
    left to another live run unmade; Completed named "Nothing to do" when this run ran no
    job (`ran` 0: all had ended earlier or were made elsewhere); else Failed when a job
    failed or errored, Completed otherwise. The name is what the runs list shows on the badge,
    so it carries the counts ("4/7 accepted"); the message counts every outcome.

    A Failed or Cancelled state holds its summary inside a BatchEnded exception: Prefect must
    be able to resolve a failed state's data into an exception (see BatchEnded)."""
    total = sum(counts.values())
    name = f"{counts.get(JobStatus.ACCEPTED, 0)}/{total} accepted"
    parts = [name]
    for status, label in ((JobStatus.REJECTED, "rejected"), (JobStatus.FAILED, "failed QA"), (JobStatus.ERROR, "error"),
                          (JobStatus.INTERRUPTED, "interrupted"), (JobStatus.PENDING, "not run"),
                          (JobStatus.RUNNING, "still running elsewhere"), (OutcomeStatus.SKIPPED, "made by another run"),
                          (JobStatus.CANCELLED, "cancelled")):
        if counts.get(status):
            parts.append(f"{counts[status]} {label}")
    if summary.get("spec_errors"):  # named, so whoever reads the run knows which line of YAML to fix
        parts.append("wrong in the spec: " + ", ".join(f"{key} ({field})"
                                                       for key, field in summary["spec_errors"].items()))
    message = " · ".join(parts)
    summary = {**summary, "message": message, "counts": counts}
    if counts.get(JobStatus.CANCELLED):
        return Cancelled(name=name, message=message, data=BatchEnded(message, summary))
    if any(job.get("status") == OutcomeStatus.SKIPPED for job in summary.get("jobs", {}).values()):
        # Left unmade to another live run: not done, or cron and Prefect would take it for done.
        return Failed(name="Held by another run", message=message, data=BatchEnded(message, summary))
    if ran == 0:  # a re-run of an ended batch: its failures are an earlier run's, already shown red
        return Completed(name="Nothing to do", message=message, data=summary)
    if counts.get(JobStatus.FAILED) or counts.get(JobStatus.ERROR):
        return Failed(name=name, message=message, data=BatchEnded(message, summary))
    return Completed(name=name, message=message, data=summary)


def batch_summary(state: State) -> dict | None:
    """The summary a finished batch run returned, however it ended; None when the flow itself
    broke before it had one."""
    result = state.result(raise_on_failure=False)
    if isinstance(result, BatchEnded):
        return result.summary
    return result if isinstance(result, dict) else None


def _count(outcomes) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return counts


if __name__ == "__main__":
    import sys

    print(batch_flow(sys.argv[1] if len(sys.argv) > 1 else "deployments/specs/demo.yaml", return_state=True))
