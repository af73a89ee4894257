"""Optical-flow deflicker: remove brightness and colour flicker, leave everything else.

The clip is never blended or resampled. Each channel of each frame only goes through
a tone curve (a power law) and a smooth gain field, so edges and texture stay exactly
where the generator put them; what changes is brightness, contrast of the tones and
colour balance, which are pulled onto their slow trend. The one exception is a pixel
the flicker clipped, whose value that frame no longer holds (step 6).

Flicker model, per frame t, in log brightness l = log(x / 255) of each channel (a gamma
on x / 255 and a gain are then exact, down to the darkest levels):

    l_t(p) = A_t * (l_clean(p) + G_t(p, c))

A_t is a tone (gamma) jitter shared by the channels; G_t a smooth field holding the
global gain, the colour gains and local patches or bands of light. Dividing by A_t
(u = l / A) makes the field additive, so between two frames along the motion
u_t - u_s = G_t - G_s whatever the picture is.

How it is found, on a small copy of the clip (long side `flow_width`):

1. DIS optical flow between each frame and the one and two before it, both ways.
   A pixel is reliable when the two flows agree (forward-backward consistency,
   Sundaram et al. 2010), stays inside the frame and is not clipped; anything that
   moves in or out of view is left out. A frame whose reliable pixels are too few,
   or whose detail does not match the aligned previous frame, starts a new shot.
2. Each pair gives a gamma step (the ratio of band-pass detail, which a gain does not
   change in log and a gamma scales) and a field step (the difference along the flow,
   reduced to a coarse grid by a robust normalised convolution). Two hops per frame
   over-determine the per-frame values; least squares over the shot gives them on one
   scale, and what the least squares cannot fit measures how noisy the steps are.
3. The target is the slow trend of each value: a Gaussian-weighted local polynomial fit
   over time that stops at shot boundaries. Its degree (0-2) and width (`window` to 4x
   `window` frames) are chosen per clip by leave-block-out cross-validation: the
   smoothest trend that predicts each frame from frames beyond its neighbours as well as
   the best one does. Steady light gets a flat, wide trend that leaves little flicker
   in it; a real exposure swing or fade keeps a curve that follows it. Anything faster
   than the trend is flicker.
4. Strength adapts to the flicker present: the measured noise, carried through the
   same least squares and trend, says how much of the apparent flicker a clip without
   any would show; each value (gamma, the three channel levels, each grid cell) keeps
   only the share of its correction that stands above that (a Wiener gain). A clean
   clip gets a gain near zero and comes out as it went in.
5. Each frame is mapped onto its target: a per-channel lookup table for the gamma,
   times the upsampled gain field.
6. Pixels the flicker clipped take their neighbours' corrected values along the flow,
   within the bound the clipped value still gives (qa.deflicker_saturation).
"""
from __future__ import annotations

import threading

import cv2
import numpy as np

from clipmill.qa._frames import as_clip
from clipmill.qa.deflicker_saturation import restore_saturated
from clipmill.qa.deflicker_motion import (
    LOG_LEVEL,
    detail_band,
    field_step,
    flow_image,
    log_gamma_step,
    in_threads,
    pair_motion,
    pixel_grid,
    shrink,
)

# Gain fields live on a grid this wide (cells of 8 working pixels): fine enough for
# bands and patches of light, coarse enough that no texture or edge leaks into a gain.
_GAIN_GRID_WIDTH = 32
# Values at or beyond these levels are clipped, and clipping is not a gain.
_DARK, _BRIGHT = 4, 250
# Trends tried: (polynomial degree, sigma as a multiple of `window`). The local quadratic
# follows the rise and fall of an exposure swing; on steady light a wider, flatter trend
# leaves less of the flicker in it.
_CV_BLOCK = 2
_TRENDS = ((2, 1.0), (2, 2.0), (2, 4.0), (1, 2.0), (1, 4.0), (0, 4.0))
# Over-subtraction of the noise in the Wiener gain: the noise measured from the loops
# is itself an estimate, and a clean clip must not be corrected on a chance excess.
_NOISE_MARGIN = 2.0
# Noise and flicker power of neighbouring grid cells are pooled (sigma in cells).
_POOL_SIGMA = 2.0
_MIN_FLOW_SIDE = 16
# Weight of a step in a cell with nothing measured, against 1 for a fully measured one: it
# still ties the cell's values across a run of clipped frames (to the frame-wide step).
_UNMEASURED_WEIGHT = 0.02


def deflicker(
    frames: np.ndarray,
    *,
    strength: float = 1.0,
    window: int = 9,
    flow_width: int = 256,
    max_gain: float = 2.0,
) -> np.ndarray:
    """Return a copy of `frames` (F, H, W, 3) uint8 with brightness and colour flicker removed.

    strength: 0 returns the input unchanged, 1 applies the correction the measured
        flicker calls for (values in between scale it, in log). The correction is
        already scaled down where the flicker is near the measurement noise, so a clip
        without flicker is left as it was at any strength.
    window: how many frames of brightness change count as flicker rather than a real
        change of light: the sigma, in frames, of the trend that is kept.
    flow_width: long side of the copy that flow and gains are measured on.
    max_gain: bound on the correction either way (1/max_gain .. max_gain), for the
        gain and for the gamma.

    Clips of fewer than three frames, or frames under 16 pixels on a side, come back unchanged.
    """
    frames = as_clip(frames)
    if strength <= 0 or len(frames) < 3:
        return frames.copy()
    if window < 2:
        raise ValueError(f"window must be at least 2 frames, got {window}")
    height, width = frames.shape[1:3]
    if min(height, width) < _MIN_FLOW_SIDE:
        return frames.copy()  # too small for optical flow to mean anything

    # 1. a small copy to measure on
    scale = min(1.0, max(flow_width / max(height, width), _MIN_FLOW_SIDE / min(height, width)))
    work_size = (round(width * scale), round(height * scale))
    grid_w = min(_GAIN_GRID_WIDTH, work_size[0])
    grid_size = (grid_w, max(1, round(grid_w * work_size[1] / work_size[0])))
    grey, log_small, unclipped = zip(*in_threads(lambda f: _measured_copies(f, work_size), frames))

    # 2-4. motion, steps, trends and the correction
    grid = pixel_grid(work_size)
    pairs = pair_motion(grey, unclipped, grid)
    estimate = _estimate(pairs, log_small, grid, grid_size, float(window))
    if estimate is None:
        return frames.copy()

    # 5. l' = a * l + A' * dG: a tone table per channel and a gain field
    out = np.empty_like(frames)

    def apply(t: int) -> None:
        _correct(frames[t], *estimate.frame(t, strength, max_gain, grid_size), out[t])

    in_threads(apply, range(len(frames)))
    # 6. what the flicker clipped, from the neighbours
    restore_saturated(frames, out, pairs)
    return out


def _measured_copies(frame: np.ndarray, work_size) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The small copy's grey image for the flow, log levels, and unclipped mask (1 or 0).

    All made in one pass a frame, on the threads: made one after the other they cost a
    pool hand-off each, and two of them ran on one thread."""
    small = shrink(frame, work_size)
    unclipped = cv2.inRange(small, (_DARK + 1,) * 3, (_BRIGHT - 1,) * 3).astype(np.float32) / 255.0
    return flow_image(small), cv2.LUT(small, LOG_LEVEL), unclipped


class _Estimate:
    """Per frame: log gamma as measured, the log-gamma correction, and the field correction (grid)."""

    def __init__(self, log_gamma, gamma_fix, field_fix):
        self.log_gamma, self.gamma_fix, self.field_fix = log_gamma, gamma_fix, field_fix

    def frame(self, t: int, strength: float, max_gain: float, grid_size) -> tuple[float, np.ndarray]:
        limit = float(np.log(max_gain))
        log_a = float(np.clip(strength * self.gamma_fix[t, 0], -limit, limit))
        target_gamma = np.exp(self.log_gamma[t, 0] + log_a)
        log_gain = np.clip(strength * target_gamma * self.field_fix[t], -limit, limit)
        return log_a, log_gain.reshape(grid_size[1], grid_size[0], 3)


def _estimate(pairs, log_small, grid, grid_size, sigma: float) -> _Estimate | None:
    n = len(log_small)
    shots = np.cumsum([0] + [int(pairs[(t, 1)].is_cut) for t in range(1, n)])
    edges = [(t, h) for (t, h) in pairs if shots[t] == shots[t - h]]
    track = _Track(edges, shots, sigma=sigma)
    if not track.edges:
        return None
    # gamma per frame from its steps, then the fields on the gamma-free copy
    bands = in_threads(detail_band, log_small)
    gamma_steps = np.array(in_threads(lambda e: [log_gamma_step(bands[e[0]], bands[e[0] - e[1]], pairs[e], grid)], edges))
    log_gamma, gamma_fix = track.correction(gamma_steps)
    inv_gamma = np.exp(-log_gamma[:, 0]).astype(np.float32)
    fields, supports = zip(*in_threads(
        lambda e: field_step(log_small[e[0]] * inv_gamma[e[0]], log_small[e[0] - e[1]] * inv_gamma[e[0] - e[1]],
                              pairs[e], grid, grid_size),
        edges))
    cells = grid_size[0] * grid_size[1]
    field_steps = np.stack(fields).reshape(len(edges), cells, 3)
    level_steps = field_steps.mean(1)
    local_steps = (field_steps - level_steps[:, None]).reshape(len(edges), -1)
    _, level_fix = track.correction(level_steps)
    # A cell that was clipped or occluded in a frame was not measured there: its steps into
    # and out of that frame are only the fallback, and counted as little as they were measured.
    local_weights = np.stack(supports) + _UNMEASURED_WEIGHT
    _, local_fix = track.correction(local_steps, weights=local_weights, pool=(grid_size[1], grid_size[0], 3))
    return _Estimate(log_gamma, gamma_fix, level_fix[:, None, :] + local_fix.reshape(n, cells, 3))


# Full-size float buffers of the correction, one pair per thread: allocating them afresh
# for every frame cost five times the arithmetic (page faults on 5 MB arrays).
_buffers = threading.local()


def _correct(frame: np.ndarray, log_a: float, log_gain: np.ndarray, out: np.ndarray) -> None:
    """`out` = frame through the tone table of gamma exp(log_a), times the upsampled gain field."""
    # A tone change moves a level by at most 255/e * |log a|, a gain by 255 * |log gain|.
    if 93.8 * abs(log_a) + 255.0 * float(np.abs(log_gain).max()) < 0.5:
        out[...] = frame  # rounds back to the same levels: the frame is left exact
        return
    if getattr(_buffers, "shape", None) != frame.shape:
        _buffers.shape = frame.shape
        _buffers.toned, _buffers.gain = np.empty(frame.shape, np.float32), np.empty(frame.shape, np.float32)
    toned, gain = _buffers.toned, _buffers.gain
    # x = 255 * exp(l); the table holds 255 * exp(a * l), the same for each channel (0 stays 0).
    table = (255.0 * np.exp(LOG_LEVEL * np.exp(log_a))).astype(np.float32)
    table[0] = 0.0
    cv2.LUT(frame, np.repeat(table[:, None], 3, axis=1)[None], dst=toned)
    cv2.resize(np.exp(log_gain).astype(np.float32), frame.shape[1::-1], dst=gain, interpolation=cv2.INTER_LINEAR)
    cv2.multiply(toned, gain, dst=out, dtype=cv2.CV_8U)


class _Track:
    """Per-frame values from steps between frames, their slow trend, and how much to trust the rest.

    Each edge (t, h) measures value[t] - value[t - h]. Least squares over all edges gives
    the values (each shot on a scale of its own: its mean is pinned by a tiny ridge,
    which the trend removes again); the flicker is value minus trend.
    """

    def __init__(self, edges: list[tuple[int, int]], shots: np.ndarray, *, sigma: float):
        n = len(shots)
        self.edges = edges
        if not edges:
            return
        incidence = np.zeros((len(edges), n))
        for e, (t, h) in enumerate(edges):
            incidence[e, t], incidence[e, t - h] = 1.0, -1.0
        normal = incidence.T @ incidence + 1e-6 * np.eye(n)
        self._incidence = incidence
        self._solve = np.linalg.solve(normal, incidence.T)  # (n, E): steps -> values
        self._dof = len(edges) - n + len(np.unique(shots))
        self._trends = []
        for degree, widen in _TRENDS:
            trend = _trend_matrix(shots, sigma * widen, degree)
            detrend = np.eye(n) - trend
            # Noise power that independent step errors of unit variance leave in the flicker.
            noise_gain = float(((detrend @ self._solve) ** 2).sum() / n)
            # Leave-block-out cross-validation: each frame predicted from frames farther than
            # `_CV_BLOCK` away, so flicker that lasts a few frames cannot predict itself.
            held_out = np.eye(n) - _trend_matrix(shots, sigma * widen, degree, leave_out=_CV_BLOCK)
            self._trends.append((detrend, noise_gain, held_out, float(np.trace(trend))))

    def _choose_trend(self, values: np.ndarray) -> int:
        """Index of the smoothest trend whose cross-validated error is within one standard error of the best.

        Plain cross-validation (or GCV) reads flicker that stays for a few frames as
        light that changed, since each frame's neighbours predict it; leaving a block of
        frames out (`_CV_BLOCK` either side, as for dependent errors, Chu & Marron 1991)
        stops that. The one-standard-error rule (Breiman et al. 1984) then takes the
        smoothest trend (fewest degrees of freedom, the trace of its smoother) that the
        data cannot tell apart from the best one; a real exposure swing still rules the
        flat ones out.
        """
        per_frame = [((held_out @ values) ** 2).mean(1) for _, _, held_out, _ in self._trends]
        scores = np.array([p.mean() for p in per_frame])
        best = int(np.argmin(scores))
        error = per_frame[best].std() / np.sqrt(len(per_frame[best]))
        within = [i for i, score in enumerate(scores) if score <= scores[best] + error]
        return min(within, key=lambda i: self._trends[i][3])

    def _weighted_solve(self, steps: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Values (n, k) by least squares with a weight per step and group of values.

        weights (E, g): column j weighs the steps of the k/g consecutive values of group j
        (the three channels of a grid cell), which therefore share one normal matrix. The
        steps span at most `max(_HOPS)` frames, so that matrix is banded, and a banded
        Cholesky solves all the groups at once (dense solves of 600 cells cost 0.1 s a clip).
        """
        n, groups = self._incidence.shape[1], weights.shape[1]
        width = max(h for _, h in self.edges)
        # band[d][i] = normal[i, i - d], one row per group
        band = np.zeros((width + 1, n, groups))
        band[0] += 1e-6
        for e, (t, h) in enumerate(self.edges):
            band[0, t] += weights[e]
            band[0, t - h] += weights[e]
            band[h, t] -= weights[e]
        per_group = steps.shape[1] // groups
        weighted = (steps.reshape(len(self.edges), groups, per_group) * weights[..., None]).reshape(steps.shape)
        rhs = (self._incidence.T @ weighted).reshape(n, groups, per_group)
        return _banded_cholesky_solve(band, rhs).reshape(n, -1)

    def correction(self, steps: np.ndarray, *, weights: np.ndarray | None = None,
                   pool: tuple[int, int, int] | None = None):
        """Trusted values (n, k) and the correction toward their trend (n, k), Wiener-weighted.

        The trend is chosen from `_TRENDS` by cross-validation over all k values
        (see `_choose_trend`): on steady light a
        wide trend leaves less of the flicker in it, while a real change of light (an
        exposure swing) keeps it narrow.
        weights: (E, g), how much each step counts for each group of k/g values (None: all alike).
        pool: (rows, cols, channels) when the k values are grid cells, whose noise and
        flicker power are pooled over neighbouring cells before they are compared.
        """
        values = self._solve @ steps if weights is None else self._weighted_solve(steps, weights)
        detrend, noise_gain, _, _ = self._trends[self._choose_trend(values)]
        flicker = detrend @ values
        if self._dof <= 0:  # nothing over-determined: no way to tell flicker from noise
            return values - flicker, np.zeros_like(flicker)
        misfit = steps - self._incidence @ values
        if weights is None:
            noise = (misfit**2).sum(0) / self._dof * noise_gain
        else:
            w = np.repeat(weights, steps.shape[1] // weights.shape[1], axis=1)
            noise = (w * misfit**2).sum(0) / w.sum(0) * len(self.edges) / self._dof * noise_gain
        power = (flicker**2).mean(0)
        if pool is not None:
            noise, power = (_pool(x.reshape(pool)).reshape(-1) for x in (noise, power))
        weight = np.clip(1.0 - _NOISE_MARGIN * noise / np.maximum(power, 1e-12), 0.0, 1.0)
        # The values as far as they are trusted: the trend plus the flicker that stands
        # above the noise. Anything computed from them (the gamma-free copy) must not
        # inherit the noise that the correction leaves alone.
        return values - (1.0 - weight) * flicker, -weight * flicker


def _banded_cholesky_solve(band: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve A x = rhs for many symmetric positive definite banded A at once.

    band (w+1, n, g): band[d, i] = A[i, i-d] for each of g matrices; rhs (n, g, c).
    """
    width, n = band.shape[0] - 1, band.shape[1]
    lower = np.zeros_like(band)  # lower[d, i] = L[i, i-d]
    for i in range(n):
        for d in range(width, 0, -1):
            if i - d < 0:
                continue
            total = band[d, i] - sum(lower[d + m, i] * lower[m, i - d] for m in range(1, width - d + 1) if i - d - m >= 0)
            lower[d, i] = total / lower[0, i - d]
        lower[0, i] = np.sqrt(band[0, i] - sum(lower[d, i] ** 2 for d in range(1, width + 1) if i - d >= 0))
    y = np.empty_like(rhs)
    for i in range(n):
        y[i] = (rhs[i] - sum(lower[d, i][:, None] * y[i - d] for d in range(1, width + 1) if i - d >= 0)) / lower[0, i][:, None]
    x = np.empty_like(rhs)
    for i in range(n - 1, -1, -1):
        x[i] = (y[i] - sum(lower[d, i + d][:, None] * x[i + d] for d in range(1, width + 1) if i + d < n)) / lower[0, i][:, None]
    return x


def _pool(values: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(values.astype(np.float32), (0, 0), _POOL_SIGMA, borderType=cv2.BORDER_REPLICATE)


def _trend_matrix(shots: np.ndarray, sigma: float, degree: int, leave_out: int = -1) -> np.ndarray:
    """Rows of a Gaussian-weighted local polynomial regression over time, per shot.

    leave_out: frames within this distance of t get no weight in row t (-1: none left out).
    """
    n = len(shots)
    times = np.arange(n, dtype=np.float64)
    offsets = times[None, :] - times[:, None]  # (t, s): s - t
    same = shots[None, :] == shots[:, None]
    usable = same & (np.abs(offsets) > leave_out)
    usable = np.where(usable.sum(1, keepdims=True) > degree, usable, same)
    weights = np.exp(-0.5 * (offsets / sigma) ** 2) * usable
    # A short shot cannot support a curve; fall back to a line or a mean.
    fits = np.minimum(degree, same.sum(1) - 1)
    matrix = np.zeros((n, n))
    for fit in np.unique(fits):
        rows = np.flatnonzero(fits == fit)
        design = np.stack([offsets[rows] ** k for k in range(fit + 1)], axis=-1)  # (r, n, fit+1)
        weighted = design * weights[rows][..., None]
        normal = np.einsum("rsi,rsj->rij", weighted, design)
        # Row t of the smoother is the intercept's row of (D'WD)^-1 D'W.
        first = np.linalg.pinv(normal)[:, 0, :]
        matrix[rows] = np.einsum("ri,rsi->rs", first, weighted)
    return matrix
