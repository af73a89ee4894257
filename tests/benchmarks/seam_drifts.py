"""What a chained image-to-video generation does to the segment after a seam, by kind and size.

Segment k+1 starts from segment k's last frame, but the model re-renders it: the
colours drift and the picture comes back slightly moved. Each drift below is applied to
the whole later segment (it is the same re-rendering throughout), with a size scale
`size` (1 = what a continuation typically shows, 2-3 = a bad one). All are seeded.

  brightness     gain and offset shared by the channels
  white_balance  a gain per channel
  gamma          a tone curve
  shift          the picture moved by a few pixels
  zoom           scaled about the centre by under 2%
  rotation       turned by under a degree
  combined       all of the above at once (what the first benchmark did, and more)
"""
from __future__ import annotations

import cv2
import numpy as np

DRIFT_KINDS = ("brightness", "white_balance", "gamma", "shift", "zoom", "rotation", "combined")
_LEVELS = np.arange(256, dtype=np.float32) / 255.0


def _signed(rng: np.random.Generator, low: float, high: float, size=None):
    return rng.uniform(low, high, size) * rng.choice([-1.0, 1.0], size)


def drift_parameters(kind: str, size: float, rng: np.random.Generator) -> dict:
    p = {"gain": np.ones(3), "offset": np.zeros(3), "gamma": 1.0, "shift": np.zeros(2), "zoom": 1.0, "angle": 0.0}
    every = kind == "combined"
    if kind == "brightness" or every:
        p["gain"] = p["gain"] * np.exp(_signed(rng, 0.02, 0.05) * size)
        p["offset"] = p["offset"] + _signed(rng, 1.0, 4.0) * size
    if kind == "white_balance" or every:
        p["gain"] = p["gain"] * np.exp(_signed(rng, 0.01, 0.04, 3) * size)
    if kind == "gamma" or every:
        p["gamma"] = float(np.exp(_signed(rng, 0.02, 0.06) * size))
    if kind == "shift" or every:
        angle, distance = rng.uniform(0, 2 * np.pi), rng.uniform(1.0, 2.5) * size
        p["shift"] = distance * np.array([np.cos(angle), np.sin(angle)])
    if kind == "zoom" or every:
        p["zoom"] = float(1.0 + _signed(rng, 0.002, 0.006) * size)
    if kind == "rotation" or every:
        p["angle"] = float(_signed(rng, 0.1, 0.3) * size)
    return p


def apply_drift(segment: np.ndarray, p: dict) -> np.ndarray:
    h, w = segment.shape[1:3]
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), p["angle"], p["zoom"])
    matrix[:, 2] += p["shift"]
    moves = not np.allclose(matrix, [[1, 0, 0], [0, 1, 0]])
    table = (255.0 * _LEVELS ** p["gamma"]).astype(np.float32)
    out = np.empty_like(segment)
    for i, frame in enumerate(segment):
        if moves:
            frame = cv2.warpAffine(frame, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
        toned = cv2.LUT(frame, table)
        out[i] = np.clip(toned * p["gain"].astype(np.float32) + p["offset"].astype(np.float32) + 0.5, 0, 255).astype(np.uint8)
    return out


def describe(p: dict) -> dict:
    return {"gain": [round(float(g), 4) for g in p["gain"]], "offset": [round(float(o), 2) for o in p["offset"]],
            "gamma": round(p["gamma"], 4), "shift_px": [round(float(s), 2) for s in p["shift"]],
            "zoom": round(p["zoom"], 5), "angle_deg": round(p["angle"], 3)}
