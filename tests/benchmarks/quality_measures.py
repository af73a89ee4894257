"""How bench_quality.py damages clean clips and measures the repair, kept apart so that the
damage model and the metrics can be read (and argued with) on their own.

Damage: `add_flicker` (per-frame decode flicker) and `add_generation_drift` (what chaining
image-to-video generations does to a later segment), both seeded.
Metrics, against the clean clip or along its motion: `psnr`, `psnr_steady` (after an oracle
removes the clip's constant level), `ssim` (luma, Wang et al. 2004),
`CleanMotion.warp_error` (Lai et al. 2018) and `vbench_flicker`; `quality` gives all five.
"""
from __future__ import annotations

import cv2
import numpy as np


# --------------------------------------------------------------------------- damage


def add_flicker(clean: np.ndarray, level: float, seed: int) -> np.ndarray:
    """The flicker a diffusion model's per-frame decode shows, scaled by `level`.

    Per frame, independently: a global gain (log-normal, sd 3% x level), a gamma
    (log-normal, sd 4% x level), a per-channel colour gain (sd 1.5% x level), and
    two low-frequency Gaussian patches of light (radius 15-35% of the width,
    amplitude sd 5% x level) at random places.
    """
    rng = np.random.default_rng(seed)
    n, h, w, _ = clean.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    lut_in = np.arange(256, dtype=np.float32) / 255.0
    out = np.empty_like(clean)
    for t in range(n):
        gain = np.exp(rng.normal(0, 0.03 * level))
        gamma = np.exp(rng.normal(0, 0.04 * level))
        colour = np.exp(rng.normal(0, 0.015 * level, 3)).astype(np.float32)
        log_patch = np.zeros((h, w), np.float32)
        for _ in range(2):
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            radius = rng.uniform(0.15, 0.35) * w
            log_patch += rng.normal(0, 0.05 * level) * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2))
        toned = cv2.LUT(clean[t], (255.0 * lut_in**gamma).astype(np.float32))
        field = (gain * np.exp(log_patch))[..., None] * colour
        out[t] = np.clip(toned * field + 0.5, 0, 255).astype(np.uint8)
    return out


def add_generation_drift(segment: np.ndarray, rng: np.random.Generator, previous_drift: dict) -> tuple[np.ndarray, dict]:
    """What chaining image-to-video generations does to a later segment: its colour and
    brightness drift (per-channel gain sd 4%, offset sd 4 levels, accumulated over the
    chain) and the whole picture jumps by 2-5 pixels in a random direction."""
    gain = previous_drift["gain"] * np.exp(rng.normal(0, 0.04, 3))
    offset = previous_drift["offset"] + rng.normal(0, 4.0, 3)
    angle, distance = rng.uniform(0, 2 * np.pi), rng.uniform(2.0, 5.0)
    shift = previous_drift["shift"] + distance * np.array([np.cos(angle), np.sin(angle)])
    h, w = segment.shape[1:3]
    matrix = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    out = np.empty_like(segment)
    for i, frame in enumerate(segment):
        moved = cv2.warpAffine(frame, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
        out[i] = np.clip(moved * gain.astype(np.float32) + offset.astype(np.float32) + 0.5, 0, 255).astype(np.uint8)
    return out, {"gain": gain, "offset": offset, "shift": shift}


# --------------------------------------------------------------------------- metrics


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = cv2.norm(a.reshape(len(a), -1), b.reshape(len(b), -1), cv2.NORM_L2SQR) / a.size
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def psnr_steady(frames: np.ndarray, clean: np.ndarray) -> float:
    """PSNR after one tone curve per channel, for the whole clip, that best maps `frames` onto `clean`.

    An oracle for the clip's constant level, given to every method alike. A drift that
    is correlated over many frames does not average to zero over a clip of 49: its mean
    (sd about a third of the drift's own on AR(1) with rho 0.7) shifts the whole clip, and
    no method can tell that shift from the clip's own light without the clean clip. ffmpeg
    at its best setting per clip is picked, among seven means and four widths, by PSNR
    against the clean clip, which in part picks the shift. What is left here is the
    error that changes from frame to frame: the flicker a deflicker is there to remove.
    """
    out = np.empty_like(frames)
    for c in range(3):
        got, want = frames[..., c].reshape(-1), clean[..., c].reshape(-1)
        count = np.bincount(got, minlength=256)
        total = np.bincount(got, weights=want, minlength=256)
        curve = np.where(count > 0, total / np.maximum(count, 1), np.arange(256))
        out[..., c] = np.clip(curve + 0.5, 0, 255).astype(np.uint8)[frames[..., c]]
    return psnr(out, clean)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    scores = []
    for fa, fb in zip(a, b):
        x = cv2.cvtColor(fa, cv2.COLOR_RGB2GRAY).astype(np.float32)
        y = cv2.cvtColor(fb, cv2.COLOR_RGB2GRAY).astype(np.float32)
        blur = lambda z: cv2.GaussianBlur(z, (11, 11), 1.5)  # noqa: E731
        mx, my = blur(x), blur(y)
        sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
        m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        scores.append(float(m.mean()))
    return float(np.mean(scores))


class CleanMotion:
    """Flow of the clean clip (t -> t-1) and the pixels its forward-backward check keeps."""

    def __init__(self, clean: np.ndarray):
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in clean]
        h, w = grey[0].shape
        xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        self.grid = np.dstack([xs, ys])
        self.maps, self.masks = [], []
        for t in range(1, len(grey)):
            back = dis.calc(grey[t], grey[t - 1], None)
            fwd = dis.calc(grey[t - 1], grey[t], None)
            target = self.grid + back
            fwd_at = cv2.remap(fwd, target, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            err = ((back + fwd_at) ** 2).sum(-1)
            bound = 0.01 * ((back**2).sum(-1) + (fwd_at**2).sum(-1)) + 0.5
            inside = (target[..., 0] >= 0) & (target[..., 0] <= w - 1) & (target[..., 1] >= 0) & (target[..., 1] <= h - 1)
            self.maps.append(target)
            self.masks.append(((err < bound) & inside).astype(np.float32))

    def warp_error(self, frames: np.ndarray) -> float:
        errors = []
        for t in range(1, len(frames)):
            warped = cv2.remap(frames[t - 1], self.maps[t - 1], None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            sq = ((warped.astype(np.float32) - frames[t].astype(np.float32)) / 255.0) ** 2
            mask = self.masks[t - 1]
            errors.append(float((sq.sum(-1) * mask).sum() / max(3 * mask.sum(), 1.0)))
        return 1000.0 * float(np.mean(errors))


def vbench_flicker(frames: np.ndarray) -> float:
    mad = np.mean([cv2.absdiff(frames[t], frames[t - 1]).mean() for t in range(1, len(frames))])
    return float((255.0 - mad) / 255.0)


def quality(frames: np.ndarray, clean: np.ndarray, motion: CleanMotion) -> dict:
    return {
        "psnr": psnr(frames, clean),
        "psnr_steady": psnr_steady(frames, clean),
        "ssim": ssim(frames, clean),
        "warp_error": motion.warp_error(frames),
        "flicker": vbench_flicker(frames),
    }
