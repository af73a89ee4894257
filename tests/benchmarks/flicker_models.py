"""Flicker of several kinds, added to clean footage with a seeded generator.

Each model maps (clean clip, level, seed) to a flickering clip. `level` scales the
amplitudes; 1 is a flicker a viewer notices at once, 4 is several times the strongest
flicker of the first benchmark (gain sd 9%, gamma sd 12%). The kinds, as the issue asks:

  global       per-frame gain and gamma, independent from frame to frame
  per_channel  per-frame gain of each channel (white-balance flicker)
  local_drift  three soft patches of light that drift across the frame, their
               brightness jittering from frame to frame
  banding      horizontal bands (a rolling-shutter beat against mains light) that
               roll down the frame, with a jittering amplitude
  correlated   gain, colour and a soft patch following an AR(1) process (rho 0.7):
               flicker that stays for several frames, not independent noise
  decode       the first benchmark's model (`quality_measures.add_flicker`): gain,
               gamma, colour and two random patches, independent per frame

All act in linear-ish 8-bit values the way a camera or decoder would: a gamma on
x/255, then a multiplicative field, rounded and clipped to uint8.
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from tests.benchmarks.quality_measures import add_flicker

_LEVELS = np.arange(256, dtype=np.float32) / 255.0


def _apply(clean: np.ndarray, gammas, fields) -> np.ndarray:
    """frame ** gamma_t times field_t (H, W, 3) or (3,) or scalar."""
    out = np.empty_like(clean)
    for t, frame in enumerate(clean):
        toned = cv2.LUT(frame, (255.0 * _LEVELS ** float(gammas[t])).astype(np.float32))
        out[t] = np.clip(toned * np.asarray(fields[t], np.float32) + 0.5, 0, 255).astype(np.uint8)
    return out


def _coords(clean: np.ndarray):
    h, w = clean.shape[1:3]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return h, w, xs, ys


def global_flicker(clean: np.ndarray, level: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = len(clean)
    gains = np.exp(rng.normal(0, 0.05 * level, n))
    gammas = np.exp(rng.normal(0, 0.05 * level, n))
    return _apply(clean, gammas, gains)


def per_channel_flicker(clean: np.ndarray, level: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = len(clean)
    gains = np.exp(rng.normal(0, 0.04 * level, (n, 3)))
    return _apply(clean, np.ones(n), gains)


def local_drift_flicker(clean: np.ndarray, level: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = len(clean)
    h, w, xs, ys = _coords(clean)
    patches = []
    for _ in range(3):
        start = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        velocity = rng.normal(0, 0.006, 2) * w  # about 5 px a frame at 832 wide
        radius = rng.uniform(0.12, 0.3) * w
        patches.append((start, velocity, radius))
    fields = []
    for t in range(n):
        log_field = np.zeros((h, w), np.float32)
        for start, velocity, radius in patches:
            cx, cy = start + t * velocity
            amplitude = rng.normal(0, 0.08 * level)
            log_field += amplitude * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2))
        fields.append(np.exp(log_field)[..., None])
    return _apply(clean, np.ones(n), fields)


def banding_flicker(clean: np.ndarray, level: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = len(clean)
    h, w, xs, ys = _coords(clean)
    period = rng.uniform(0.3, 0.7) * h
    roll = rng.uniform(0.15, 0.35) * period  # bands move a fifth of a period a frame
    tilt = rng.uniform(-0.1, 0.1)
    phase = rng.uniform(0, 2 * np.pi)
    fields = []
    for t in range(n):
        amplitude = 0.05 * level * (1.0 + 0.5 * rng.normal())
        wave = np.sin(2 * np.pi * (ys + tilt * xs + t * roll) / period + phase)
        fields.append(np.exp(amplitude * wave).astype(np.float32)[..., None])
    return _apply(clean, np.ones(n), fields)


def correlated_flicker(clean: np.ndarray, level: float, seed: int, rho: float = 0.7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = len(clean)
    h, w, xs, ys = _coords(clean)
    innovation = np.sqrt(1 - rho**2)
    state = rng.normal(0, 1, 6)  # log gain, log gamma, 3 log colour gains, patch amplitude
    scale = np.array([0.05, 0.04, 0.02, 0.02, 0.02, 0.08]) * level
    cx, cy, radius = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h, rng.uniform(0.15, 0.3) * w
    patch = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2))
    gammas, fields = [], []
    for _ in range(n):
        state = rho * state + innovation * rng.normal(0, 1, 6)
        g = state * scale
        gammas.append(np.exp(g[1]))
        log_field = g[0] + g[5] * patch
        fields.append(np.exp(log_field)[..., None] * np.exp(g[2:5]).astype(np.float32))
    return _apply(clean, gammas, fields)


FLICKER_MODELS: dict[str, Callable[[np.ndarray, float, int], np.ndarray]] = {
    "global": global_flicker,
    "per_channel": per_channel_flicker,
    "local_drift": local_drift_flicker,
    "banding": banding_flicker,
    "correlated": correlated_flicker,
    "decode": add_flicker,
}
