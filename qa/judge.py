"""Every QA check of a finished clip, in one call: temporal health, seams, detections against
the shot plan, subject drift and text-video similarity.

The clip task (`tasks/checks.py`) and the `clipmill check` command (clipmill/cli/check.py) both call `judge_frames`,
so a clip judged by hand gets exactly the verdict the pipeline would give it. Models come in
as arguments (loaded once by the caller); no Prefect here.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import PIL.Image

from qa.consistency import sample_indices, subject_drift_check, text_video_check
from qa.interaction import interaction_checks
from qa.stitch import seam_checks
from qa.temporal import temporal_checks
from qa.types import Check, Detection, Expectations, Verdict

if TYPE_CHECKING:  # the thresholds come from the batch spec; qa/ needs only their values
    from clipmill.spec import QASettings


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    examined_frames: list[int]
    detections: list[Detection] = field(default_factory=list)
    random_weights: dict[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            **self.verdict.to_dict(),
            "reasons": self.verdict.reasons,
            "detections": len(self.detections),
            "detected_labels": sorted({d.label for d in self.detections}),
            "examined_frames": len(self.examined_frames),
            "random_weights": dict(self.random_weights),
        }


def expects_motion(actions: Sequence[str], expectations: Expectations) -> bool:
    """Whether a shot plan's actions and expectations ask for action: any action step or interaction.

    A plan of a still subject ("a red cup on a table") has neither, and a still clip is then
    what was asked for.
    """
    return bool(actions) or bool(expectations.interaction)


def informational(check: Check) -> Check:
    """Keep what was measured, but take it out of the verdict (`threshold=None`)."""
    return dataclasses.replace(check, threshold=None, passed=True, reason=f"not enforced: {check.reason}")


def judge_frames(
    frames: np.ndarray,
    *,
    qa: QASettings,
    expectations: Expectations,
    text: str | None,
    detector,
    scorer,
    seams: list[int] | None = None,
    expects_motion: bool = True,
) -> Judgement:
    """Run every check on `frames` (F, H, W, 3) uint8 RGB.

    Args:
        qa: Thresholds; see `QASettings`.
        expectations: What the shot plan says the clip shows; empty means no detection checks.
        text: The prompt, for text-video similarity; None skips that check.
        detector: A `models.detector.Detector`; None skips detection (and its checks).
        scorer: A `models.clip.ClipScorer`; None skips drift and text-video similarity.
        seams: Frame indices where stitched segments meet.
        expects_motion: Whether the plan asks for action (see `expects_motion`).
    """
    # 1. temporal health and seams: pixels only
    checks: list[Check] = list(temporal_checks(
        frames, max_black_fraction=qa.max_black_fraction, max_frozen_fraction=qa.max_frozen_fraction,
        max_flicker=qa.max_flicker, min_motion=qa.min_motion, expects_motion=expects_motion))
    if seams:
        checks += seam_checks(frames, list(seams), max_seam_ratio=qa.max_seam_ratio)

    # 2. detections and tracks against the shot plan
    examined: list[int] = []
    detections: list[Detection] = []
    random_weights: dict[str, bool] = {}
    if detector is not None:
        examined, detections = detector.detect(frames, stride=qa.detect_stride, conf=qa.detect_confidence)
        found = interaction_checks(detections, examined, expectations, min_presence=qa.min_presence,
                                   max_gap_frames=qa.max_gap_frames, min_approach=qa.min_approach,
                                   max_contact_gap=qa.max_contact_gap)
        checks += found if qa.enforce_expectations else [informational(c) for c in found]
        random_weights["detector"] = detector.random_weights

    # 3. CLIP: one batch of sampled frames serves drift and text-video similarity
    if scorer is not None:
        sampled = sample_indices(len(frames), qa.consistency_samples)
        embeddings = scorer.image_embeddings([PIL.Image.fromarray(np.ascontiguousarray(frames[i])) for i in sampled])
        checks.append(subject_drift_check(embeddings, sampled, qa.min_subject_similarity))
        if text:
            checks.append(text_video_check(embeddings, scorer.text_embedding(text), sampled, qa.min_text_video_cosine,
                                           model_name=scorer.model_name))
        random_weights["clip"] = scorer.random_weights

    return Judgement(Verdict(checks=tuple(checks)), examined, detections, random_weights)
