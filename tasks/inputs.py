"""Tasks at the front of a clip: shot plan, input image, CLIP gate. All cheap; the gate runs
before any GPU time is spent so a mismatched image and prompt cost a fraction of a second."""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError

from clipmill.imaging import PreparedImage, prepare_image
from clipmill.planning import ShotPlan, plan_shot
from clipmill.planning.extender import ExtenderConfig, PromptExtender
from clipmill.preflight import preflight
from clipmill.spec import BatchSpec, JobSpec, ModelSources
from clipmill.subject import find_subject, plan_subject_classes
from clipmill.qa.gate import gate_check
from clipmill.qa.types import Check
from clipmill.storage.config import RunConfig
from clipmill.tasks.common import MODEL_TASK, clip_step_name, import_model_libraries


@task(name="check-batch-ready", cache_policy=NO_CACHE)
def check_batch_ready(config: RunConfig, spec: BatchSpec) -> None:
    """ffmpeg and ffprobe, writable run folder and store, disk, database, weight files: a
    PreflightError names every problem before any GPU time is spent."""
    preflight(config, spec)


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
    from PIL import Image

    import_model_libraries()  # one thread at a time through open_clip's and diffusers' first imports
    from clipmill.models.clip import load_clip_scorer

    scorer = load_clip_scorer(models.clip_model, models.clip_pretrained, trusted=models.trusted_weights)
    with Image.open(image_path) as image:
        score = scorer.image_text_similarity(image.convert("RGB"), text)
    return gate_check(score, threshold, model_name=models.clip_model)
