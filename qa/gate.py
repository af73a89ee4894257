"""Input gate: is the prepared image about what the prompt says?

The score is the cosine similarity between CLIP's unit-length image and text
embeddings, in [-1, 1]. Unrelated pairs score near 0.1-0.2 with the OpenAI
ViT-B-32 model, matching ones around 0.3; it is a cosine, not a probability.

Reference points for the OpenAI ViT-B-32 model (cosine, not CLIPScore):

- LAION-400M kept pairs with cosine >= 0.3, chosen by human inspection as a
  conservative value (0.28-0.29 "also seemed okay").
- LAION-5B (English subset) lowered that to 0.28.
- DataComp filters by rank rather than a fixed value (e.g. keep the top 30% of the
  pool by ViT-B-32 or ViT-L-14 score); its LAION-style baseline uses B-32 at 0.28.

Those thresholds judge web alt-text; a generation prompt is longer and describes
motion a still image cannot show, so clipmill's default for ViT-B-32 sits somewhat
lower, at 0.25. That value is our judgement, not a published one: measure your own
with `suggest_threshold` on labelled pairs (`clipmill calibrate-gate`). Cosines from
other CLIP models (and other weights of the same architecture) are on other scales,
so the model is part of every reason, and a model without a default gates nothing
until a threshold is configured.

CLIPScore (Hessel et al., 2021) rescales the cosine as 2.5 * max(cos, 0), which
spreads typical values over roughly 0-1; `clip_score` computes it for reports.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from clipmill.qa.types import Check, CheckKind

CLIPSCORE_WEIGHT = 2.5

# open_clip architecture -> gate threshold (cosine). The published values above were
# measured with OpenAI's weights, which open_clip serves under both names.
GATE_DEFAULTS: dict[str, float] = {
    "ViT-B-32": 0.25,
    "ViT-B-32-quickgelu": 0.25,
}


def clip_score(cosine: float) -> float:
    """CLIPScore = 2.5 * max(cosine, 0)."""
    return CLIPSCORE_WEIGHT * max(float(cosine), 0.0)


def default_gate_threshold(model_name: str) -> float | None:
    """The configured default for `model_name`, or None when there is none."""
    return GATE_DEFAULTS.get(model_name)


def gate_check(score: float, threshold: float | None, *, model_name: str = "ViT-B-32") -> Check:
    """Pass when the image-text cosine `score` reaches `threshold`.

    `threshold=None` takes the model's entry in `GATE_DEFAULTS`; a model without one is
    measured and reported but not gated (the check's threshold is None).
    """
    score = float(score)
    if threshold is None:
        threshold = default_gate_threshold(model_name)
        if threshold is None:
            return Check("gate", CheckKind.GATE, score, None, True,
                         f"image-text similarity {score:.2f}, not gated: {model_name} has no default gate threshold; "
                         f"set qa.gate_threshold (measure one with `clipmill calibrate-gate`)")
    passed = score >= threshold
    if passed:
        reason = f"image-text similarity {score:.2f} meets the gate threshold {threshold:.2f} ({model_name})"
    else:
        reason = f"image-text similarity {score:.2f} is below the gate threshold {threshold:.2f} ({model_name})"
    return Check("gate", CheckKind.GATE, score, float(threshold), passed, reason)


def suggest_threshold(good_scores: Sequence[float], bad_scores: Sequence[float]) -> tuple[float, dict]:
    """The gate threshold that best separates pairs a person judged good from bad ones.

    A pair passes when its score is >= the threshold. The threshold maximises balanced
    accuracy, (true-positive rate + true-negative rate) / 2, which is Youden's J / 2 + 1/2,
    so a calibration set with many more good pairs than bad ones does not pull it down.
    Candidate cut-offs lie halfway between neighbouring distinct scores (plus one below
    and one above all of them); when several neighbouring cut-offs tie, the threshold is
    the midpoint of the tied run, so it sits in the middle of the gap rather than against
    one side of it. Separate tied runs: the widest, then the lowest, which errs towards
    letting pairs through (a rejection costs a job, a false pass only GPU time).

    Returns:
        (threshold, stats) with stats: balanced_accuracy, youden_j, true_positive_rate,
        true_negative_rate, auc (probability that a random good pair outscores a random
        bad one), good/bad counts and means.

    Raises:
        ValueError: either list is empty or holds a value that is not a finite number.
    """
    good = _finite_scores(good_scores, "good_scores")
    bad = _finite_scores(bad_scores, "bad_scores")
    values = np.unique(np.concatenate([good, bad]))
    gap = float(np.min(np.diff(values))) if len(values) > 1 else 0.02
    cuts = np.concatenate([[values[0] - gap / 2], (values[:-1] + values[1:]) / 2, [values[-1] + gap / 2]])
    tpr = np.array([(good >= c).mean() for c in cuts])
    tnr = np.array([(bad < c).mean() for c in cuts])
    balanced = (tpr + tnr) / 2
    best = np.isclose(balanced, balanced.max(), rtol=0, atol=1e-12)

    runs, start = [], None
    for i, flag in enumerate([*best, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i - 1))
            start = None
    first, last = max(runs, key=lambda r: cuts[r[1]] - cuts[r[0]])
    threshold = float((cuts[first] + cuts[last]) / 2)

    tp_rate, tn_rate = float((good >= threshold).mean()), float((bad < threshold).mean())
    wins = (good[:, None] > bad[None, :]).mean() + 0.5 * (good[:, None] == bad[None, :]).mean()
    stats = {
        "balanced_accuracy": (tp_rate + tn_rate) / 2,
        "youden_j": tp_rate + tn_rate - 1,
        "true_positive_rate": tp_rate,
        "true_negative_rate": tn_rate,
        "auc": float(wins),
        "good": int(good.size),
        "bad": int(bad.size),
        "good_mean": float(good.mean()),
        "bad_mean": float(bad.mean()),
    }
    return threshold, stats


def _finite_scores(scores: Sequence[float], name: str) -> np.ndarray:
    array = np.asarray(list(scores), dtype=np.float64).ravel()
    if array.size == 0:
        raise ValueError(f"{name} is empty: calibration needs at least one good and one bad pair")
    if not all(math.isfinite(v) for v in array):
        raise ValueError(f"{name} holds a value that is not a finite number")
    return array
