"""QA tasks: judge a finished clip, and decide what the next attempt changes."""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from clipmill.judge import expects_motion, judge_frames
from clipmill.media import load_frames
from clipmill.spec import QASettings
from qa.retry import AttemptParams, plan_retry
from qa.types import Check, Expectations, Verdict
from tasks.common import retry_on_infrastructure_error

def verdict_from_dict(data: dict) -> Verdict:
    return Verdict(checks=tuple(Check(**c) for c in data["checks"]))


@task(name="check-clip", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2,
      retry_condition_fn=retry_on_infrastructure_error)
def check_clip(
    frames_path: Path,
    *,
    seams: list[int],
    plan: dict,
    text: str,
    qa: QASettings,
    detector_weights: str,
    clip_model: str,
    clip_pretrained: str | None,
) -> dict:
    """Temporal metrics, seams, detections against the shot plan, subject drift and text-video
    similarity (see `clipmill.judge.judge_frames`), against what the shot `plan` asks for."""
    from models.clip import load_clip_scorer
    from models.detector import load_detector

    started = time.perf_counter()
    judgement = judge_frames(
        load_frames(frames_path), qa=qa, expectations=Expectations.from_dict(plan["expectations"]), text=text,
        detector=load_detector(detector_weights), scorer=load_clip_scorer(clip_model, clip_pretrained),
        seams=seams, expects_motion=expects_motion(plan))
    return {**judgement.to_dict(), "seconds": time.perf_counter() - started}


@task(name="decide-retry", cache_policy=NO_CACHE)
def decide_retry(params: AttemptParams, verdict: dict, *, attempt_number: int, max_attempts: int,
                 valid_segments: list[int], repaired: bool = False) -> dict:
    """Read the failure reasons and choose what happens next: accept, repair the same frames,
    regenerate with new parameters, or stop. `repaired`: the verdict judged repaired frames."""
    decision = plan_retry(params, verdict_from_dict(verdict), attempt_number=attempt_number,
                          max_attempts=max_attempts, max_segments=max(valid_segments), repaired=repaired)
    next_params = decision.params
    if next_params is not None and next_params.segments not in valid_segments:
        # The clip length must split into 4k+1-frame windows; keep the old split if this one does not.
        next_params = dataclasses.replace(next_params, segments=params.segments)
    return {"retry": decision.retry, "action": decision.action, "params": next_params, "reason": decision.reason,
            "changes": decision.changes}
