"""Tasks at the front of a clip: shot plan, input image, CLIP gate. All cheap; the gate runs
before any GPU time is spent so a mismatched image and prompt cost a fraction of a second."""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError

from clipmill.imaging import Box, prepare_image
from clipmill.planning import expand_template, plan_shot
from clipmill.spec import JobSpec
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


# Detection runs on a reduced copy: a subject box needs no more than the detector's own input size.
_DETECT_SIDE = 640
_DETECT_MAX_PIXELS = 50_000_000
_EXIF_ORIENTATION = 0x0112


def plan_subject_classes(plan: dict | None) -> list[str]:
    """The classes a subject crop should centre on, most important first: the interaction's
    subjects, then every other expected class, in the order the prompt introduced them."""
    if not plan:
        return []
    expectations = plan.get("expectations") or {}
    ordered = list(expectations.get("subjects") or []) + list(expectations.get("classes") or {})
    return list(dict.fromkeys(ordered))


def choose_subject_box(detections: Sequence, classes: Sequence[str]) -> tuple[Box | None, str]:
    """The box to centre on and why: among detections of the first expected class that has
    any, the one with the largest confidence x area; with none of them, the same over all."""
    def weight(detection) -> float:
        x1, y1, x2, y2 = detection.box
        return detection.confidence * max(0.0, x2 - x1) * max(0.0, y2 - y1)

    for label in classes:
        matching = [d for d in detections if d.label == label]
        if matching:
            best = max(matching, key=weight)
            return tuple(float(v) for v in best.box), f"{label} ({best.confidence:.2f})"
    if detections:
        best = max(detections, key=weight)
        return tuple(float(v) for v in best.box), f"largest detection: {best.label} ({best.confidence:.2f})"
    return None, "nothing detected"


def find_subject(image_path: Path, detector_weights: str, classes: Sequence[str],
                 confidence: float = 0.25) -> tuple[Box | None, str]:
    """Detect on the upright image and pick the subject box, in the upright image's pixels.

    Any failure (unreadable file, detector missing) returns no box and the reason: the crop
    then falls back to the centre, and prepare_image reports a bad file in its own words.
    """
    import numpy as np
    from PIL import Image, ImageOps

    from models.detector import load_detector

    try:
        with Image.open(image_path) as opened:
            if opened.width * opened.height > _DETECT_MAX_PIXELS:
                return None, "image too large to detect on"
            width, height = opened.size
            if int(opened.getexif().get(_EXIF_ORIENTATION, 1) or 1) in (5, 6, 7, 8):
                width, height = height, width  # rotated by 90 degrees when made upright
            opened.draft("RGB", (_DETECT_SIDE, _DETECT_SIDE))  # JPEG: decode at reduced scale, cheaply
            upright = ImageOps.exif_transpose(opened).convert("RGB")
        upright.thumbnail((_DETECT_SIDE, _DETECT_SIDE))
        detector = load_detector(detector_weights)
        _, detections = detector.detect(np.asarray(upright)[None], conf=confidence, track=False)
    except Exception as error:  # noqa: BLE001 - any failure means "no box", said in the note
        return None, f"detection failed ({type(error).__name__}: {error})"
    box, why = choose_subject_box(detections, classes)
    if box is None:
        return None, why
    scale_x, scale_y = width / upright.size[0], height / upright.size[1]
    x1, y1, x2, y2 = box
    return (x1 * scale_x, y1 * scale_y, x2 * scale_x, y2 * scale_y), why


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
