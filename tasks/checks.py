"""QA tasks: judge a finished clip, and decide what the next attempt changes."""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np
import PIL.Image
from prefect import task
from prefect.cache_policies import NO_CACHE

from clipmill.media import load_frames
from clipmill.planning import ShotPlan
from clipmill.planning.motion import moving_actions
from clipmill.qa.settings import QASettings
from clipmill.spec import ModelSources
from clipmill.qa.judge import Judgement, expects_motion, judge_frames
from clipmill.qa.retry import AttemptParams, RetryDecision, plan_retry
from clipmill.qa.types import Verdict
from clipmill.tasks.common import clip_step_name, import_model_libraries
from clipmill.tasks.concurrency import QA_TASK, lease_lapses_at_timeout


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
    frames, detector = load_frames(frames_path), load_detector(models.detector, trusted=models.trusted_weights)
    scorer = load_clip_scorer(models.clip_model, models.clip_pretrained, trusted=models.trusted_weights)
    open_vocab, missing = _open_vocab_detector(models, plan, lambda: scorer)
    text_reader = load_text_reader() if qa.check_text else None
    reference = np.asarray(PIL.Image.open(reference_image).convert("RGB")) if reference_image else None
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
                                        clip_scorer=scorer, trusted=models.trusted_weights), None
    except OpenVocabUnavailable as error:
        return None, str(error)


@task(name="decide-retry", task_run_name=clip_step_name, cache_policy=NO_CACHE)
def decide_retry(params: AttemptParams, verdict: Verdict, *, attempt_number: int, max_attempts: int,
                 valid_segments: Sequence[int], tried_seeds: Collection[int], repaired: bool = False) -> RetryDecision:
    """Read the failure reasons and choose what happens next: accept, repair the same frames,
    regenerate with new parameters, or stop. `repaired`: the verdict judged repaired frames."""
    return plan_retry(params, verdict, attempt_number=attempt_number, max_attempts=max_attempts,
                      valid_segments=valid_segments, tried_seeds=tried_seeds, repaired=repaired)
