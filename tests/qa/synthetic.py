"""Small synthetic and real clips for the qa tests."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def textured_clip(n: int = 24, h: int = 96, w: int = 160, *, dx: int = 3, dy: int = 2, seed: int = 0) -> np.ndarray:
    """A blurred random texture panning by (dx, dy) pixels a frame."""
    rng = np.random.default_rng(seed)
    canvas = rng.integers(40, 216, size=(h + abs(dy) * n, w + abs(dx) * n, 3)).astype(np.uint8)
    canvas = cv2.GaussianBlur(canvas, (0, 0), 1.5)
    return np.stack([canvas[abs(dy) * t: abs(dy) * t + h, abs(dx) * t: abs(dx) * t + w] for t in range(n)])


def with_brightness_flicker(frames: np.ndarray, *, global_jitter=0.08, patch_jitter=0.10, seed: int = 1) -> np.ndarray:
    """Per-frame random global gain times a random Gaussian patch of extra gain."""
    rng = np.random.default_rng(seed)
    n, h, w, _ = frames.shape
    ys, xs = np.mgrid[0:h, 0:w]
    out = []
    for frame in frames:
        gain = 1 + rng.uniform(-global_jitter, global_jitter)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        patch = 1 + rng.uniform(-patch_jitter, patch_jitter) * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * (w / 5) ** 2))
        out.append(np.clip(frame * (gain * patch)[..., None], 0, 255).round().astype(np.uint8))
    return np.stack(out)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def real_clip(name: str = "sam2_01_dog.mp4", *, n: int = 30, size=(320, 180), start: int = 0) -> np.ndarray:
    """`n` frames of a shared test video, RGB, downscaled; skips when the data is absent."""
    path = DATA / "video" / name
    if not path.exists():
        pytest.skip(f"real footage not available: {path} is missing")
    cap = cv2.VideoCapture(str(path))
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    frames = []
    while len(frames) < n:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), size, interpolation=cv2.INTER_AREA))
    cap.release()
    if len(frames) < n:
        pytest.skip(f"could only read {len(frames)} of {n} frames from {path}")
    return np.stack(frames)


def shifted(frames: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """The clip with its picture moved by (dx, dy) pixels, borders reflected."""
    h, w = frames.shape[1:3]
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return np.stack([cv2.warpAffine(f, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101) for f in frames])


def moving_square(n: int = 20, h: int = 72, w: int = 120, *, side: int = 24, speed: int = 3) -> np.ndarray:
    """A bright sharp-edged square sliding right over a smooth grey gradient."""
    base = np.tile(np.linspace(60, 120, w, dtype=np.float32), (h, 1))
    frames = []
    for t in range(n):
        frame = base.copy()
        x0, y0 = 10 + speed * t, (h - side) // 2
        frame[y0:y0 + side, x0:x0 + side] = 220
        frames.append(np.repeat(frame[..., None], 3, axis=2).round().astype(np.uint8))
    return np.stack(frames)


def edge_strength(frames: np.ndarray) -> float:
    """Mean of the strongest 1% horizontal luma steps per frame: how sharp the sharpest edges are."""
    values = []
    for f in frames:
        grey = cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32)
        step = np.abs(np.diff(grey, axis=1)).ravel()
        values.append(np.sort(step)[-max(1, step.size // 100):].mean())
    return float(np.mean(values))
