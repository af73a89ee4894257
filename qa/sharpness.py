"""Blur and damage without a reference: sharpness, noise and compression blocking per frame.

Each frame gets three no-reference measures. Each is judged against the clip's own good
frames (a few frames far worse than the rest) and against an absolute limit or the input
image (a clip damaged from start to end has no good frames to compare with).

- **sharpness** (0..1, higher is sharper): at the frame's edges, the share of the gradient
  that a 9-pixel box blur takes away (1 minus Crete et al.'s "blur the blur" score, 2007,
  summed only where the re-blurred frame still has its strongest 10% of gradients). A sharp
  edge loses much to the extra blur, an already blurred one little. Being a ratio at edges,
  it barely depends on contrast or on how much of the frame is flat; grain on asphalt or
  skin, which a whole-frame sum would read as sharpness, is left out. The two directions are
  averaged, so real motion blur along one direction costs only half. Measured on a copy at
  most 640 pixels wide, so it reads about the same for 720p and 480p clips.
- **noise** (luma levels, a standard deviation): the finest diagonal wavelet band (2x2 Haar)
  in the flattest tenth of 16x16 blocks. Edges and texture live in the other blocks, so it
  follows grain, not detail. Video codecs remove grain, so real footage reads below ~0.5.
- **blockiness** (ratio, 1 = none): the mean luma step across every 8th column and row (the
  strongest phase) over the median of the eight phases. JPEG and starved codecs leave steps
  on their 8x8 transform grid. Measured at the frames' own size, where that grid still is.

Defaults were chosen on the shared footage sam2_01_dog, mmaction2_test_video_structuralize,
intel_car-detection and intel_bottle-detection (all frames and every 3rd/4th frame, native
size and 640 px wide; worst real frame: sharpness 0.71 of the clip's best, noise 0.5,
blockiness 2.1) and the photos in shared/data/images, against Gaussian blur (1.5 and 2.5 px),
JPEG quality 5 and 15 and Gaussian noise (sigma 5, 8, 10).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from clipmill.qa._frames import as_clip, runs
from clipmill.qa.types import Check, CheckKind

STAGE = "blur"
_SHARPNESS_KINDS = (CheckKind.BLUR, CheckKind.BLUR_LEVEL, CheckKind.BLUR_REFERENCE)

_WORK_WIDTH = 640
_BOX = np.ones(9, np.float32) / 9
_EDGE_PERCENTILE = 90
# RMS of 64 N(0, s^2) samples at the 10th percentile of its distribution is ~0.88 s.
_FLATTEST_BLOCKS_PERCENTILE = 10
_P10_RMS_OF_64 = 0.88


@dataclass(frozen=True)
class FrameDamage:
    """The three measures of one frame (see the module docstring for units)."""

    sharpness: float
    noise: float
    blockiness: float


def frame_damage(frame: np.ndarray) -> FrameDamage:
    """Sharpness, noise and blockiness of one (H, W, 3) uint8 RGB frame."""
    grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY).astype(np.float32)
    return FrameDamage(sharpness(grey), noise_level(grey), blockiness(grey))


def sharpness(grey: np.ndarray) -> float:
    """1 - the Crete blur score of a float luma image at its edges, averaged over both directions.

    NaN for a frame with no edge at all (a flat colour): the blur checks leave it out.
    """
    h, w = grey.shape
    if w > _WORK_WIDTH:
        grey = cv2.resize(grey, (_WORK_WIDTH, max(1, round(h * _WORK_WIDTH / w))), interpolation=cv2.INTER_AREA)
    shares = []
    for axis, kernel in ((0, _BOX.reshape(-1, 1)), (1, _BOX.reshape(1, -1))):
        blurred = cv2.filter2D(grey, -1, kernel, borderType=cv2.BORDER_REFLECT)
        d_frame = np.abs(np.diff(grey, axis=axis))
        d_blurred = np.abs(np.diff(blurred, axis=axis))
        # Only where the re-blurred frame still has an edge: flat and finely grained areas
        # (asphalt, skin, sky) would measure their grain and 8-bit steps, not the optics.
        edges = d_blurred >= max(float(np.percentile(d_blurred, _EDGE_PERCENTILE)), 1.0)
        total = float(d_frame[edges].sum())
        if total > 0:
            shares.append(float(np.maximum(d_frame - d_blurred, 0)[edges].sum()) / total)
    # A frame without a single edge (one flat colour) has no sharpness to measure.
    return float(np.mean(shares)) if shares else float("nan")


def noise_level(grey: np.ndarray) -> float:
    """Grain in luma levels: the Haar diagonal band's RMS in the flattest 16x16 blocks."""
    h, w = grey.shape
    h, w = h - h % 16, w - w % 16
    if h == 0 or w == 0:
        return 0.0
    g = grey[:h, :w]
    diagonal = (g[0::2, 0::2] - g[0::2, 1::2] - g[1::2, 0::2] + g[1::2, 1::2]) / 2
    blocks = diagonal.reshape(h // 16, 8, w // 16, 8).transpose(0, 2, 1, 3).reshape(-1, 64)
    rms = np.sqrt((blocks**2).mean(axis=1))
    return float(np.percentile(rms, _FLATTEST_BLOCKS_PERCENTILE) / _P10_RMS_OF_64)


def blockiness(grey: np.ndarray) -> float:
    """Strongest 8-pixel-grid phase of the mean luma step over the median phase, both axes averaged."""
    ratios = []
    for axis in (1, 0):
        steps = np.abs(np.diff(grey, axis=axis)).mean(axis=1 - axis)
        n = len(steps) // 8 * 8
        if n < 16:
            continue
        phases = steps[:n].reshape(-1, 8).mean(axis=0)
        # Half a level of floor: a flat frame's tiny steps would make any ratio huge.
        ratios.append(float(phases.max() / max(np.median(phases), 0.5)))
    return float(np.mean(ratios)) if ratios else 1.0


def sharpness_checks(
    frames: np.ndarray,
    *,
    reference_image: np.ndarray | None = None,
    min_sharpness_ratio: float = 0.6,
    min_sharpness: float = 0.33,
    min_reference_ratio: float = 0.5,
    max_noise: float = 4.0,
    max_noise_rise: float = 3.0,
    max_blockiness: float = 3.0,
    max_blockiness_ratio: float = 2.0,
    max_frames: int = 64,
) -> list[Check]:
    """Five checks, in the order blur, blur_level, blur_reference, blur_noise, blur_blocking.

    Args:
        frames: (F, H, W, 3) uint8 RGB.
        reference_image: the input image of an image-to-video job, (H, W, 3) uint8 RGB, any
            size (it is resized to the frames'). Frames are then also compared with it, which
            catches a clip blurred, noisy or blocky from its first frame to its last.
        min_sharpness_ratio: a frame fails when its sharpness is below this share of the
            clip's best frames (90th percentile). Whole real clips kept >= 0.71 (motion blur
            and a whip pan included); Gaussian blur of 2.5 px at 640 px wide falls to <= 0.48.
        min_sharpness: the clip fails when even its best frames (90th percentile) are below
            this absolute sharpness: a clip blurred throughout. Real footage reads 0.46-0.67
            (mmaction2 upscaled from 426 px is the lowest), Gaussian blur of 2.5 px 0.20-0.26.
        min_reference_ratio: with `reference_image`, the clip fails when its opening frames
            (the median of the first tenth measured, at most 4), which show what the input
            image shows, are below this share of the image's sharpness. Lower than
            `min_sharpness_ratio`: a generator's frames are softer than a photo. Blurred
            2.5 px, the shared clips keep 0.33-0.45 of their own first frame's sharpness.
        max_noise: a frame fails above this grain, in luma levels (Gaussian RGB noise of
            sigma s reads ~0.67 s; real footage < 0.4, photos < 1).
        max_noise_rise: a frame also fails when its grain exceeds the clip's cleanest
            frames (25th percentile) or the reference image by more than this.
        max_blockiness: a frame fails above this blockiness (real footage <= 2.1; JPEG
            quality 5 reads 3.7-6.4).
        max_blockiness_ratio: a frame also fails above this multiple of the clip's
            least blocky frames (25th percentile) or of the reference image.
        max_frames: at most this many frames, evenly spaced, are measured; reasons name
            frames by their index in `frames`.
    """
    # 1. measure a sample of frames (and the reference, at the frames' size)
    frames = as_clip(frames)
    n = len(frames)
    index = np.unique(np.linspace(0, n - 1, min(n, max_frames)).round().astype(int)) if n else np.zeros(0, int)
    measured = [frame_damage(frames[i]) for i in index]
    sharp = np.array([m.sharpness for m in measured])
    noise = np.array([m.noise for m in measured])
    blocky = np.array([m.blockiness for m in measured])
    ref = None
    if reference_image is not None:
        ref_frame = np.asarray(reference_image)
        if ref_frame.ndim != 3 or ref_frame.shape[-1] != 3 or ref_frame.dtype != np.uint8:
            raise ValueError(f"reference_image must be (H, W, 3) uint8, got {ref_frame.shape} {ref_frame.dtype}")
        if n:
            h, w = frames.shape[1:3]
            ref_frame = cv2.resize(ref_frame, (w, h), interpolation=cv2.INTER_AREA)
        ref = frame_damage(ref_frame)
    if n == 0:
        return [Check(STAGE, kind, 0.0, None, True, "no frames to measure")
                for kind in (*_SHARPNESS_KINDS, CheckKind.NOISE, CheckKind.BLOCKING)]

    # 2. baselines: the clip's own good frames, and the input image when there is one
    has_edges = ~np.isnan(sharp)
    if not has_edges.any():
        return [Check(STAGE, kind, 0.0, None, True, "no frame has an edge to measure sharpness on")
                for kind in _SHARPNESS_KINDS] + _damage_checks(
            noise, blocky, index, n, ref, max_noise, max_noise_rise, max_blockiness, max_blockiness_ratio)
    best_sharp = float(np.percentile(sharp[has_edges], 90))
    opening = sharp[:max(1, min(4, len(sharp) // 10))]
    opening = float(np.median(opening[~np.isnan(opening)])) if (~np.isnan(opening)).any() else best_sharp
    ratio = np.where(has_edges, sharp / best_sharp if best_sharp > 0 else 1.0, 1.0)
    return [
        _frame_check(CheckKind.BLUR, ratio, min_sharpness_ratio, ratio < min_sharpness_ratio, index,
                     f"sharpness {{worst:.2f}} of the clip's best frames ({best_sharp:.2f})", "blurry", n),
        _level_check(best_sharp, min_sharpness, ref),
        _reference_check(opening, ref, min_reference_ratio),
    ] + _damage_checks(noise, blocky, index, n, ref, max_noise, max_noise_rise, max_blockiness, max_blockiness_ratio)


def _damage_checks(noise: np.ndarray, blocky: np.ndarray, index: np.ndarray, n: int, ref: FrameDamage | None,
                   max_noise: float, max_noise_rise: float, max_blockiness: float,
                   max_blockiness_ratio: float) -> list[Check]:
    noise_base = float(np.percentile(noise, 25))
    block_base = max(1.0, float(np.percentile(blocky, 25)))
    if ref:
        noise_base = min(noise_base, ref.noise)
        block_base = min(block_base, max(1.0, ref.blockiness))

    noise_limit = min(max_noise, noise_base + max_noise_rise)
    block_limit = min(max_blockiness, block_base * max_blockiness_ratio)
    return [
        _frame_check(CheckKind.NOISE, noise, noise_limit, noise > noise_limit, index,
                     f"grain {{worst:.1f}} luma levels (clean baseline {noise_base:.1f})", "noisy", n),
        _frame_check(CheckKind.BLOCKING, blocky, block_limit, blocky > block_limit, index,
                     f"blockiness {{worst:.2f}} (baseline {block_base:.2f})", "blocky (compression damage)", n),
    ]


def _frame_check(kind: CheckKind, values: np.ndarray, limit: float, bad: np.ndarray, index: np.ndarray,
                 measure: str, adjective: str, n: int) -> Check:
    lower_is_worse = kind == CheckKind.BLUR
    worst_at = int(np.argmin(values) if lower_is_worse else np.argmax(values))
    worst = float(values[worst_at])
    comparison = ("<" if bad.any() else ">=") if lower_is_worse else (">" if bad.any() else "<=")
    summary = f"{measure.format(worst=worst)} at frame {int(index[worst_at])} ({comparison} {limit:.2f})"
    if not bad.any():
        return Check(STAGE, kind, worst, limit, True, f"no frame is {adjective.split(' ')[0]}: worst {summary}")
    spans = [_span(index, start, stop) for start, stop in runs(bad)]
    listed = ", ".join(spans[:5]) + (f" and {len(spans) - 5} more stretches" if len(spans) > 5 else "")
    reason = (f"{int(bad.sum())} of {len(values)} measured frames are {adjective} "
              f"(frames {listed}; {len(index)} of {n} frames measured): worst {summary}")
    return Check(STAGE, kind, worst, limit, False, reason)


def _span(index: np.ndarray, start: int, stop: int) -> str:
    first, last = int(index[start]), int(index[stop - 1])
    return str(first) if first == last else f"{first}-{last}"


def _level_check(best: float, min_sharpness: float, ref: FrameDamage | None) -> Check:
    passed = best >= min_sharpness
    against = f"; the input image reads {ref.sharpness:.2f}" if ref else ""
    if passed:
        reason = f"the clip's best frames reach sharpness {best:.2f} (>= {min_sharpness:.2f}){against}"
    else:
        reason = f"the whole clip is blurry: even its best frames reach only sharpness {best:.2f} (< {min_sharpness:.2f}){against}"
    return Check(STAGE, CheckKind.BLUR_LEVEL, best, min_sharpness, passed, reason)


def _reference_check(opening: float, ref: FrameDamage | None, min_ratio: float) -> Check:
    if ref is None:
        return Check(STAGE, CheckKind.BLUR_REFERENCE, 0.0, None, True, "no input image to compare with")
    if np.isnan(ref.sharpness) or ref.sharpness <= 0:
        return Check(STAGE, CheckKind.BLUR_REFERENCE, 0.0, None, True, "the input image has no edge to compare sharpness with")
    ratio = opening / ref.sharpness
    passed = ratio >= min_ratio
    if passed:
        reason = (f"the clip's opening frames keep {ratio:.2f} of the input image's sharpness "
                  f"({opening:.2f} of {ref.sharpness:.2f}, >= {min_ratio:.2f})")
    else:
        reason = (f"the clip is blurrier than the input image from its first frames: they keep only {ratio:.2f} "
                  f"of its sharpness ({opening:.2f} of {ref.sharpness:.2f}, < {min_ratio:.2f})")
    return Check(STAGE, CheckKind.BLUR_REFERENCE, ratio, min_ratio, passed, reason)
