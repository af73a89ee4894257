"""Input gate: is the prepared image about what the prompt says?

The score is the cosine similarity between CLIP's image and text embeddings.
Reference points for the OpenAI ViT-B-32 model (cosine, not CLIPScore):

- LAION-400M kept pairs with cosine >= 0.3, chosen by human inspection as a
  conservative value (0.28-0.29 "also seemed okay").
- LAION-5B (English subset) lowered that to 0.28.
- DataComp filters by rank rather than a fixed value (e.g. keep the top 30% of the
  pool by ViT-B-32 or ViT-L-14 score); its LAION-style baseline uses B-32 at 0.28.

Those thresholds judge web alt-text; a generation prompt is longer and describes
motion a still image cannot show, so a gate for prompts sits somewhat lower
(around 0.25) and should be tuned on the batch at hand. Cosines from other CLIP
models are on different scales, so the model is part of every reason.

CLIPScore (Hessel et al., 2021) rescales the cosine as 2.5 * max(cos, 0), which
spreads typical values over roughly 0-1; `clip_score` computes it for reports.
"""
from __future__ import annotations

from qa.types import Check

CLIPSCORE_WEIGHT = 2.5


def clip_score(cosine: float) -> float:
    """CLIPScore = 2.5 * max(cosine, 0)."""
    return CLIPSCORE_WEIGHT * max(float(cosine), 0.0)


def gate_check(score: float, threshold: float, *, model_name: str = "ViT-B-32") -> Check:
    """Pass when the image-text cosine `score` reaches `threshold`."""
    score = float(score)
    passed = score >= threshold
    if passed:
        reason = f"image-text similarity {score:.2f} meets the gate threshold {threshold:.2f} ({model_name})"
    else:
        reason = f"image-text similarity {score:.2f} is below the gate threshold {threshold:.2f} ({model_name})"
    return Check("gate", "clip_cosine", score, float(threshold), passed, reason)
