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
from prefect.context import FlowRunContext
from prefect.logging.loggers import flow_run_logger
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run
from prefect.states import Cancelled, Completed, Failed, State

from clipmill.outcomes import AttemptRecord, EncodedClip, JobOutcome, StitchedClip
from clipmill.planning import ShotPlan
from clipmill.prompt_limits import clip_prompt_cuts
from clipmill.provenance import software_versions, weights_fingerprint
from clipmill.publishing import PublishSettings
from clipmill.spec import JobSpec, ModelSources
from clipmill.qa.judge import Judgement
from clipmill.qa.retry import AttemptParams, RetryDecision, resume_params
from clipmill.storage.config import RunConfig
from clipmill.storage.files import disk_full, remove_stale_temporaries
from clipmill.storage.leases import JobLease, describe_holder
from clipmill.storage.repository import JobHistory
from clipmill.storage.schema import ENDED_JOB_STATUSES
from clipmill.tasks import KNOWN_FAULTS
from clipmill.tasks.checks import check_clip, decide_retry
from clipmill.tasks.common import GenerationCancelled
from clipmill.tasks.generate import generate_segment, prefect_run_states
from clipmill.tasks.inputs import input_gate, prepare_input_image, structure_prompt
from clipmill.tasks.leases import holder_is_dead, this_runs_worker_id
from clipmill.tasks.outputs import encode_clip, publish_clip, store_artifact
from clipmill.tasks.records import (
    begin_attempt,
    close_job,
    finish_attempt,
    open_job,
    resume_job,
    save_plan,
    take_cancel_request,
)
from clipmill.tasks.repair import deflicker_clip, stitch
from clipmill.tasks.report import announce_clip, announce_job


@flow(name="clipmill-clip", flow_run_name="{job.id}")
def clip_flow(job: JobSpec, batch_id: int, batch_name: str, config: RunConfig, models: ModelSources,
              publish: PublishSettings | None = None) -> State:
    """Make one job's clip: plan, image and gate once, then attempts until one is accepted or
    the job version's attempt budget (counted across runs) is spent."""
    tag_this_run(f"batch:{batch_name}")
    try:
        # 1. Open the job and take its lease: one run at a time makes it (storage.leases).
        job_id = open_job(config, batch_id, job)
        with JobLease(config.db_url, job_id, worker=this_runs_worker_id(), is_dead=holder_is_dead) as lease:
            if not lease.held:
                return _skipped(job, describe_holder(lease.owner, lease.owner_until))
            # 2. What earlier runs of this version spent, and which seeds they drew.
            history = resume_job(config, job_id)
            if history.status in ENDED_JOB_STATUSES:  # another run ended it after this one opened the batch
                return _skipped(job, f"another run, which ended it {history.status}")
            if take_cancel_request(config, job_id) or _cancelling():
                return _end(config, job_id, job, "cancelled", "cancelled before it started", history.spent)
            state = _make_clip(job, job_id, history, batch_name, config, models, lease, publish or PublishSettings())
    except Exception as error:
        # A full disk met by a database write (the database on that disk): nothing more can be
        # recorded now; the next run takes the job over from this process and closes it.
        full = disk_full(error, config.database_label)
        if full is None:
            raise
        return _stopped_by_full_disk(config, batch_name, job, full)
    if state.name not in ("Skipped", DISK_FULL):  # a job another run took over gets its card from that run
        # 5. The job's card in this run: what the dashboard shows of a clip, however it ended.
        #    A card that cannot be written costs the card, never the job (return_state).
        announce_job(config, batch_name, job.id, job_id, return_state=True)
    return state


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


def _make_clip(job: JobSpec, job_id: int, history: JobHistory, batch_name: str, config: RunConfig,
               models: ModelSources, lease: JobLease, publish: PublishSettings) -> State:
    """Steps 3 and 4 of the clip flow, with the job's lease held."""
    logger = clip_logger()
    spent, tried = history.spent, set(history.tried_seeds)
    params = resume_params(job.initial_params(), history.last_params, tried)
    if spent >= job.max_attempts:  # its last attempt was interrupted
        return _end(config, job_id, job, "failed", f"attempt budget of {job.max_attempts} spent", spent)
    attempt = begin_attempt(config, job_id, params)
    try:
        # 3. Prepare once, before any GPU time: model fit, shot plan, input image, gate.
        job.check_fits_model()
        plan = _plan(job, models, params.segments, config, job_id)
        start_image = None
        if job.image is not None:
            start_image, gate_reason = _prepare_and_gate(job, plan, models, config, batch_name, attempt)
            if start_image is None:
                finish_attempt(config, attempt, "rejected")
                return _end(config, job_id, job, "rejected", gate_reason, attempt.number)

        # 4. Attempts: generate, repair and judge, then one decision.
        while True:
            spent += 1
            tried.add(params.seed)
            if params.segments != len(plan.segment_prompts):  # the retry policy split the clip anew
                plan = _plan(job, models, params.segments, config, job_id)
            judgement, encoded, decision = _attempt(job, plan, params, start_image, models, config, batch_name,
                                                    attempt, spent, tried, publish)
            if decision.action == "accept" and not lease.still_held():  # another run took over: it publishes
                finish_attempt(config, attempt, "interrupted", error="lease lost to another run before publishing")
                return _skipped(job, "another run")
            if decision.action == "accept":
                return _accept(job, plan, params, judgement, encoded, config, batch_name, job_id, attempt)
            finish_attempt(config, attempt, "failed_qa")
            logger.info("%s attempt %d failed QA (%s); %s", job.id, attempt.number,
                        "; ".join(judgement.verdict.reasons), decision.reason)
            if decision.action != "regenerate":
                return _end(config, job_id, job, "failed", "; ".join(judgement.verdict.reasons), spent)
            params = decision.params
            attempt = begin_attempt(config, job_id, params)
    except GenerationCancelled as error:  # `clipmill cancel` or the UI: resumable, not a failure
        logger.info("%s cancelled: %s", job.id, error)
        finish_attempt(config, attempt, "cancelled", error=str(error))
        return _end(config, job_id, job, "cancelled", str(error), attempt.number)
    except Exception as error:  # recorded, then reported to Prefect as this job's failure
        full = disk_full(error, config.database_label)
        if full is not None:  # the machine's fault, not the job's: the job resumes once space is freed
            return _stopped_by_full_disk(config, batch_name, job, full, job_id, attempt)
        bad_input = isinstance(error, ValueError)
        message = " ".join(str(error).split()) if bad_input else f"{type(error).__name__}: {error}"
        # A known fault needs its one line, not a traceback; anything else needs the traceback.
        (logger.error if isinstance(error, KNOWN_FAULTS) else logger.exception)("%s: %s", job.id, message)
        finish_attempt(config, attempt, "error", error=message)
        return _end(config, job_id, job, "error", message, attempt.number,
                    state_name="Bad input" if bad_input else "Error")


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
                      attempt: AttemptRecord) -> tuple[Path | None, str]:
    """The prepared photo and the gate's reason; no photo when the gate rejects the pair."""
    paths = config.paths(batch_name)
    with attempt.timed("prepare"):
        prepared = prepare_input_image(job, paths.job_dir(job.id) / "input.png", models.detector, plan,
                                       trusted=models.trusted_weights)
    _publish(config, batch_name, attempt, "prepared_image", prepared.path)
    with attempt.timed("gate"):
        gate = input_gate(prepared.path, job.text(), job.qa.gate_threshold, models)
    attempt.checks.append(gate)
    if not gate.passed:
        clip_logger().info("%s rejected at the gate: %s", job.id, gate.reason)
        return None, gate.reason
    return prepared.path, gate.reason


def _attempt(job: JobSpec, plan: ShotPlan, params: AttemptParams, start_image: Path | None, models: ModelSources,
             config: RunConfig, batch_name: str, attempt: AttemptRecord, spent: int, tried: set[int],
             publish: PublishSettings) -> tuple[Judgement, EncodedClip, RetryDecision]:
    """Generate, then judge. A flicker-only failure is first repaired on the same frames
    (stronger deflicker, no GPU time) and judged again; the decision that ends the loop is
    recorded with the attempt."""
    stitched = _generate(job, plan, params, start_image, models, attempt)
    repaired = False
    while True:
        judgement, encoded = _repair_and_judge(job, plan, params, stitched, start_image, models, config, batch_name,
                                               attempt, repaired, publish)
        decision = decide_retry(params, judgement.verdict, attempt_number=spent, max_attempts=job.max_attempts,
                                valid_segments=job.valid_segment_counts(), tried_seeds=tried, repaired=repaired)
        if decision.action != "accept":
            attempt.events.append({"kind": "retry", "action": decision.action, "reason": decision.reason,
                                   "details": {"changes": decision.changes}})
        if decision.action != "repair":
            attempt.checks += judgement.verdict.checks
            return judgement, encoded, decision
        params, repaired = decision.params, True


def _generate(job: JobSpec, plan: ShotPlan, params: AttemptParams, start_image: Path | None,
              models: ModelSources, attempt: AttemptRecord) -> StitchedClip:
    """All segments, each continuing from the previous one's last frame, stitched into one clip."""
    segment_paths, previous = [], start_image
    for number, prompt in enumerate(plan.segment_prompts, start=1):
        segment = generate_segment(job, models, params, prompt=prompt, negative_prompt=plan.negative_prompt,
                                   start_image=previous, attempt=attempt.number, segment=number,
                                   dest=attempt.folder / f"segment-{number}.npy")
        attempt.add_time("generate", segment.device_s)
        attempt.add_time("gpu_wait", segment.waited_s)
        attempt.artifacts.append(("segment", str(segment.frames_path)))
        segment_paths.append(segment.frames_path)
        previous, attempt.device = segment.last_frame, segment.device
        if segment.fell_back_from:
            attempt.events.append({"kind": "oom_fallback", "action": "lighter_profile",
                                   "reason": f"segment {number} ran out of GPU memory with profile "
                                             f"{segment.fell_back_from!r}; retried on {segment.device}",
                                   "details": {"segment": number, "from": segment.fell_back_from}})
    attempt.reproduce = reproduction(job, models, plan, params, start_image, segment.source, attempt.device)
    with attempt.timed("stitch"):
        return stitch(segment_paths, attempt.folder / "stitched.npy")


def reproduction(job: JobSpec, models: ModelSources, plan: ShotPlan, params: AttemptParams,
                 start_image: Path | None, source: str, device: str) -> dict:
    """Everything `clipmill rerun` needs to make this attempt's frames again."""
    return {"job": job.model_dump(mode="json"), "models": models.model_dump(mode="json"),
            "prompts": list(plan.segment_prompts), "negative_prompt": plan.negative_prompt, "plan": plan.to_dict(),
            "params": dataclasses.asdict(params), "start_image": str(start_image) if start_image else None,
            "model_source": source, "weights": weights_fingerprint(source), "device": device,
            "versions": software_versions()}


def _repair_and_judge(job: JobSpec, plan: ShotPlan, params: AttemptParams, stitched: StitchedClip,
                      start_image: Path | None, models: ModelSources, config: RunConfig, batch_name: str,
                      attempt: AttemptRecord, repair: bool, publish: PublishSettings) -> tuple[Judgement, EncodedClip]:
    """Deflicker, then QA beside the MP4 encode. Every version is encoded, so a person can watch
    what QA judged; the AIGC labels go on at encoding, and QA judges the frames without them.
    The "qa" time is QA's own (its parts' seconds), which the encode's overlaps."""
    suffix = "-repair" if repair else ""
    with attempt.timed("deflicker"):
        frames = deflicker_clip(stitched.frames_path, attempt.folder / f"frames{suffix}.npy",
                                params.deflicker_strength)
    attempt.artifacts.append(("frames", str(frames)))
    # QA and the encode both read the deflickered frames and neither needs the other, so they
    # run side by side (QA's models on the GPU, x264 on the CPU): the shorter of the two comes
    # off every clip's time, and off the idle GPU after a batch's last generation.
    checking = check_clip.submit(frames, seams=stitched.seams, plan=plan, text=job.text(), qa=job.qa, models=models,
                                 reference_image=start_image)
    record = {"batch": batch_name, "job": job.id, "attempt": attempt.number, "seed": params.seed, "model": job.model}
    try:
        with attempt.timed("encode"):
            encoded = encode_clip(frames, attempt.folder / f"clip{suffix}.mp4", job.fps, publish, record)
    finally:
        checking.wait()  # an encode that fails must not leave QA running behind the attempt
    judgement = checking.result()
    attempt.add_time("qa", sum(judgement.seconds.values()))
    attempt.produce_id, attempt.label_status = encoded.labels.get("produce_id"), encoded.labels.get("status", "off")
    _publish(config, batch_name, attempt, "attempt_clip", encoded.path)
    _publish(config, batch_name, attempt, "attempt_poster", encoded.poster)
    return judgement, encoded


def _publish(config: RunConfig, batch_name: str, attempt: AttemptRecord, kind: str, path: Path) -> None:
    """Copy a finished local file to the same place in the artifact store; list it by URL."""
    relative = config.paths(batch_name).relative(path)
    attempt.artifacts.append((kind, store_artifact(path, config.store(batch_name).url, relative)))


def _accept(job: JobSpec, plan: ShotPlan, params: AttemptParams, judgement: Judgement, encoded: EncodedClip,
            config: RunConfig, batch_name: str, job_id: int, attempt: AttemptRecord) -> State:
    """Publish the accepted clip with its poster and sidecar, record it, show it in the run."""
    paths = config.paths(batch_name)
    sidecar = {"job": job.model_dump(mode="json"), "version": job.version(), "plan": plan.to_dict(),
               "prompt_cuts": list(plan.prompt_cuts), "attempt": attempt.number,
               "params": dataclasses.asdict(params), "verdict": judgement.to_dict(),
               "video": encoded.probe.to_dict(), "labels": encoded.labels, "timings": attempt.timings,
               "device": attempt.device}
    published = publish_clip(encoded, config.store(batch_name).url, paths.relative(paths.clip(job.id)), sidecar)
    finish_attempt(config, attempt, "accepted")
    close_job(config, job_id, status="accepted", accepted_attempt_id=attempt.attempt_id,
              artifacts=[("clip", published.clip), ("poster", published.poster), ("sidecar", published.sidecar)])
    announce_clip(config, batch_name, job.id, published)
    outcome = JobOutcome(job.id, "accepted", attempts=attempt.number, clip=published.clip)
    return Completed(message=f"accepted on attempt {attempt.number}", data=outcome)


DISK_FULL = "Disk full"


def _stopped_by_full_disk(config: RunConfig, batch_name: str, job: JobSpec, line: str, job_id: int | None = None,
                          attempt: AttemptRecord | None = None) -> State:
    """A full disk stops the batch, not only this job: every next clip would meet it. The
    attempt and the job are closed `interrupted`, not `error`, so the run after space is freed
    makes the job (an errored job it would skip), and its half-written files are removed. With
    the database on the full disk those writes fail too; the next run closes them instead, as
    it does a killed run's (storage.leases). No traceback: the one line says all."""
    logger = get_run_logger()
    logger.error("%s: %s", job.id, line)
    if attempt is not None and job_id is not None:
        try:  # `.fn`: no Prefect retries of a write that cannot succeed, nor their tracebacks
            finish_attempt.fn(config, attempt, "interrupted", error=line)
            close_job.fn(config, job_id, status="interrupted", reason=line)
        except Exception as error:
            logger.warning("%s: not recorded as interrupted (%s); the next run closes it",
                           job.id, disk_full(error, config.database_label) or error)
    remove_stale_temporaries(config.paths(batch_name).job_dir(job.id))
    outcome = JobOutcome(job.id, "interrupted", reason=line, attempts=attempt.number if attempt else 0,
                         stops_batch=line)
    return Failed(name=DISK_FULL, message=line, data=outcome)


def _skipped(job: JobSpec, owner: str | None) -> State:
    """Another live run is making this job: this run leaves it alone (gray in the dashboard)."""
    outcome = JobOutcome(job.id, "skipped", reason=f"made by {owner or 'another run'}")
    return Cancelled(name="Skipped", message=outcome.reason, data=outcome)


def _cancelling() -> bool:
    """Whether this run or the batch above it is being cancelled (the UI, `clipmill cancel`)."""
    return bool({"CANCELLING", "CANCELLED"} & set(prefect_run_states()))


_STATE_NAMES = {"rejected": "Rejected", "failed": "QA failed"}


def _end(config: RunConfig, job_id: int, job: JobSpec, status: str, reason: str, attempts: int,
         state_name: str | None = None) -> State:
    """Record how the job ended without a clip; its state says so, named by the cause."""
    close_job(config, job_id, status=status, reason=reason)
    outcome = JobOutcome(job.id, status, reason=reason, attempts=attempts)
    if status == "cancelled":
        return Cancelled(message=reason, data=outcome)
    return Failed(name=state_name or _STATE_NAMES[status], message=reason, data=outcome)
