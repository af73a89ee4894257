"""Input checks and luma conversion shared by the frame-based judges."""
from __future__ import annotations

import cv2
import numpy as np


def as_clip(frames: np.ndarray, *, name: str = "frames") -> np.ndarray:
    """Return `frames` as a C-contiguous (F, H, W, 3) uint8 array or raise ValueError."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"{name} must be shaped (F, H, W, 3), got {frames.shape}")
    if frames.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8, got {frames.dtype}")
    return np.ascontiguousarray(frames)


def luma(frames: np.ndarray) -> np.ndarray:
    """BT.601 luma (what cv2 calls grey), (F, H, W) uint8."""
    out = np.empty(frames.shape[:3], dtype=np.uint8)
    for i, frame in enumerate(frames):
        cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY, dst=out[i])
    return out


def mean_abs_diffs(lumas: np.ndarray) -> np.ndarray:
    """Mean absolute luma difference of each consecutive pair, (F-1,) float."""
    return np.array(
        [cv2.absdiff(lumas[t], lumas[t - 1]).mean() for t in range(1, len(lumas))],
        dtype=np.float64,
    )


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True values, stop exclusive."""
    padded = np.concatenate(([False], np.asarray(mask, dtype=bool), [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))
