"""The tasks that make and judge one clip, in the order a job meets them.

0. check-batch-ready: once per batch, before any clip (the batch flow): everything a clip
   will need is there, before any GPU time is spent.
1. structure-prompt: the shot plan (one action prompt per segment, what QA will check).
2. prepare-image: the job's photo as a clean PNG of the model's size.
3. input-gate: CLIP image-text similarity; a mismatch is rejected before any GPU time.
4. make-clip: every segment on the GPU (generate-segment; which thread, which lock and what
   the time limit does: tasks/concurrency.py), then stitch-segments. `clipmill rerun` makes
   a recorded clip again through the same make_clip.
5. judge-and-encode: deflicker, then QA (check-clip) beside the MP4 encode (encode-mp4);
   store-artifact copies each version's MP4 and poster to the artifact store.
6. decide-retry: accept, repair the same frames, regenerate with new parameters, or stop.
7. publish-clip: the accepted attempt with its poster and sidecar.

Each step is a task of its own, so the dashboard lists every step of every attempt by name.
The model is loaded once per worker process (models.cache) and reused by every segment,
attempt and job that the process runs. Large arrays never travel through Prefect: tasks
write frames and videos to the attempt's folder and hand on their paths.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Collection, Sequence
from contextlib import nullcontext
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError

from clipmill.bookkeeping import (
    AttemptRecord,
    ClipRecipe,
    ClipRecord,
    JudgedClip,
    MadeClip,
    Provenance,
    Reproduction,
    Sidecar,
)
from clipmill.imaging import PreparedImage, prepare_image
from clipmill.media import load_frames, probe, save_frame_png, save_frames, save_poster
from clipmill.outcomes import EncodedClip, GeneratedSegment, PublishedClip, StitchedClip
from clipmill.planning import ShotPlan, plan_shot
from clipmill.planning.extender import ExtenderConfig, PromptExtender
from clipmill.planning.motion import moving_actions
from clipmill.preflight import preflight
from clipmill.provenance import software_versions, weights_fingerprint
from clipmill.publishing import PublishSettings, clip_manifest, encode_published, new_produce_id
from clipmill.qa.deflicker import deflicker
from clipmill.qa.gate import gate_check
from clipmill.qa.judge import Judgement, expects_motion, judge_frames
from clipmill.qa.retry import AttemptParams, RetryDecision, plan_retry
from clipmill.qa.settings import QASettings
from clipmill.qa.stitch import seam_metrics, stitch_segments
from clipmill.qa.types import Check, Verdict
from clipmill.spec import BatchSpec, JobSpec, ModelSources
from clipmill.storage.artifacts import ArtifactStore
from clipmill.storage.config import RunConfig
from clipmill.subject import find_subject, plan_subject_classes
from clipmill.tasks.common import (
    MODEL_TASK,
    STORE_TASK,
    clip_step_name,
    import_model_libraries,
    retry_on_infrastructure_error,
)
from clipmill.tasks.concurrency import (
    ENCODE_TASK,
    GENERATE_TIMEOUT_S,
    QA_TASK,
    CancelWatch,
    gpu_slot,
    lease_lapses_at_timeout,
    prefect_run_states,
    task_deadline,
)


# 0. Before any clip ---------------------------------------------------------------------------

@task(name="check-batch-ready", cache_policy=NO_CACHE)
def check_batch_ready(config: RunConfig, spec: BatchSpec) -> None:
    """ffmpeg and ffprobe, writable run folder and store, disk, database, weight files: a
    PreflightError names every problem before any GPU time is spent."""
    preflight(config, spec)


# 1-3. The input: shot plan, prepared image, gate (all cheap, all before any GPU time) ----------

@task(name="structure-prompt", task_run_name=clip_step_name, cache_policy=NO_CACHE)
def structure_prompt(job: JobSpec, segments: int, models: ModelSources | None = None) -> ShotPlan:
    """Free text or keyword -> shot plan with one action prompt per segment and QA expectations;
    with the spec's `models.prompt_extender`, a local instruct model plans it (the rules plan
    when it cannot: its notes say why)."""
    config = ExtenderConfig.from_spec(models.prompt_extender) if models else None
    return plan_shot(job.text(), segments=segments, negative_prompt=job.negative_prompt,
                     extender=PromptExtender(config) if config else None)


def _logger():
    # `prepare_input_image.fn(...)` runs outside any Prefect run; its note must still be logged.
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)


@task(name="prepare-image", task_run_name=clip_step_name, cache_policy=NO_CACHE)
def prepare_input_image(job: JobSpec, dest: Path, detector: str | None = None,
                        plan: ShotPlan | None = None, trusted: dict[str, str] | None = None) -> PreparedImage:
    """EXIF orientation, alpha, colour mode, resize and crop to the job's size, PNG.

    With `job.crop == "subject"` the crop centres on the subject the `detector` (weights as
    in the batch's `models.detector`) finds: the plan's first expected class, else the
    largest detection; with no detector or no detection it falls back to the centre.
    `trusted` (the batch's `models.trusted_weights`) pins the weights file; an unpinned one
    raises `UntrustedWeightsError`, a bad input.
    """
    subject_box, note = None, None
    if job.crop == "subject":
        if detector is None:
            note = "no detector given"
        else:
            expectations = plan.expectations if plan is not None else None
            subject_box, note = find_subject(Path(job.image), detector, plan_subject_classes(expectations),
                                             job.qa.detect_confidence, trusted=trusted)
        if subject_box is None:
            _logger().info("%s: subject crop fell back to the centre: %s", job.id, note)
    prepared = prepare_image(job.image, dest, width=job.width, height=job.height, crop=job.crop,
                             subject_box=subject_box)
    return dataclasses.replace(prepared, subject_box=subject_box, subject_note=note)


@task(name="input-gate", task_run_name=clip_step_name, **MODEL_TASK)
def input_gate(image_path: Path, text: str, threshold: float | None, models: ModelSources) -> Check:
    """CLIP image-text cosine against the job's threshold; a rejection is a result, not an error."""
    import_model_libraries()  # one thread at a time through open_clip's and diffusers' first imports
    from clipmill.models.clip import load_clip_scorer

    scorer = load_clip_scorer(models.clip_model, models.clip_pretrained, device=models.qa_device,
                              trusted=models.trusted_weights)
    with Image.open(image_path) as image:
        score = scorer.image_text_similarity(image.convert("RGB"), text)
    return gate_check(score, threshold, model_name=models.clip_model)


# 4. Making the clip: every segment on the GPU, then the stitch --------------------------------

@task(name="make-clip", task_run_name=clip_step_name, cache_policy=NO_CACHE)
def make_clip(recipe: ClipRecipe, folder: Path, attempt: int, record: AttemptRecord | None = None) -> MadeClip:
    """Every segment of `recipe` into `folder`, each continuing from the previous one's last
    frame (the first from the start image, if any), stitched into one clip. `record`: the
    attempt's record, kept up to date segment by segment, so that an attempt that breaks
    half-way still lists what it made."""
    segment_paths, previous = [], recipe.start_image
    for number, prompt in enumerate(recipe.prompts, start=1):
        segment = generate_segment(recipe.job, recipe.models, recipe.params, prompt=prompt,
                                   negative_prompt=recipe.negative_prompt, start_image=previous, attempt=attempt,
                                   segment=number, dest=folder / f"segment-{number}.npy")
        segment_paths.append(segment.frames_path)
        previous = segment.last_frame
        if record is not None:
            record.add_segment(number, segment)
    made_with = Provenance(model_source=segment.source, weights=weights_fingerprint(segment.source),
                           device=segment.device, versions=software_versions(),
                           precision=segment.precision.to_dict() if segment.precision else {},
                           loras=segment.loras)
    reproduction = Reproduction(recipe, made_with)
    if record is not None:
        record.reproduction = reproduction
    with record.timed("stitch") if record is not None else nullcontext():
        stitched = stitch(segment_paths, folder / "stitched.npy")
    return MadeClip(stitched, reproduction)


@task(name="generate-segment", task_run_name="generate-{job.id}-attempt-{attempt}-segment-{segment}",
      cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10, retry_condition_fn=retry_on_infrastructure_error,
      timeout_seconds=GENERATE_TIMEOUT_S)
@lease_lapses_at_timeout
def generate_segment(job: JobSpec, models: ModelSources, params: AttemptParams, *, prompt: str, negative_prompt: str,
                     start_image: Path | None, attempt: int, segment: int, dest: Path) -> GeneratedSegment:
    """Generate segment `segment` (1-based) of an attempt: one Wan call, its frames written to
    `dest`. With `start_image` it is image-to-video: the first segment of an image job starts
    from the prepared photo, every later segment from the previous one's last frame, which
    keeps a multi-segment clip continuous."""
    import_model_libraries()  # one thread at a time through diffusers' lazy imports (models.imports)
    from clipmill.models.wan import GenerationRequest, load_generator

    logger = get_run_logger()
    loras = job.lora_weights()  # hashed here, so a missing or changed file fails before the model loads
    generator = load_generator(job.model, models.generator_source.get(job.model), profile=models.memory_profile,
                               precision=models.precision)
    report_every = max(1, params.steps // 4)
    image = None
    if start_image is not None:
        with Image.open(start_image) as opened:
            image = opened.convert("RGB")
    request = GenerationRequest(prompt=prompt, negative_prompt=negative_prompt, image=image, width=job.width,
                                height=job.height, num_frames=job.segment_frames(params.segments), steps=params.steps,
                                guidance=params.guidance, seed=params.seed + segment - 1,
                                decode_dtype=models.vae_decode, speed=job.speed, loras=loras)
    with CancelWatch(prefect_run_states, deadline=task_deadline()) as stop_watch:

        def on_step(step: int, total: int) -> None:
            if step == total or step % report_every == 0:
                logger.info("denoising step %d/%d", step, total)
            stop_watch.check()

        run = generator.generate(request, on_step=on_step, hold_device=lambda: gpu_slot(generator.device))
    if run.waited_s >= 1.0:
        logger.info("waited %.1f s for %s while another clip generated", run.waited_s, generator.device)
    if run.lora_s:
        logger.info("fused LoRA set %s in %.2f s", ", ".join(lora.label() for lora in loras) or "(none)", run.lora_s)
    for warning in run.warnings:
        logger.warning("%s: %s", job.id, warning)
    save_frames(run.frames, dest)
    last_frame = save_frame_png(run.frames[-1], dest.with_name(f"{dest.stem}-last.png"))
    # Device time only: the "generate" stage and GPU-seconds per clip count what the GPU
    # spent, not the time this clip queued behind another one for it.
    device = f"{generator.device} ({run.profile}, {run.attention}, {run.precision})"
    return GeneratedSegment(frames_path=dest, last_frame=last_frame, device=device, device_s=run.device_s,
                            waited_s=run.waited_s, fell_back_from=run.fell_back_from, source=generator.source,
                            precision=run.precision_choice or generator.precision, loras=loras, lora_s=run.lora_s,
                            warnings=run.warnings)


@task(name="stitch-segments", task_run_name=clip_step_name, cache_policy=NO_CACHE)
def stitch(segment_paths: list[Path], dest: Path) -> StitchedClip:
    """Drop each continuation's repeated first frame, match its colour to the previous segment.
    A single segment is already the clip: it is passed on as it is, not read and written again
    (a 720p clip is a third of a gigabyte, and this sits between generation and QA)."""
    if len(segment_paths) == 1:
        return StitchedClip(frames_path=segment_paths[0], seams=[], seam_metrics=[])
    result = stitch_segments([load_frames(p) for p in segment_paths], shared_frames=1, match_colour=True)
    save_frames(result.frames, dest)
    return StitchedClip(frames_path=dest, seams=list(result.seams),
                        seam_metrics=seam_metrics(result.frames, result.seams))


# 5. Judging the clip beside its encode --------------------------------------------------------

@task(name="judge-and-encode", task_run_name=clip_step_name, cache_policy=NO_CACHE)
def judge_and_encode(stitched: StitchedClip, plan: ShotPlan, recipe: ClipRecipe, folder: Path,
                     publish: PublishSettings, clip: ClipRecord, record: AttemptRecord, repaired: bool) -> JudgedClip:
    """Deflicker the stitched frames (with `recipe.params`' strength), then QA beside the MP4
    encode. Every version is encoded, so a person can watch what QA judged (`repaired`: a
    repair's files sit beside the first version's); the AIGC labels go on at encoding, and
    QA judges the frames without them. The "qa" time is QA's own (its parts' seconds), which
    the encode's overlaps."""
    suffix = "-repair" if repaired else ""
    with record.timed("deflicker"):
        frames = deflicker_clip(stitched.frames_path, folder / f"frames{suffix}.npy", recipe.params.deflicker_strength)
    record.artifacts.append(("frames", str(frames)))
    # QA and the encode both read the deflickered frames and neither needs the other, so they
    # run side by side (QA's models on the GPU, x264 on the CPU): the shorter of the two comes
    # off every clip's time, and off the idle GPU after a batch's last generation.
    checking = check_clip.submit(frames, seams=stitched.seams, plan=plan, text=recipe.job.text(), qa=recipe.job.qa,
                                 models=recipe.models, reference_image=recipe.start_image)
    try:
        with record.timed("encode"):
            encoded = encode_clip(frames, folder / f"clip{suffix}.mp4", recipe.job.fps, publish, clip)
    finally:
        checking.wait()  # an encode that fails must not leave QA running behind the attempt
    judgement = checking.result()
    record.add_time("qa", sum(judgement.seconds.values()))
    record.add_encoded(encoded)
    return JudgedClip(judgement, encoded)


@task(name="deflicker", task_run_name=clip_step_name, cache_policy=NO_CACHE)
def deflicker_clip(src: Path, dest: Path, strength: float) -> Path:
    save_frames(deflicker(load_frames(src), strength=strength), dest)
    return dest


@task(name="check-clip", task_run_name=clip_step_name, **QA_TASK)
@lease_lapses_at_timeout
def check_clip(frames_path: Path, *, seams: list[int], plan: ShotPlan, text: str, qa: QASettings,
               models: ModelSources, reference_image: Path | None = None) -> Judgement:
    """Temporal metrics, cuts, seams, blur and damage (against `reference_image` too, the job's
    prepared input image), text in the frame, detections against the shot plan, subject drift
    and text-video similarity (see `qa.judge.judge_frames`), against what the shot `plan` asks for."""
    import_model_libraries()  # one thread at a time through open_clip's and diffusers' first imports
    from clipmill.models.clip import load_clip_scorer
    from clipmill.models.detector import load_detector
    from clipmill.models.ocr import load_text_reader

    started = time.perf_counter()
    frames = load_frames(frames_path)
    detector = load_detector(models.detector, device=models.qa_device, trusted=models.trusted_weights)
    scorer = load_clip_scorer(models.clip_model, models.clip_pretrained, device=models.qa_device,
                              trusted=models.trusted_weights)
    open_vocab, missing = _open_vocab_detector(models, plan, lambda: scorer)
    text_reader = load_text_reader() if qa.check_text else None
    reference = np.asarray(Image.open(reference_image).convert("RGB")) if reference_image else None
    loaded_s = time.perf_counter() - started
    judgement = judge_frames(
        frames, qa=qa, expectations=plan.expectations, text=text, detector=detector, scorer=scorer,
        seams=seams, expects_motion=expects_motion(moving_actions(plan.actions), plan.expectations),
        open_vocab_detector=open_vocab, open_vocab_missing=missing, text_reader=text_reader,
        reference_image=reference)
    # With the loading, the judgement's seconds add up to the whole of QA's time.
    return dataclasses.replace(judgement, seconds={"load": round(loaded_s, 3), **judgement.seconds})


def _open_vocab_detector(models: ModelSources, plan: ShotPlan, scorer):
    """(detector, None) for the plan's subjects outside COCO when the spec configures one and the
    plan has such subjects; (None, why) when it is configured but has no usable text encoder
    (the subjects are then recorded as not checkable, with that reason); (None, None) otherwise."""
    if not models.open_vocab_detector or not plan.expectations.open_vocabulary:
        return None, None
    from clipmill.models.open_vocab import OpenVocabUnavailable, load_open_vocab_detector

    try:
        return load_open_vocab_detector(models.open_vocab_detector, text_encoder_file=models.open_vocab_text_encoder,
                                        device=models.qa_device,
                                        clip_scorer=scorer, trusted=models.trusted_weights), None
    except OpenVocabUnavailable as error:
        return None, str(error)


@task(name="encode-mp4", task_run_name=clip_step_name, **ENCODE_TASK)
@lease_lapses_at_timeout
def encode_clip(frames_path: Path, dest: Path, fps: int, publish: PublishSettings | None = None,
                clip: ClipRecord | None = None) -> EncodedClip:
    """H.264 / yuv420p / +faststart, checked with ffprobe afterwards: the frame count and fps
    that reach the viewer are the ones the job asked for. With `publish` enabled the clip
    carries the AIGC labels (visible on its opening frames, the AIGC tag, C2PA when
    configured), burnt in here, after QA judged the unlabelled frames; `clip` (batch, job,
    attempt, seed, model) goes into the C2PA manifest. The clip's ProduceID is made here, once:
    the AIGC tag and the manifest both carry it."""
    frames = load_frames(frames_path)
    publish = publish or PublishSettings()
    produce_id = new_produce_id()
    manifest = clip_manifest(title=dest.name, model=clip.model if clip else "unknown",
                             record=clip.to_dict() if clip else {},
                             produce_id=produce_id) if publish.enabled and publish.c2pa else None
    labels = encode_published(frames, dest, fps=fps, settings=publish, produce_id=produce_id, c2pa_manifest=manifest)
    poster = save_poster(frames, dest.with_suffix(".png"))
    info = probe(dest)
    if info.frames != len(frames):
        raise RuntimeError(f"{dest}: encoded {info.frames} frames, expected {len(frames)}")
    return EncodedClip(path=dest, poster=poster, probe=info, labels=labels)


@task(name="store-artifact", task_run_name=clip_step_name, **STORE_TASK)
def store_artifact(local_path: Path, store_url: str, relative: str) -> str:
    """Copy a finished local file (an attempt's MP4 or poster, a prepared image) to `relative`
    in the artifact store at `store_url`; returns the URL the database records."""
    return ArtifactStore(store_url).put_file(local_path, relative)


# 6. What follows the verdict ------------------------------------------------------------------

@task(name="decide-retry", task_run_name=clip_step_name, cache_policy=NO_CACHE)
def decide_retry(params: AttemptParams, verdict: Verdict, *, attempt_number: int, max_attempts: int,
                 valid_segments: Sequence[int], tried_seeds: Collection[int], repaired: bool = False) -> RetryDecision:
    """Read the failure reasons and choose what happens next: accept, repair the same frames,
    regenerate with new parameters, or stop. `repaired`: the verdict judged repaired frames."""
    return plan_retry(params, verdict, attempt_number=attempt_number, max_attempts=max_attempts,
                      valid_segments=valid_segments, tried_seeds=tried_seeds, repaired=repaired)


# 7. Publishing the accepted clip --------------------------------------------------------------

@task(name="publish-clip", task_run_name=clip_step_name, **STORE_TASK)
def publish_clip(encoded: EncodedClip, store_url: str, relative: str, sidecar: Sidecar) -> PublishedClip:
    """The accepted attempt at `relative` (clips/<job>.mp4) in the artifact store, with its
    poster and a JSON sidecar beside it; returns their URLs."""
    store, name = ArtifactStore(store_url), PurePosixPath(relative)
    return PublishedClip(
        clip=store.put_file(encoded.path, relative),
        poster=store.put_file(encoded.poster, str(name.with_suffix(".png"))),
        sidecar=store.put_text(json.dumps(sidecar.to_dict(), indent=2, ensure_ascii=False, default=str),
                               str(name.with_suffix(".json"))))
