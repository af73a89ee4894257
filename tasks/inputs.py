"""Tasks at the front of a clip: shot plan, input image, CLIP gate. All cheap; the gate runs
before any GPU time is spent so a mismatched image and prompt cost a fraction of a second."""
from __future__ import annotations

import logging
import time
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError

from clipmill.imaging import prepare_image
from clipmill.planning import expand_template, plan_shot
from clipmill.spec import JobSpec
from clipmill.subject import find_subject, plan_subject_classes
from qa.gate import gate_check
from tasks.common import retry_on_infrastructure_error


def job_text(job: JobSpec) -> str:
    """The job's prompt as the user meant it: free text, or a keyword poured into a template."""
    if job.prompt:
        return job.prompt
    return expand_template(job.keyword or "", job.template or "", job.template_vars or None)


@task(name="structure-prompt", cache_policy=NO_CACHE)
def structure_prompt(job: JobSpec, segments: int) -> dict:
    """Free text or keyword -> shot plan with one action prompt per segment and QA expectations."""
    plan = plan_shot(job_text(job), segments=segments, negative_prompt=job.negative_prompt)
    return plan.to_dict()


def _logger():
    # `prepare_input_image.fn(...)` runs outside any Prefect run; its note must still be logged.
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)


@task(name="prepare-image", cache_policy=NO_CACHE)
def prepare_input_image(job: JobSpec, dest: Path, detector: str | None = None, plan: dict | None = None) -> dict:
    """EXIF orientation, alpha, colour mode, resize and crop to the job's size, PNG.

    With `job.crop == "subject"` the crop centres on the subject the `detector` (weights as
    in the batch's `models.detector`) finds: the plan's first expected class, else the
    largest detection; with no detector or no detection it falls back to the centre.
    """
    started = time.perf_counter()
    subject_box, note = None, None
    if job.crop == "subject":
        if detector is None:
            note = "no detector given"
        else:
            subject_box, note = find_subject(Path(job.image), detector, plan_subject_classes(plan),
                                             job.qa.detect_confidence)
        if subject_box is None:
            _logger().info("%s: subject crop fell back to the centre: %s", job.id, note)
    prepared = prepare_image(job.image, dest, width=job.width, height=job.height, crop=job.crop,
                             subject_box=subject_box)
    return {**prepared.to_dict(), "seconds": time.perf_counter() - started,
            "subject_box": list(subject_box) if subject_box else None, "subject_note": note}


@task(name="input-gate", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2,
      retry_condition_fn=retry_on_infrastructure_error)
def input_gate(image_path: Path, text: str, threshold: float, clip_model: str, clip_pretrained: str | None) -> dict:
    """CLIP image-text cosine against the job's threshold; a rejection is a result, not an error."""
    from PIL import Image

    from models.clip import load_clip_scorer

    started = time.perf_counter()
    scorer = load_clip_scorer(clip_model, clip_pretrained)
    with Image.open(image_path) as image:
        score = scorer.image_text_similarity(image.convert("RGB"), text)
    check = gate_check(score, threshold, model_name=clip_model)
    return {"check": check.to_dict(), "random_weights": scorer.random_weights,
            "seconds": time.perf_counter() - started}
