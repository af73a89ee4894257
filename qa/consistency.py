"""Consistency from CLIP embeddings: does the subject stay itself, and does the clip show the prompt?

Pure functions over arrays. The caller embeds a few frames spread over the clip (and the
prompt) with a CLIP model and passes the embeddings; nothing here loads a model.

- Subject drift: the cosine between the first sampled frame's image embedding and each
  later one. A subject that slowly turns into something else (a dog into a fox, one face
  into another) lowers it steadily, which consecutive-frame similarity alone would miss; the
  biggest consecutive drop is reported too, because it points at the moment of a sudden
  change. Camera motion and lighting lower it a little as well, so a threshold is a choice
  for the content at hand: there is no published value for CLIP image embeddings.
- Text-video similarity: the mean cosine between the prompt's embedding and the frames'
  (CLIPSIM in the text-to-video literature), on the same scale as the input gate.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clipmill.qa.types import Check, CheckKind

STAGE = "consistency"


def unit_rows(embeddings: np.ndarray, *, name: str = "embeddings") -> np.ndarray:
    """`embeddings` as a float64 (N, D) array of unit rows; raises ValueError on bad input."""
    array = np.asarray(embeddings, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} must be shaped (N, D) with N, D >= 1, got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} hold values that are not finite")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ValueError(f"{name} hold an all-zero row, which has no direction")
    return array / norms


def similarity_to_first(embeddings: np.ndarray) -> np.ndarray:
    """Cosine of every row with the first row, (N,); the first value is 1."""
    rows = unit_rows(embeddings)
    return rows @ rows[0]


def consecutive_similarity(embeddings: np.ndarray) -> np.ndarray:
    """Cosine of each row with the row before it, (N-1,)."""
    rows = unit_rows(embeddings)
    return np.einsum("ij,ij->i", rows[1:], rows[:-1])


def _frame_numbers(frame_indices: Sequence[int], rows: np.ndarray) -> list[int]:
    """The clip frames the rows were embedded from, one per row (for the reasons)."""
    frames = [int(f) for f in frame_indices]
    if len(frames) != len(rows):
        raise ValueError(f"{len(rows)} embeddings but {len(frames)} frame indices")
    return frames


def _at_least(kind: CheckKind, value: float, minimum: float | None, detail: str, *,
              good: str, bad: str, unjudged: str) -> Check:
    """`value` judged against `minimum`, or only recorded (and said so) when `minimum` is None."""
    if minimum is None:
        return Check(STAGE, kind, value, None, True, f"{unjudged}: {detail}")
    passed = value >= minimum
    return Check(STAGE, kind, value, float(minimum), passed,
                 f"{good if passed else bad}: {detail} ({'>=' if passed else '<'} {minimum:.3f})")


def subject_drift_check(embeddings: np.ndarray, frame_indices: Sequence[int], min_similarity: float | None) -> Check:
    """Metric "subject_similarity": the lowest cosine between the first sampled frame and a later one.

    `frame_indices` are the clip frames the rows were embedded from, for the reason.
    `min_similarity=None` records the value without judging it.
    """
    rows = unit_rows(embeddings)
    frames = _frame_numbers(frame_indices, rows)
    if len(rows) < 2:
        return Check(STAGE, CheckKind.SUBJECT_DRIFT, 1.0, min_similarity, True,
                     "one sampled frame: nothing to compare the subject with")
    to_first, steps = similarity_to_first(rows), consecutive_similarity(rows)
    worst = int(np.argmin(to_first[1:])) + 1
    jump = int(np.argmin(steps)) + 1
    lowest = float(to_first[worst])
    detail = (f"frame {frames[worst]} looks least like frame {frames[0]} (CLIP image cosine {lowest:.3f}); "
              f"largest step between sampled frames {frames[jump - 1]} -> {frames[jump]} (cosine {steps[jump - 1]:.3f})")
    return _at_least(CheckKind.SUBJECT_DRIFT, lowest, min_similarity, detail, good="subject stays consistent",
                     bad="subject drifts", unjudged="subject drift not judged")


def text_video_check(image_embeddings: np.ndarray, text_embedding: np.ndarray, frame_indices: Sequence[int],
                     min_cosine: float | None, *, model_name: str = "CLIP") -> Check:
    """Metric "text_video_clip_cosine": the mean cosine between the prompt and the sampled frames."""
    rows = unit_rows(image_embeddings, name="image embeddings")
    text = unit_rows(np.asarray(text_embedding).reshape(1, -1), name="text embedding")[0]
    if text.shape[0] != rows.shape[1]:
        raise ValueError(f"text embedding has {text.shape[0]} dimensions, image embeddings {rows.shape[1]}")
    frames = _frame_numbers(frame_indices, rows)
    cosines = rows @ text
    mean = float(cosines.mean())
    weakest = int(np.argmin(cosines))
    detail = (f"mean {model_name} cosine between the prompt and {len(rows)} sampled frames {mean:.3f}; "
              f"weakest frame {frames[weakest]} ({cosines[weakest]:.3f})")
    return _at_least(CheckKind.TEXT_VIDEO, mean, min_cosine, detail, good="clip matches the prompt",
                     bad="clip does not match the prompt", unjudged="text-video match not judged")


def sample_indices(num_frames: int, samples: int) -> list[int]:
    """Up to `samples` frame indices spread evenly from the first frame to the last."""
    if num_frames < 1:
        raise ValueError("a clip needs at least one frame")
    if samples < 1:
        raise ValueError(f"samples={samples} must be at least 1")
    return np.unique(np.linspace(0, num_frames - 1, num=min(samples, num_frames)).round().astype(int)).tolist()
