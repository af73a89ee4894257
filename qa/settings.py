"""QA's thresholds: what the checks in qa/ hold a clip to. A batch spec's `qa:` section is one
of these (clipmill/spec.py composes it), and `clipmill check` builds one from its options."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class QASettings(BaseModel):
    """Thresholds for the input gate and the clip checks.

    Defaults are for real (trained) models; the demo spec loosens them for random weights.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    gate_threshold: float | None = Field(
        None, ge=-1.0, le=1.0,
        description="min CLIP cosine between image and prompt; None: the model's default in qa.gate.GATE_DEFAULTS "
                    "(ViT-B-32: 0.25, a little below LAION's 0.28 because prompts describe motion a photo cannot "
                    "show); a model without a default gates nothing (recorded as informational)")
    max_black_fraction: float = Field(0.1, ge=0.0, le=1.0)
    max_frozen_fraction: float = Field(0.3, ge=0.0, le=1.0)
    max_flicker: float = Field(6.0, ge=0.0, description="brightness flicker, luma levels (0-255)")
    min_motion: float = Field(0.2, ge=0.0, description="mean absolute frame difference, luma levels; enforced only "
                                                        "when the shot plan asks for action")
    max_seam_ratio: float = Field(3.0, gt=0.0, description="difference across a seam / median difference inside segments")
    min_presence: float = Field(0.5, ge=0.0, le=1.0, description="fraction of checked frames that must show each expected subject")
    max_gap_frames: int = Field(8, ge=0, description="clip frames a subject may be missed or miscounted before it "
                                                     "counts as vanished or changed (detectors blink; people pass behind things)")
    min_approach: float = Field(0.25, ge=0.0, le=1.0, description="'approach': fraction by which the subjects' distance "
                                                                 "(in box sizes) shrinks from the first to the last third")
    max_contact_gap: float = Field(0.05, ge=0.0, description="'contact': largest gap between the boxes, in box sizes, "
                                                             "that still counts as touching")
    enforce_expectations: bool = Field(True, description="false: detection checks are recorded but cannot fail a clip")
    detect_stride: int = Field(2, ge=1, description="run the detector on every n-th frame")
    detect_confidence: float = Field(0.25, gt=0.0, lt=1.0)
    consistency_samples: int = Field(8, ge=2, le=64, description="frames, evenly spaced, that CLIP embeds for the "
                                                                 "drift and text-video checks")
    min_subject_similarity: float | None = Field(
        None, ge=-1.0, le=1.0,
        description="min CLIP image cosine between the first sampled frame and any later one (subject drift); "
                    "None: measured and reported, never fails a clip (no published threshold for CLIP embeddings)")
    min_text_video_cosine: float | None = Field(
        None, ge=-1.0, le=1.0,
        description="min mean CLIP cosine between the prompt and the sampled frames; None: measured and reported "
                    "only (same scale as the gate: with ViT-B-32, the gate's 0.25 is a reasonable start)")
    max_cut_ratio: float = Field(4.5, gt=0.0, description="a hard cut: a frame change this many times the clip's "
                                                           "typical one (whole real clips <= 2.7; splices 6.5-41)")
    min_sharpness_ratio: float = Field(0.6, ge=0.0, le=1.0, description="a frame fails below this share of the "
                                                                       "sharpness of the clip's best frames or the input image")
    min_sharpness: float = Field(0.33, ge=0.0, le=1.0, description="the clip fails when even its best frames are "
                                                                  "below this sharpness (0..1): blurred throughout")
    max_noise: float = Field(4.0, gt=0.0, description="grain in the flattest parts of a frame, luma levels")
    max_blockiness: float = Field(3.0, gt=0.0, description="compression blocking on the 8x8 grid (1 = none)")
    enforce_image_quality: bool | None = Field(
        None, description="false: blur, noise, blocking, cut and text-in-frame checks are measured and recorded but "
                          "cannot fail a clip; None: enforced, except on the 'tiny' backend, whose random weights "
                          "make noise that no image-quality check can pass")
    check_text: bool = Field(True, description="read text in sampled frames (OCR): captions, watermarks and "
                                               "garbled or changing text the prompt does not ask for fail the clip")
    text_samples: int = Field(4, ge=2, le=32, description="frames, evenly spaced, that OCR reads")
    deflicker_strength: float = Field(1.0, ge=0.0, le=4.0)
