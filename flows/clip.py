"""One job's way from prompt to accepted clip, with QA-driven regeneration.

A failed QA verdict is a result, not an exception: the attempt loop reads the retry policy's
decision and tries again with the parameters it chose. Exceptions are for bad inputs and
infrastructure: the task decorators retry the latter, and whatever still fails ends the job
as "error", recorded; the batch goes on.

The job subflow's state says how the job ended, in the dashboard's colours: Completed only
when its clip was accepted; Failed named "Rejected" (input gate), "QA failed" (attempt budget
spent) or "Bad input"/"Error", each with the reason as its message.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.logging.loggers import flow_run_logger
from prefect.runtime import flow_run
from prefect.states import State

from clipmill.bookkeeping import (
    AttemptRecord,
    ClipRecipe,
    ClipRecord,
    JobEnd,
    JudgedClip,
    MadeClip,
    Sidecar,
    accepted,
    ended,
    skipped,
    stopped_by_full_disk,
)
from clipmill.planning import ShotPlan
from clipmill.prompt_limits import clip_prompt_cuts
from clipmill.publishing import PublishSettings
from clipmill.qa.types import Check
from clipmill.qa.retry import AttemptParams, RetryDecision, resume_params
from clipmill.spec import JobSpec, ModelSources
from clipmill.statuses import ENDED_JOB_STATUSES, AttemptStatus, JobStatus
from clipmill.storage.config import RunConfig
from clipmill.storage.files import disk_full, remove_stale_temporaries
from clipmill.storage.leases import JobLease, describe_holder
from clipmill.storage.repository import JobHistory
from clipmill.tasks import KNOWN_FAULTS
from clipmill.tasks.clip import (
    decide_retry,
    input_gate,
    judge_and_encode,
    make_clip,
    prepare_input_image,
    publish_clip,
    store_artifact,
    structure_prompt,
)
from clipmill.tasks.common import GenerationCancelled
from clipmill.tasks.concurrency import prefect_run_states
from clipmill.tasks.records import (
    announce_clip,
    announce_job,
    begin_attempt,
    close_job,
    finish_attempt,
    holder_is_dead,
    open_job,
    resume_job,
    save_plan,
    take_cancel_request,
    this_runs_worker_id,
)


@flow(name="clipmill-clip", flow_run_name="{job.id}")
def clip_flow(job: JobSpec, batch_id: int, batch_name: str, config: RunConfig, models: ModelSources,
              publish: PublishSettings | None = None) -> State:
    """Make one job's clip: plan, image and gate once, then attempts until one is accepted or
    the job version's attempt budget (counted across runs) is spent."""
    tag_this_run(f"batch:{batch_name}")
    publish, logger, attempt = publish or PublishSettings(), clip_logger(), None
    try:
        # 1. Open the job's record and take its lease for the whole run: one run at a time makes a job.
        job_id = open_job(config, batch_id, job)
        with JobLease(config.db_url, job_id, worker=this_runs_worker_id(), is_dead=holder_is_dead) as lease:
            if not lease.held:
                return _state(skipped(job.id, describe_holder(lease.owner, lease.owner_until)))
            try:
                # 2. Resume: what earlier runs of this version spent and tried; a cancel asked for before it began.
                history = resume_job(config, job_id)
                if history.status in ENDED_JOB_STATUSES:  # another run ended it after this one opened the batch
                    return _state(skipped(job.id, f"another run, which ended it {history.status}"))
                if (end := _ended_before_it_starts(job, job_id, config, history)) is not None:
                    return _close(config, batch_name, job_id, end)
                spent, tried = history.spent, set(history.tried_seeds)
                params = resume_params(job.initial_params(), history.last_params, tried)
                attempt = begin_attempt(config, job_id, params)

                # 3. Prepare once, before any GPU time: model fit, shot plan, input image and gate.
                job.check_fits_model()
                plan = _plan(job, models, params.segments, config, job_id)
                start_image, gate = _prepare_and_gate(job, plan, models, config, batch_name, attempt)
                if gate is not None and not gate.passed:
                    finish_attempt(config, attempt, AttemptStatus.REJECTED)
                    return _close(config, batch_name, job_id,
                                  ended(job.id, JobStatus.REJECTED, gate.reason, attempt.number))

                # 4. Attempts: make the clip on the GPU, judge it beside its encode, decide what follows.
                while True:
                    spent += 1
                    tried.add(params.seed)
                    if params.segments != len(plan.segment_prompts):  # the retry policy split the clip anew
                        plan = _plan(job, models, params.segments, config, job_id)
                    recipe = ClipRecipe.of(job, models, plan, params, start_image)
                    made = make_clip(recipe, attempt.folder, attempt.number, record=attempt)
                    judged, decision = _judge(made, plan, recipe, publish, config, batch_name, attempt, spent, tried)
                    if decision.action == "accept":
                        break
                    reasons = "; ".join(judged.judgement.verdict.reasons)
                    finish_attempt(config, attempt, AttemptStatus.FAILED_QA)
                    logger.info("%s attempt %d failed QA (%s); %s", job.id, attempt.number, reasons, decision.reason)
                    if decision.action != "regenerate":
                        return _close(config, batch_name, job_id, ended(job.id, JobStatus.FAILED, reasons, spent))
                    params = decision.params
                    attempt = begin_attempt(config, job_id, params)

                # 5. Publish and record the accepted clip, unless another run took the job over meanwhile.
                if not lease.still_held():  # that run publishes it
                    finish_attempt(config, attempt, AttemptStatus.INTERRUPTED,
                                   error="lease lost to another run before publishing")
                    return _state(skipped(job.id, "another run"))
                return _accept(job, plan, params, judged, config, batch_name, job_id, attempt)
            except Exception as error:  # recorded with the attempt, while the lease is still held
                return _after_error(error, job, config, batch_name, job_id, attempt)
    except Exception as error:  # not even that recorded: the next run closes the job, if the disk is full
        if (full := disk_full(error, config.database_label)) is None:
            raise
        return _stopped_by_full_disk(config, batch_name, job, full, job_id=None, attempt=None)


def tag_this_run(*new_tags: str) -> None:
    """Tag the current flow run, so the dashboard filters a batch's runs by its name.

    The flow runs are tagged one by one rather than through Prefect's `tags()` context, which
    would tag every task run too: a task run with tags asks the server for a concurrency slot
    of each tag as it starts, and that cost 1 to 2 s on the H200 for the first task after
    every long one (the client's cache of "no such limit" lasts 5 s), twice a clip."""
    run_id = flow_run.get_id()
    if run_id is None:
        return
    with get_client(sync_client=True) as client:
        current = client.read_flow_run(run_id).tags
        client.update_flow_run(run_id, tags=sorted({*current, *new_tags}))


def clip_logger():
    """This clip's own run log. The batch runs each clip flow inside its run-clip task, whose
    context stays set while the subflow runs, so get_run_logger() would write the clip's retry
    decisions and reasons into the batch run's log instead of the clip's."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return get_run_logger()
    return flow_run_logger(flow_run=context.flow_run, flow=context.flow)


def _ended_before_it_starts(job: JobSpec, job_id: int, config: RunConfig, history: JobHistory) -> JobEnd | None:
    """A cancel asked for before the job began (the request is used up), or an attempt budget
    that earlier runs spent (their last attempt was interrupted); None: the job goes on."""
    if take_cancel_request(config, job_id) or _cancelling():
        return ended(job.id, JobStatus.CANCELLED, "cancelled before it started", history.spent)
    if history.spent >= job.max_attempts:
        return ended(job.id, JobStatus.FAILED, f"attempt budget of {job.max_attempts} spent", history.spent)
    return None


def _plan(job: JobSpec, models: ModelSources, segments: int, config: RunConfig, job_id: int) -> ShotPlan:
    """The shot plan for `segments` segments, saved with the job so the record is the one run."""
    plan = structure_prompt(job, segments, models)
    # What each encoder reads of the texts it is given, kept with the plan: the job's record, its
    # sidecar and the batch report say a prompt was cut, not only this run's console.
    cuts = clip_prompt_cuts(job.text(), plan.segment_prompts, plan.negative_prompt)
    plan = dataclasses.replace(plan, prompt_cuts=[cut.to_dict() for cut in cuts])
    for warning in [*plan.warnings, *(cut.sentence() for cut in cuts)]:
        clip_logger().warning("%s: %s", job.id, warning)
    save_plan(config, job_id, plan)
    return plan


def _prepare_and_gate(job: JobSpec, plan: ShotPlan, models: ModelSources, config: RunConfig, batch_name: str,
                      attempt: AttemptRecord) -> tuple[Path | None, Check | None]:
    """The prepared photo the clip starts from and the gate's check of it against the text;
    (None, None) for a job without a photo."""
    if job.image is None:
        return None, None
    with attempt.timed("prepare"):
        prepared = prepare_input_image(job, config.paths(batch_name).job_dir(job.id) / "input.png", models.detector,
                                       plan, trusted=models.trusted_weights)
    _publish(config, batch_name, attempt, "prepared_image", prepared.path)
    with attempt.timed("gate"):
        gate = input_gate(prepared.path, job.text(), job.qa.gate_threshold, models)
    attempt.checks.append(gate)
    if not gate.passed:
        clip_logger().info("%s rejected at the gate: %s", job.id, gate.reason)
    return prepared.path, gate


def _judge(made: MadeClip, plan: ShotPlan, recipe: ClipRecipe, publish: PublishSettings, config: RunConfig,
           batch_name: str, attempt: AttemptRecord, spent: int, tried: set[int]) -> tuple[JudgedClip, RetryDecision]:
    """Judge the made clip and decide what follows. A flicker-only failure is first repaired on
    the same frames (stronger deflicker, no GPU time) and judged again; the decision that ends
    the attempt is recorded with it. Every judged version's MP4 and poster go to the store."""
    job, repaired = recipe.job, False
    clip = ClipRecord(batch=batch_name, job=job.id, attempt=attempt.number, seed=recipe.params.seed, model=job.model)
    while True:
        judged = judge_and_encode(made.stitched, plan, recipe, attempt.folder, publish, clip, attempt, repaired)
        _publish(config, batch_name, attempt, "attempt_clip", judged.encoded.path)
        _publish(config, batch_name, attempt, "attempt_poster", judged.encoded.poster)
        decision = decide_retry(recipe.params, judged.judgement.verdict, attempt_number=spent,
                                max_attempts=job.max_attempts, valid_segments=job.valid_segment_counts(),
                                tried_seeds=tried, repaired=repaired)
        attempt.add_decision(decision, judged.judgement)
        if decision.action != "repair":
            return judged, decision
        recipe, repaired = dataclasses.replace(recipe, params=decision.params), True


def _publish(config: RunConfig, batch_name: str, attempt: AttemptRecord, kind: str, path: Path) -> None:
    """Copy a finished local file to the same place in the artifact store; list it by URL."""
    relative = config.paths(batch_name).relative(path)
    attempt.artifacts.append((kind, store_artifact(path, config.store(batch_name).url, relative)))


def _accept(job: JobSpec, plan: ShotPlan, params: AttemptParams, judged: JudgedClip, config: RunConfig,
            batch_name: str, job_id: int, attempt: AttemptRecord) -> State:
    """Publish the accepted clip with its poster and sidecar, record it, show it in the run."""
    paths = config.paths(batch_name)
    published = publish_clip(judged.encoded, config.store(batch_name).url, paths.relative(paths.clip(job.id)),
                             Sidecar(job, plan, params, judged, attempt))
    finish_attempt(config, attempt, AttemptStatus.ACCEPTED)
    close_job(config, job_id, status=JobStatus.ACCEPTED, accepted_attempt_id=attempt.attempt_id,
              artifacts=[("clip", published.clip), ("poster", published.poster), ("sidecar", published.sidecar)])
    announce_clip(config, batch_name, job.id, published)
    return _shown(config, batch_name, job_id, accepted(job.id, attempt.number, published.clip))


def _after_error(error: Exception, job: JobSpec, config: RunConfig, batch_name: str, job_id: int | None,
                 attempt: AttemptRecord | None) -> State:
    """How an exception ends the job. A cancel (`clipmill cancel`, the UI) is resumable, not a
    failure; a full disk is the machine's fault, not the job's, and stops the batch; anything
    else is recorded with the attempt and ends the job as "Bad input" or "Error". Before any
    attempt began there is nothing to record it with: the error goes on to the clip flow."""
    logger = clip_logger()
    if attempt is not None and isinstance(error, GenerationCancelled):
        logger.info("%s cancelled: %s", job.id, error)
        finish_attempt(config, attempt, AttemptStatus.CANCELLED, error=str(error))
        return _close(config, batch_name, job_id, ended(job.id, JobStatus.CANCELLED, str(error), attempt.number))
    full = disk_full(error, config.database_label)
    if full is not None:
        return _stopped_by_full_disk(config, batch_name, job, full, job_id, attempt)
    if attempt is None:
        raise error
    bad_input = isinstance(error, ValueError)
    message = " ".join(str(error).split()) if bad_input else f"{type(error).__name__}: {error}"
    # A known fault needs its one line, not a traceback; anything else needs the traceback.
    (logger.error if isinstance(error, KNOWN_FAULTS) else logger.exception)("%s: %s", job.id, message)
    finish_attempt(config, attempt, AttemptStatus.ERROR, error=message)
    return _close(config, batch_name, job_id,
                  ended(job.id, JobStatus.ERROR, message, attempt.number, bad_input=bad_input))


def _stopped_by_full_disk(config: RunConfig, batch_name: str, job: JobSpec, line: str, job_id: int | None,
                          attempt: AttemptRecord | None) -> State:
    """A full disk stops the batch, not only this job: every next clip would meet it. The
    attempt and the job are closed `interrupted`, not `error`, so the run after space is freed
    makes the job (an errored job it would skip), and its half-written files are removed. With
    the database on the full disk those writes fail too; the next run closes them instead, as
    it does a killed run's (storage.leases). No traceback: the one line says all."""
    logger = get_run_logger()
    logger.error("%s: %s", job.id, line)
    if attempt is not None and job_id is not None:
        try:  # `.fn`: no Prefect retries of a write that cannot succeed, nor their tracebacks
            finish_attempt.fn(config, attempt, AttemptStatus.INTERRUPTED, error=line)
            close_job.fn(config, job_id, status=JobStatus.INTERRUPTED, reason=line)
        except Exception as error:
            logger.warning("%s: not recorded as interrupted (%s); the next run closes it",
                           job.id, disk_full(error, config.database_label) or error)
    remove_stale_temporaries(config.paths(batch_name).job_dir(job.id))
    return _state(stopped_by_full_disk(job.id, line, attempt.number if attempt else 0))


def _cancelling() -> bool:
    """Whether this run or the batch above it is being cancelled (the UI, `clipmill cancel`)."""
    return bool({"CANCELLING", "CANCELLED"} & set(prefect_run_states()))


def _close(config: RunConfig, batch_name: str, job_id: int, end: JobEnd) -> State:
    """Record how the job ended without a clip, then show it."""
    close_job(config, job_id, status=end.outcome.status, reason=end.outcome.reason)
    return _shown(config, batch_name, job_id, end)


def _shown(config: RunConfig, batch_name: str, job_id: int, end: JobEnd) -> State:
    """The job's card in this run: what the dashboard shows of a clip, however it ended. A card
    that cannot be written costs the card, never the job (return_state). A job another run
    takes over, or a full disk leaves to the next run, gets its card from that run."""
    announce_job(config, batch_name, end.outcome.job, job_id, return_state=True)
    return _state(end)


def _state(end: JobEnd) -> State:
    return State(type=end.state_type, name=end.state_name, message=end.message, data=end.outcome)
