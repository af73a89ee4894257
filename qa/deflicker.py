"""Optical-flow deflicker: remove brightness flicker without smearing motion or edges.

The clip is never blended. Each frame is only multiplied by a smooth per-channel gain
field, so edges and texture stay exactly where the generator put them; what changes
is the low-frequency brightness, which is pulled toward a temporal average taken
along the motion.

How the gain is found, on a small copy of the clip (long side `flow_width`):

1. DIS optical flow between neighbours, both directions. A pixel is reliable when
   the two flows agree (forward-backward consistency, Sundaram et al. 2010) and
   stays inside the frame; everything else is occluded or disoccluded.
2. Working in log brightness (so gains add), a forward pass warps the previous
   *already corrected* frame onto the current one and keeps an exponentially
   weighted average along the motion; a backward pass does the same from the end.
   Averaging both passes (weighted by how much history each carries) gives a
   symmetric filter: a steady fade passes through unchanged, because the forward
   pass lags it exactly as much as the backward pass leads it.
3. The difference between that average and the frame, measured only at reliable
   pixels, is reduced to a low-frequency field by normalised convolution on a
   coarse grid; where no reliable pixel is near, it falls back to the global
   (frame-wide) gain. A frame with almost no reliable pixels is a cut and starts
   a new history.

Near the ends of the clip only one side has history, and an average of one side
lags a fade. So before filtering, the slow global brightness trend (a local linear
fit, per shot, of the brightness change measured at reliable pixels) is taken out,
and only what is left - the flicker - is filtered.
"""
from __future__ import annotations

import cv2
import numpy as np

from qa._frames import as_clip

# Gain fields live on a grid this wide: fine enough for local patches of light,
# coarse enough that no texture or edge can leak into a gain.
_GAIN_GRID_WIDTH = 24
_GAIN_GRID_SIGMA = 1.5
# Weight of the frame-wide gain in the normalised convolution: it only decides
# where the blurred reliability mask is nearly empty.
_GLOBAL_PRIOR = 0.05
# A frame is a scene cut when fewer than this fraction of its pixels have a reliable
# flow, or when its fine detail correlates less than this with the aligned previous
# frame (detail below this blur radius, in working pixels).
_MIN_RELIABLE_FRACTION = 0.2
_MIN_CORRELATION = 0.5
_DETAIL_SIGMA = 3.0
# DIS needs patches of 8 pixels and a pyramid above them.
_MIN_FLOW_SIDE = 16
_LOG1P = np.log1p(np.arange(256, dtype=np.float32))

def deflicker(
    frames: np.ndarray,
    *,
    strength: float = 1.0,
    window: int = 9,
    flow_width: int = 256,
    max_gain: float = 2.0,
) -> np.ndarray:
    """Return a copy of `frames` (F, H, W, 3) uint8 with brightness flicker removed.

    strength: 0 returns the input unchanged, 1 applies the full correction (values
        in between scale the log gain).
    window: frames of history the temporal average remembers, as the equivalent
        window of an exponential average (alpha = 1 - 2 / (window + 1)).
    flow_width: long side of the copy that flow and gains are measured on.
    max_gain: bound on the correction either way (1/max_gain .. max_gain).

    Clips of one frame, or frames under 16 pixels on a side, come back unchanged.
    """
    frames = as_clip(frames)
    if strength <= 0 or len(frames) < 2:
        return frames.copy()
    if window < 2:
        raise ValueError(f"window must be at least 2 frames, got {window}")
    alpha = 1.0 - 2.0 / (window + 1)

    height, width = frames.shape[1:3]
    if min(height, width) < _MIN_FLOW_SIDE:
        return frames.copy()  # too small for optical flow to mean anything
    scale = min(1.0, max(flow_width / max(height, width), _MIN_FLOW_SIDE / min(height, width)))
    work_size = (round(width * scale), round(height * scale))
    grid_w = min(_GAIN_GRID_WIDTH, work_size[0])
    grid_size = (grid_w, max(1, round(grid_w * work_size[1] / work_size[0])))

    small = [cv2.resize(f, work_size, interpolation=cv2.INTER_AREA) for f in frames]
    log_small = [cv2.LUT(s, _LOG1P) for s in small]
    grey = [cv2.cvtColor(s, cv2.COLOR_RGB2GRAY) for s in small]
    grid = _pixel_grid(work_size)
    pairs = _pair_motion(grey, grid)

    trend = _brightness_trend(log_small, pairs, grid, sigma=float(window))
    detrended = [l - g for l, g in zip(log_small, trend)]
    forward_corr, forward_mass = _one_sided_pass(detrended, pairs, grid, grid_size, work_size, alpha, reverse=False)
    backward_corr, backward_mass = _one_sided_pass(detrended, pairs, grid, grid_size, work_size, alpha, reverse=True)

    limit = float(np.log(max_gain))
    out = np.empty_like(frames)
    for t, frame in enumerate(frames):
        mf, mb = forward_mass[t], backward_mass[t]
        # Each side's average already counts the frame itself once.
        correction = (mf * forward_corr[t] + mb * backward_corr[t]) / (mf + mb - 1.0)
        gain = np.exp(np.clip(strength * correction, -limit, limit)).astype(np.float32)
        gain_full = cv2.resize(gain, (width, height), interpolation=cv2.INTER_LINEAR)
        out[t] = cv2.multiply(frame, gain_full, dtype=cv2.CV_8U)
    return out


class _PairMotion:
    """Flow between frames t-1 and t, both ways, and where each is reliable."""

    def __init__(self, to_prev, to_next, reliable_current, reliable_prev, correlation):
        self.to_prev = to_prev  # at frame t's pixels, displacement into t-1
        self.to_next = to_next  # at frame t-1's pixels, displacement into t
        self.reliable_current = reliable_current
        self.reliable_prev = reliable_prev
        # Two unrelated shots can still produce small, mutually consistent flows, so
        # a cut is also recognised by the aligned frames not looking alike.
        self.is_cut = float(reliable_current.mean()) < _MIN_RELIABLE_FRACTION or correlation < _MIN_CORRELATION


def _pair_motion(grey: list[np.ndarray], grid: np.ndarray) -> list[_PairMotion | None]:
    """Entry t describes the pair (t-1, t); entry 0 is None."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    pairs: list[_PairMotion | None] = [None]
    for t in range(1, len(grey)):
        to_prev = dis.calc(grey[t], grey[t - 1], None)
        to_next = dis.calc(grey[t - 1], grey[t], None)
        reliable_current = _reliable(to_prev, to_next, grid)
        aligned = cv2.remap(grey[t - 1], grid + to_prev, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        pairs.append(
            _PairMotion(
                to_prev,
                to_next,
                reliable_current,
                _reliable(to_next, to_prev, grid),
                _correlation(grey[t], aligned, reliable_current),
            )
        )
    return pairs


def _correlation(a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> float:
    """Weighted normalised cross-correlation of the two frames' fine detail.

    The low frequencies are removed first: they are exactly what flicker changes,
    and a local patch of light would otherwise look like a different picture.
    """
    total = float(weight.sum())
    if total < 1.0:
        return 0.0
    a = a.astype(np.float32)
    b = b.astype(np.float32)
    a = a - cv2.GaussianBlur(a, (0, 0), _DETAIL_SIGMA)
    b = b - cv2.GaussianBlur(b, (0, 0), _DETAIL_SIGMA)
    da = a - float((a * weight).sum() / total)
    db = b - float((b * weight).sum() / total)
    var_a, var_b = float((da * da * weight).sum()), float((db * db * weight).sum())
    if min(var_a, var_b) < 1e-3 * total:
        return 1.0  # flat frames: nothing to contradict the flow
    return float((da * db * weight).sum() / np.sqrt(var_a * var_b))


def _brightness_trend(log_small, pairs, grid, *, sigma: float) -> np.ndarray:
    """Slow per-channel log-brightness trend of each frame, (F, 3), one local line per shot.

    The brightness steps are measured along the flow at reliable pixels, so motion
    does not register as a change of light.
    """
    n = len(log_small)
    level = np.zeros((n, 3))
    shot = np.zeros(n, dtype=int)
    for t in range(1, n):
        pair = pairs[t]
        shot[t] = shot[t - 1] + int(pair.is_cut)
        if pair.is_cut:
            level[t] = level[t - 1]
            continue
        warped = cv2.remap(log_small[t - 1], grid + pair.to_prev, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        mask = pair.reliable_current[..., None]
        level[t] = level[t - 1] + ((log_small[t] - warped) * mask).reshape(-1, 3).sum(0) / mask.sum()
    # Gaussian-weighted local linear regression: unbiased for a straight fade even
    # where the window is cut off by the clip's ends or a scene cut.
    times = np.arange(n, dtype=np.float64)
    trend = np.empty_like(level)
    for t in range(n):
        weights = np.exp(-0.5 * ((times - t) / sigma) ** 2) * (shot == shot[t])
        design = np.stack([np.ones(n), times - t], axis=1) * np.sqrt(weights)[:, None]
        coef, *_ = np.linalg.lstsq(design, level * np.sqrt(weights)[:, None], rcond=None)
        trend[t] = coef[0]
    return trend.astype(np.float32)


def _pixel_grid(size: tuple[int, int]) -> np.ndarray:
    w, h = size
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return np.dstack([xs, ys])


def _reliable(flow: np.ndarray, other: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Pixels whose `flow` lands inside the frame and is undone by `other` there."""
    target = grid + flow
    back = cv2.remap(other, target, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    h, w = flow.shape[:2]
    tx, ty = cv2.split(target)
    inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    fx, fy = cv2.split(flow)
    bx, by = cv2.split(back)
    err = cv2.magnitude(fx + bx, fy + by) ** 2
    bound = 0.01 * (cv2.magnitude(fx, fy) ** 2 + cv2.magnitude(bx, by) ** 2) + 0.5
    return (inside & (err < bound)).astype(np.float32)


def _one_sided_pass(log_small, pairs, grid, grid_size, work_size, alpha, *, reverse):
    """Exponential average along the motion from one end of the clip.

    Returns per frame the coarse log-gain correction toward that average and the
    history's mass (1 + alpha + alpha^2 ... until the last cut), which the two-sided
    combination needs to weight each side fairly.
    """
    n = len(log_small)
    order = range(n - 1, -1, -1) if reverse else range(n)
    corrections: list[np.ndarray] = [None] * n
    masses = np.ones(n)
    averaged = None
    prev = None
    for t in order:
        current = log_small[t]
        if prev is None:
            corrections[t] = np.zeros((grid_size[1], grid_size[0], 3), np.float32)
            averaged, prev = current, t
            continue
        # "prev" is the previous frame of this pass: t-1 going forward, t+1 going back.
        pair = pairs[prev] if reverse else pairs[t]
        onto_prev = pair.to_next if reverse else pair.to_prev
        mask = pair.reliable_prev if reverse else pair.reliable_current
        if pair.is_cut:
            corrections[t] = np.zeros((grid_size[1], grid_size[0], 3), np.float32)
            averaged, prev = current, t
            continue
        warped = cv2.remap(averaged, grid + onto_prev, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        towards_history = _low_frequency(warped - current, mask, grid_size)
        weight = alpha * masses[prev]
        corrections[t] = (weight / (1.0 + weight)) * towards_history
        masses[t] = 1.0 + weight
        averaged = current + cv2.resize(corrections[t], work_size, interpolation=cv2.INTER_LINEAR)
        prev = t
    return corrections, masses


def _low_frequency(diff: np.ndarray, mask: np.ndarray, grid_size: tuple[int, int]) -> np.ndarray:
    """Normalised convolution of `diff` over reliable pixels on the coarse grid, global fallback."""
    weighted = diff * mask[..., None]
    global_diff = weighted.reshape(-1, 3).sum(0) / max(float(mask.sum()), 1.0)
    num = cv2.resize(weighted, grid_size, interpolation=cv2.INTER_AREA)
    den = cv2.resize(mask, grid_size, interpolation=cv2.INTER_AREA)
    num = cv2.GaussianBlur(num, (0, 0), _GAIN_GRID_SIGMA, borderType=cv2.BORDER_REPLICATE)
    den = cv2.GaussianBlur(den, (0, 0), _GAIN_GRID_SIGMA, borderType=cv2.BORDER_REPLICATE)
    return ((num + _GLOBAL_PRIOR * global_diff) / (den + _GLOBAL_PRIOR)[..., None]).astype(np.float32)
