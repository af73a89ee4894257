"""Every QA check of a finished clip, in one call: temporal health, hard cuts, seams, blur and
damage, text in the frame, detections against the shot plan, subject drift and text-video
similarity.

The check-clip task (`tasks/clip.py`) and the `clipmill check` command (cli/check.py) both call `judge_frames`,
so a clip judged by hand gets exactly the verdict the pipeline would give it. Models come in
as arguments (loaded once by the caller); no Prefect here.
"""
from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import PIL.Image

from clipmill.qa.consistency import sample_indices, subject_drift_check, text_video_check
from clipmill.qa.interaction import interaction_checks
from clipmill.qa.presence import not_checkable_checks, open_vocabulary_checks
from clipmill.qa.sharpness import sharpness_checks
from clipmill.qa.stitch import seam_checks
from clipmill.qa.temporal import camera_path, cut_check, temporal_checks
from clipmill.qa.text_in_frame import (allowed_text_from_prompt, read_corners_while_a_watermark_can_show, text_checks,
                                       text_frame_indices)
from clipmill.qa.types import Check, CheckKind, Detection, Expectations, Verdict

if TYPE_CHECKING:
    from clipmill.qa.settings import QASettings


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    examined_frames: list[int]
    # How many detections of each label, not the detections themselves: a judgement crosses
    # Prefect's task boundary, whose cost grows with the object (a random-weight detector's
    # 30,000 boxes a clip took 1.2 s), and nothing downstream reads single boxes.
    detected: dict[str, int] = field(default_factory=dict)
    random_weights: dict[str, bool] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of each part of QA

    def to_dict(self) -> dict:
        return {
            **self.verdict.to_dict(),
            "reasons": self.verdict.reasons,
            "detections": sum(self.detected.values()),
            "detected_labels": sorted(self.detected),
            "examined_frames": len(self.examined_frames),
            "random_weights": dict(self.random_weights),
            "not_checkable": self.not_checkable,
            "seconds": dict(self.seconds),
        }

    def named_reasons(self) -> list[dict]:
        """Each failure as {"check": one of CHECK_NAMES, "message": why}."""
        return [{"check": check_name(c), "message": c.reason} for c in self.verdict.failures]

    def metrics_by_check(self) -> dict[str, list[dict]]:
        """Every measured metric, grouped by the check it belongs to."""
        grouped: dict[str, list[dict]] = {}
        for c in self.verdict.checks:
            grouped.setdefault(check_name(c), []).append(
                {"metric": c.metric, "value": c.value, "threshold": c.threshold, "passed": c.passed})
        return grouped

    @property
    def not_checkable(self) -> list[str]:
        """What the plan expects that no detector here could check ("perfume: not checkable ...")."""
        return [c.reason for c in self.verdict.checks if c.kind == CheckKind.UNCHECKED]


# The checks a verdict names (`clipmill check --json` reasons), each a family of measured metrics.
CHECK_NAMES = ("presence", "count", "vanish", "interaction", "frozen", "black", "flicker", "cut", "text", "blur",
               "gate", "consistency")
_CHECK_BY_KIND: dict[CheckKind, str] = {
    CheckKind.PRESENCE: "presence", CheckKind.FORBIDDEN: "presence", CheckKind.UNCHECKED: "presence",
    CheckKind.COUNT: "count", CheckKind.VANISH: "vanish", CheckKind.INTERACTION: "interaction",
    CheckKind.BLACK: "black", CheckKind.FROZEN: "frozen", CheckKind.MOTION: "frozen", CheckKind.FLICKER: "flicker",
    CheckKind.CUT: "cut", CheckKind.SEAM: "cut",
    CheckKind.BLUR: "blur", CheckKind.BLUR_LEVEL: "blur", CheckKind.BLUR_REFERENCE: "blur", CheckKind.NOISE: "blur",
    CheckKind.BLOCKING: "blur",
    CheckKind.TEXT_CHANGE: "text", CheckKind.TEXT_CAPTION: "text", CheckKind.TEXT_WATERMARK: "text",
    CheckKind.TEXT_GARBLED: "text",
    CheckKind.GATE: "gate", CheckKind.SUBJECT_DRIFT: "consistency", CheckKind.TEXT_VIDEO: "consistency",
}


def check_name(check: Check) -> str:
    """Which of `CHECK_NAMES` a check belongs to (a count of people -> "count")."""
    return _CHECK_BY_KIND[check.kind]


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
    open_vocab_detector=None,
    open_vocab_missing: str | None = None,
    text_reader=None,
    reference_image: np.ndarray | None = None,
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
        open_vocab_detector: A `models.open_vocab.OpenVocabDetector` for the plan's subjects
            outside COCO (`expectations.open_vocabulary`); None: they are recorded as not
            checkable by the detector.
        open_vocab_missing: Why no open-vocabulary detector could be used although one was
            configured (recorded with the subjects it would have checked).
        text_reader: A `models.ocr.TextReader`; None skips the text-in-frame check. Text the
            prompt quotes ("a mug printed with 'GOOD MORNING'") is allowed.
        reference_image: The job's prepared input image, (H, W, 3) uint8 RGB: frames far
            blurrier, noisier or blockier than it fail.
    """
    laps = _Laps()
    random_weights: dict[str, bool] = {}
    # 1. temporal health, cuts, seams, blur and damage: pixels only
    checks: list[Check] = list(temporal_checks(
        frames, max_black_fraction=qa.max_black_fraction, max_frozen_fraction=qa.max_frozen_fraction,
        max_flicker=qa.max_flicker, min_motion=qa.min_motion, expects_motion=expects_motion))
    if seams:
        checks += seam_checks(frames, list(seams), max_seam_ratio=qa.max_seam_ratio)
    image_quality = [cut_check(frames, max_cut_ratio=qa.max_cut_ratio)]
    image_quality += sharpness_checks(frames, reference_image=reference_image,
                                      min_sharpness_ratio=qa.min_sharpness_ratio, min_sharpness=qa.min_sharpness,
                                      max_noise=qa.max_noise, max_blockiness=qa.max_blockiness)

    laps.lap("pixels")

    # 2. text in the frame: captions, watermarks, garbled or mutating text
    if text_reader is not None and qa.check_text:
        read_at = text_frame_indices(len(frames), qa.text_samples)
        whole_frames = text_reader.read(frames, read_at)
        image_quality += text_checks(whole_frames, read_at, frame_size=frames.shape[1:3],
                                     corner_boxes=read_corners_while_a_watermark_can_show(text_reader, frames, read_at,
                                                                                          whole_frames),
                                     allowed_text=allowed_text_from_prompt(text) if text else [])
        random_weights["ocr"] = False
    checks += image_quality if qa.enforce_image_quality is not False else [informational(c) for c in image_quality]

    laps.lap("text")

    # 3. detections and tracks against the shot plan
    examined: list[int] = []
    detections: list[Detection] = []
    if detector is not None:
        examined, detections = detector.detect(frames, stride=qa.detect_stride, conf=qa.detect_confidence)
        # Only a subject's presence and vanish checks read the camera's path: none, no path.
        subjects = bool(expectations.classes or expectations.at_least)
        found = interaction_checks(detections, examined, expectations, min_presence=qa.min_presence,
                                   max_gap_frames=qa.max_gap_frames, min_approach=qa.min_approach,
                                   max_contact_gap=qa.max_contact_gap, frame_size=frames.shape[1:3],
                                   camera_path=camera_path(frames, examined) if subjects else None)
        random_weights["detector"] = detector.random_weights
    else:
        found = []
    open_found, open_detections = _open_vocabulary(frames, qa, expectations, detector, (examined, detections),
                                                   open_vocab_detector, random_weights, open_vocab_missing)
    found += open_found
    detections = detections + open_detections
    checks += found if qa.enforce_expectations else [c if c.kind == CheckKind.UNCHECKED else informational(c)
                                                    for c in found]

    laps.lap("detections")

    # 4. CLIP: one batch of sampled frames serves drift and text-video similarity
    if scorer is not None:
        sampled = sample_indices(len(frames), qa.consistency_samples)
        embeddings = scorer.image_embeddings([PIL.Image.fromarray(np.ascontiguousarray(frames[i])) for i in sampled])
        checks.append(subject_drift_check(embeddings, sampled, qa.min_subject_similarity))
        if text:
            checks.append(text_video_check(embeddings, scorer.text_embedding(text), sampled, qa.min_text_video_cosine,
                                           model_name=scorer.model_name))
        random_weights["clip"] = scorer.random_weights

    laps.lap("clip")
    detected = dict(Counter(d.label for d in detections))
    return Judgement(Verdict(checks=tuple(checks)), examined, detected, random_weights, laps.seconds)


class _Laps:
    """Seconds of consecutive parts of QA: where a slow verdict spent its time."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, part: str) -> None:
        now = time.perf_counter()
        self.seconds[part] = round(now - self._last, 3)
        self._last = now


def _open_vocabulary(frames: np.ndarray, qa: QASettings, expectations: Expectations, detector,
                     coco: tuple[list[int], list[Detection]], open_vocab_detector,
                     random_weights: dict[str, bool], missing: str | None) -> tuple[list[Check], list[Detection]]:
    """Checks of the plan's subjects outside COCO: by the open-vocabulary detector when there is
    one, by the COCO detector for a name it happens to know, else recorded as not checkable."""
    names = list(expectations.open_vocabulary)
    if not names:
        return [], []
    known = set(detector.class_names.values()) if detector is not None else set()
    by_name = [n for n in names if n in known]
    rest = [n for n in names if n not in known]
    checks: list[Check] = []
    detections: list[Detection] = []
    if by_name:  # the COCO detector's own detections, already made
        checks += open_vocabulary_checks(coco[1], coco[0], by_name, min_presence=qa.min_presence,
                                         max_gap_frames=qa.max_gap_frames)
    if rest and open_vocab_detector is not None:
        examined, found = open_vocab_detector.detect_names(frames, rest, stride=qa.detect_stride,
                                                           conf=qa.detect_confidence)
        detections += found
        checks += open_vocabulary_checks(found, examined, rest, min_presence=qa.min_presence,
                                         max_gap_frames=qa.max_gap_frames)
        random_weights["open_vocab_detector"] = open_vocab_detector.random_weights
    elif rest:
        why = ("no detector ran" if detector is None else
               f"its classes are COCO's; the open-vocabulary detector is unusable: {missing}" if missing else
               "its classes are COCO's; no open-vocabulary detector (models.open_vocab_detector) is configured")
        checks += not_checkable_checks(rest, why)
    return checks, detections
