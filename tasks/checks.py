"""QA tasks: judge a finished clip, and decide what the next attempt changes."""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from clipmill.media import load_frames
from clipmill.spec import QASettings
from qa.interaction import interaction_checks
from qa.retry import AttemptParams, plan_retry
from qa.stitch import seam_checks
from qa.temporal import temporal_checks
from qa.types import Check, Expectations, Verdict
from tasks.common import retry_on_infrastructure_error


def _informational(check: Check) -> Check:
    """Keep what was measured, but take it out of the verdict (`threshold=None`)."""
    return dataclasses.replace(check, threshold=None, passed=True, reason=f"not enforced: {check.reason}")


def verdict_from_dict(data: dict) -> Verdict:
    return Verdict(checks=tuple(Check(**c) for c in data["checks"]))


@task(name="check-clip", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2,
      retry_condition_fn=retry_on_infrastructure_error)
def check_clip(
    frames_path: Path,
    *,
    seams: list[int],
    expectations: dict,
    text: str,
    qa: QASettings,
    detector_weights: str,
    clip_model: str,
    clip_pretrained: str | None,
) -> dict:
    """Temporal metrics, seams, detections against the shot plan, and text-video similarity."""
    from models.clip import load_clip_scorer
    from models.detector import load_detector

    started = time.perf_counter()
    frames = load_frames(frames_path)
    checks: list[Check] = list(temporal_checks(
        frames, max_black_fraction=qa.max_black_fraction, max_frozen_fraction=qa.max_frozen_fraction,
        max_flicker=qa.max_flicker, min_motion=qa.min_motion))
    if seams:
        checks += seam_checks(frames, seams, max_seam_ratio=qa.max_seam_ratio)

    detector = load_detector(detector_weights)
    examined, detections = detector.detect(frames, stride=qa.detect_stride, conf=qa.detect_confidence)
    found = interaction_checks(detections, examined, Expectations.from_dict(expectations),
                               min_presence=qa.min_presence)
    checks += found if qa.enforce_expectations else [_informational(c) for c in found]

    scorer = load_clip_scorer(clip_model, clip_pretrained)
    similarity = scorer.text_video_similarity(frames, text)
    checks.append(Check(stage="consistency", metric="text_video_clip_cosine", value=float(similarity),
                        threshold=None, passed=True,
                        reason=f"mean CLIP cosine between the prompt and sampled frames: {similarity:.3f}"))
    verdict = Verdict(checks=tuple(checks))
    labels = sorted({d.label for d in detections})
    return {
        **verdict.to_dict(),
        "reasons": verdict.reasons,
        "detections": len(detections),
        "detected_labels": labels,
        "examined_frames": len(examined),
        "random_weights": {"detector": detector.random_weights, "clip": scorer.random_weights},
        "seconds": time.perf_counter() - started,
    }


@task(name="decide-retry", cache_policy=NO_CACHE)
def decide_retry(params: AttemptParams, verdict: dict, *, attempt_number: int, max_attempts: int,
                 valid_segments: list[int]) -> dict:
    """Read the failure reasons and choose the next attempt's parameters (or stop)."""
    decision = plan_retry(params, verdict_from_dict(verdict), attempt_number=attempt_number,
                          max_attempts=max_attempts, max_segments=max(valid_segments))
    next_params = decision.params
    if next_params is not None and next_params.segments not in valid_segments:
        # The clip length must split into 4k+1-frame windows; keep the old split if this one does not.
        next_params = dataclasses.replace(next_params, segments=params.segments)
    return {"retry": decision.retry, "params": next_params, "reason": decision.reason, "changes": decision.changes}
