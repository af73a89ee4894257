"""Optical-flow deflicker: remove brightness flicker without smearing motion or edges.

The clip is never blended or resampled. Each channel of each frame only goes through
a tone curve (a power law) and a smooth gain field, so edges
and texture stay exactly where the generator put them; what changes is brightness,
contrast of the tones and colour balance, which are pulled onto their slow trend.

Flicker model, per frame t and channel c, in log brightness l = log((x + 1) / 256):

    l_t(p) = gamma_t[c] * l_clean(p) + F_t(p, c)

gamma_t is a tone (gamma) jitter, shared by the channels; F_t a smooth field holding global gain,
colour gain and local patches of light. Log makes gains add and gammas multiply.

How both are found, on a small copy of the clip (long side `flow_width`):

1. DIS optical flow between neighbours, both directions. A pixel is reliable when
   the two flows agree (forward-backward consistency, Sundaram et al. 2010) and stays
   inside the frame. A frame with too few reliable pixels, or whose detail does not
   match the aligned previous frame, is a scene cut and starts a new shot.
2. Frame t-1 is warped onto frame t. The gamma step is the median ratio of band-pass
   detail between the two at reliable pixels (a gain does not change detail in log,
   a gamma scales it); the field step is what is left, reduced to a smooth field by
   normalised convolution on a coarse grid (falling back to the frame-wide step where
   no reliable pixel is near). Steps between neighbours are what flow measures
   exactly; summing them gives every frame of a shot its gamma and field on one
   scale, so the flicker is found in full rather than shrunk toward a neighbourhood.
3. The target is the slow trend of those sums: a Gaussian-weighted local quadratic
   fit over time (sigma = `window` frames) for the gammas and the frame-wide level,
   which follows a real exposure or lighting change, fades included, even where the
   window is cut by the clip's ends or a cut; and a two-sided exponential average for
   the local part of the field. Anything faster than the window is flicker.
4. Each frame is mapped onto its target: a per-channel lookup table for the gamma,
   times the upsampled gain field.
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
# The gamma is read from detail between these blur radii (working pixels): coarse
# enough that the bilinear warp does not soften it, fine enough to sit above the
# smooth gain fields.
_BAND = (1.5, 6.0)
# A gamma step beyond this between neighbours is not flicker but a different picture.
_MAX_GAMMA_STEP = 1.5
_MIN_GAMMA_SAMPLES = 120
# The trend is a local polynomial of this degree: 2 follows the rise and fall of an
# auto-exposure swing that a straight line cuts across.
_TREND_DEGREE = 2
# The flow sees log luma without its smooth layer (Gaussian sigma this fraction of the
# long side, well under the size of a patch of light) at this many levels per spread.
_FLOW_HIGHPASS = 1.0 / 16
_FLOW_CONTRAST = 32.0
# DIS needs patches of 8 pixels and a pyramid above them.
_MIN_FLOW_SIDE = 16
_LEVELS = np.arange(256, dtype=np.float32)
_LOG_LEVEL = np.log((_LEVELS + 1.0) / 256.0)


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
        in between scale it, in log).
    window: how many frames of brightness change count as flicker rather than a real
        change of light: the sigma, in frames, of the trend that is kept.
    flow_width: long side of the copy that flow and gains are measured on.
    max_gain: bound on the correction either way (1/max_gain .. max_gain), for the
        gain and for the gamma.

    Clips of one frame, or frames under 16 pixels on a side, come back unchanged.
    """
    frames = as_clip(frames)
    if strength <= 0 or len(frames) < 2:
        return frames.copy()
    if window < 2:
        raise ValueError(f"window must be at least 2 frames, got {window}")

    # 1. a small copy to measure on
    height, width = frames.shape[1:3]
    if min(height, width) < _MIN_FLOW_SIDE:
        return frames.copy()  # too small for optical flow to mean anything
    scale = min(1.0, max(flow_width / max(height, width), _MIN_FLOW_SIDE / min(height, width)))
    work_size = (round(width * scale), round(height * scale))
    grid_w = min(_GAIN_GRID_WIDTH, work_size[0])
    grid_size = (grid_w, max(1, round(grid_w * work_size[1] / work_size[0])))
    small = [cv2.resize(f, work_size, interpolation=cv2.INTER_AREA) for f in frames]
    log_small = [cv2.LUT(s, _LOG_LEVEL) for s in small]
    grey = [_flow_image(s) for s in small]

    # 2. motion between neighbours, and the gamma and field steps along it
    grid = _pixel_grid(work_size)
    pairs = _pair_motion(grey, grid)
    log_gamma, field = _flicker_levels(log_small, pairs, grid, grid_size)

    # 3. the trend each frame should sit on
    shots = np.cumsum([0] + [int(p.is_cut) for p in pairs[1:]])
    sigma = float(window)
    gamma_trend = _local_trend(log_gamma, shots, sigma=sigma)
    level = np.array([f.reshape(-1, 3).mean(0) for f in field])
    level_trend = _local_trend(level, shots, sigma=sigma)
    local = [f - lv.astype(np.float32) for f, lv in zip(field, level)]
    local_trend = _two_sided_average(local, shots, alpha=1.0 - 2.0 / (window + 1))

    # 4. l' = a * (l - F) + F_target: a tone table per channel and a gain field
    limit = float(np.log(max_gain))
    out = np.empty_like(frames)
    for t, frame in enumerate(frames):
        a = np.exp(np.clip(strength * (gamma_trend[t] - log_gamma[t]), -limit, limit)).astype(np.float32)
        target = field[t] + strength * ((level_trend[t] - level[t]).astype(np.float32) + local_trend[t] - local[t])
        log_gain = np.clip(target - a * field[t], -limit, limit)
        # (x + 1) = 256 * exp(l); the table holds 256 * exp(a * l) per channel.
        table = (256.0 * np.exp(_LOG_LEVEL[:, None] * a[None, :]))[None]
        toned = cv2.LUT(frame, table.astype(np.float32))
        gain = cv2.resize(np.exp(log_gain).astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
        cv2.subtract(cv2.multiply(toned, gain), (1.0, 1.0, 1.0, 0.0), dst=out[t], dtype=cv2.CV_8U)
    return out


class _PairMotion:
    """Flow between frames t-1 and t, both ways, and where each is reliable."""

    def __init__(self, to_prev, reliable_current, correlation):
        self.to_prev = to_prev  # at frame t's pixels, displacement into t-1
        self.reliable_current = reliable_current
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
                reliable_current,
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


def _flicker_levels(log_small, pairs, grid, grid_size) -> tuple[np.ndarray, list[np.ndarray]]:
    """Per frame, log gamma (F, 3) and the coarse field, relative to the first frame of its shot."""
    empty = np.zeros((grid_size[1], grid_size[0], 3), np.float32)
    log_gamma = np.zeros((len(log_small), 3))
    field = [empty]
    band_prev = _band(log_small[0])
    for t in range(1, len(log_small)):
        pair = pairs[t]
        band_now = _band(log_small[t])
        if pair.is_cut:
            field.append(empty)
            band_prev = band_now
            continue
        onto = grid + pair.to_prev
        warped = cv2.remap(log_small[t - 1], onto, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        band_warped = cv2.remap(band_prev, onto, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        ratio = _gamma_step(band_now, band_warped, pair.reliable_current)
        step = float(np.clip(ratio, 1.0 / _MAX_GAMMA_STEP, _MAX_GAMMA_STEP))
        log_gamma[t] = log_gamma[t - 1] + np.log(step)
        residual = _low_frequency(log_small[t] - step * warped, pair.reliable_current, grid_size)
        field.append(step * field[-1] + residual)
        band_prev = band_now
    return log_gamma, field


def _gamma_step(band_now: np.ndarray, band_warped: np.ndarray, reliable: np.ndarray) -> float:
    """Median ratio of detail now to detail before, where the detail is strong and aligned.

    One gamma for all channels: colour casts are gains, which the field holds, and
    pooling the channels triples the samples. The median ignores the pixels where
    the flow is slightly off (their ratios scatter both ways); weak detail is left
    out because there the ratio is mostly noise.
    """
    before = band_warped[reliable > 0].reshape(-1)
    if before.size < _MIN_GAMMA_SAMPLES:
        return 1.0
    now = band_now[reliable > 0].reshape(-1)
    strong = np.abs(before) > np.percentile(np.abs(before), 75)
    return float(np.median(now[strong] / before[strong]))


def _band(log_frame: np.ndarray) -> np.ndarray:
    fine = cv2.GaussianBlur(log_frame, (0, 0), _BAND[0])
    return fine - cv2.GaussianBlur(fine, (0, 0), _BAND[1])


def _local_trend(values: np.ndarray, shots: np.ndarray, *, sigma: float) -> np.ndarray:
    """Gaussian-weighted local polynomial regression of `values` (F, k) over time, per shot."""
    n = len(values)
    times = np.arange(n, dtype=np.float64)
    trend = np.empty_like(values)
    for t in range(n):
        same = shots == shots[t]
        weights = np.exp(-0.5 * ((times - t) / sigma) ** 2) * same
        # A short shot cannot support a curve; fall back to a line or a mean.
        degree = min(_TREND_DEGREE, int(same.sum()) - 1)
        design = np.stack([(times - t) ** k for k in range(degree + 1)], axis=1) * np.sqrt(weights)[:, None]
        coef, *_ = np.linalg.lstsq(design, values * np.sqrt(weights)[:, None], rcond=None)
        trend[t] = coef[0]
    return trend


def _two_sided_average(fields, shots: np.ndarray, *, alpha: float) -> list[np.ndarray]:
    """Exponential average of coarse fields over time, from both ends of each shot, combined.

    Each side's history weighs in by its mass (1 + alpha + alpha^2 ... back to the
    shot's start), so near an end the side that has seen more frames counts more;
    averaging the two sides cancels their lag, so a steady local change of light
    passes through. The fields stay in frame coordinates: the steps that built them
    were measured along the motion already, and a smooth field barely moves.
    """
    n = len(fields)
    sides = []
    for order in (range(n), range(n - 1, -1, -1)):
        averaged: list[np.ndarray] = [None] * n
        masses = np.ones(n)
        prev = None
        for t in order:
            if prev is None or shots[prev] != shots[t]:
                averaged[t] = fields[t]
            else:
                weight = alpha * masses[prev]
                averaged[t] = (fields[t] + weight * averaged[prev]) / (1.0 + weight)
                masses[t] = 1.0 + weight
            prev = t
        sides.append((averaged, masses))
    (forward, mass_f), (backward, mass_b) = sides
    # Each side's average already counts the frame itself once.
    return [(mass_f[t] * forward[t] + mass_b[t] * backward[t] - fields[t]) / (mass_f[t] + mass_b[t] - 1.0) for t in range(n)]


def _flow_image(small_rgb: np.ndarray) -> np.ndarray:
    """Grey image for the optical flow, blind to the flicker it is meant to measure.

    DIS matches brightness, so a flickering gain or a patch of light reads as motion
    and as occlusion (on strong flicker a third of the pixels failed the
    forward-backward check, and frames were taken for cuts). In log luma a gain field
    adds a smooth layer and a gamma scales everything: removing the layer above
    `_FLOW_HIGHPASS` of the width and dividing by the spread leaves only structure.
    """
    log_grey = cv2.LUT(cv2.cvtColor(small_rgb, cv2.COLOR_RGB2GRAY), _LOG_LEVEL)
    sigma = _FLOW_HIGHPASS * max(log_grey.shape)
    detail = log_grey - cv2.GaussianBlur(log_grey, (0, 0), sigma)
    spread = float(detail.std()) + 1e-6
    return np.clip(detail * (_FLOW_CONTRAST / spread) + 128.0, 0, 255).astype(np.uint8)


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


def _low_frequency(diff: np.ndarray, mask: np.ndarray, grid_size: tuple[int, int]) -> np.ndarray:
    """Normalised convolution of `diff` over reliable pixels on the coarse grid, global fallback."""
    weighted = diff * mask[..., None]
    global_diff = weighted.reshape(-1, 3).sum(0) / max(float(mask.sum()), 1.0)
    num = cv2.resize(weighted, grid_size, interpolation=cv2.INTER_AREA)
    den = cv2.resize(mask, grid_size, interpolation=cv2.INTER_AREA)
    num = cv2.GaussianBlur(num, (0, 0), _GAIN_GRID_SIGMA, borderType=cv2.BORDER_REPLICATE)
    den = cv2.GaussianBlur(den, (0, 0), _GAIN_GRID_SIGMA, borderType=cv2.BORDER_REPLICATE)
    return ((num + _GLOBAL_PRIOR * global_diff) / (den + _GLOBAL_PRIOR)[..., None]).astype(np.float32)
