"""How deflicker compares two frames: along their optical flow (DIS), preferring standing still
where the flow only follows moving bands of light, and what brightness and colour changed
between them (a gamma step and a smooth gain field). Used by qa.deflicker."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import cv2
import numpy as np

# Frames compared with each frame: the one before and the one before that. The second
# hop is what lets the noise of the steps be measured (the loop t-2 -> t-1 -> t must close).
_HOPS = (1, 2)
_FLOW_PRESET = cv2.DISOPTICAL_FLOW_PRESET_FAST
_GAIN_GRID_SIGMA = 1.0
# Weight of the frame-wide step in the normalised convolution: it only decides where
# the blurred reliability mask is nearly empty.
_GLOBAL_PRIOR = 0.05
# Pixels whose step is this many robust deviations from the smooth field are outliers
# (a flow that is slightly off at an edge, a highlight that changed) and are dropped.
_OUTLIER_SPREAD = 3.0
# A frame is a scene cut when fewer than this fraction of its pixels have a reliable
# flow, or when its fine detail correlates less than this with the aligned previous
# frame (detail below this blur radius, in working pixels).
_MIN_RELIABLE_FRACTION = 0.2
_MIN_CORRELATION = 0.5
# ... or when almost none of it can be measured (a flash to white).
_MIN_MEASURED_FRACTION = 0.002
_DETAIL_SIGMA = 3.0
# The gamma is read from detail between these blur radii (working pixels).
_BAND = (1.5, 6.0)
_MAX_LOG_GAMMA_STEP = float(np.log(3.0))
_MIN_GAMMA_SAMPLES = 120
# ... compared in this many tiles (rows, columns), each needing this many matched samples.
_GAMMA_TILES = (6, 8)
_MIN_TILE_SAMPLES = 30
# The flow sees log luma without its smooth layer (Gaussian sigma this fraction of the
# long side, well under the size of a patch of light) at this many levels per spread.
_FLOW_HIGHPASS = 1.0 / 48
_FLOW_CONTRAST = 32.0
# Standing still is preferred to a flow that matches fine detail (below this blur radius,
# working pixels, compared over this support) no better, within this many grey levels.
_STILL_DETAIL = 1.5
_STILL_SUPPORT = 3.0
_STILL_TOLERANCE = 0.5
# Frames are analysed and corrected on this many threads (the project's machines have 2 cores).
_WORKERS = 2
_LEVELS = np.arange(256, dtype=np.float32)
LOG_LEVEL = np.log(np.maximum(_LEVELS, 0.5) / 255.0)


def in_threads(function, items) -> list:
    """`function` over `items` on `_WORKERS` threads, in order (OpenCV and numpy let go of the GIL).

    OpenCV's own thread pool is held at one thread meanwhile: these threads already fill
    the cores, and on frames this small its extra threads cost more in hand-offs than
    they win (about 10% of the wall time on 2 cores). The setting is restored after.
    """
    items = list(items)
    if len(items) < 2 * _WORKERS:
        return [function(item) for item in items]
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            return list(pool.map(function, items, chunksize=max(1, len(items) // (4 * _WORKERS))))
    finally:
        cv2.setNumThreads(threads)


class _PairMotion:
    """Flow from frame t back to frame t-h, and where it is reliable.

    reliable: where the flow is consistent both ways and neither frame is clipped (what
    the steps are measured on). consistent: where the flow alone is consistent, in frame
    t's pixels (what clipped pixels are restored along).
    """

    def __init__(self, to_prev, to_next, reliable, consistent, correlation):
        self.to_prev, self.to_next = to_prev, to_next
        self.reliable, self.consistent = reliable, consistent
        # Two unrelated shots can still produce small, mutually consistent flows, so
        # a cut is also recognised by the aligned frames not looking alike. Clipping is no
        # cut: strong flicker clips half a bright frame, and the rest still measures the
        # step; only a frame with almost nothing left to measure on starts afresh.
        self.is_cut = (float(consistent.mean()) < _MIN_RELIABLE_FRACTION or correlation < _MIN_CORRELATION
                       or float(reliable.mean()) < _MIN_MEASURED_FRACTION)


def pair_motion(grey, unclipped, grid) -> dict[tuple[int, int], _PairMotion]:
    """Motion of every frame back to the one before it and the one before that.

    Each hop gets its own DIS flows, forward and backward (for the occlusion check).
    Cheaper second hops were tried on dev clips and lost up to 5 dB on strong gamma
    flicker: the single hops chained (the loop then closes by construction, so the noise
    is underestimated and the random walk of the steps is not averaged out), a direct
    flow checked against that chain, and DIS's ultrafast preset.
    """
    n = len(grey)
    fine = in_threads(_fine_detail, grey)
    structure = in_threads(_structure, grey)
    keys = [(t, h) for t in range(1, n) for h in _HOPS if t - h >= 0]
    return dict(zip(keys, in_threads(lambda key: _one_pair(grey, fine, structure, unclipped, grid, *key), keys)))


def _fine_detail(grey: np.ndarray) -> np.ndarray:
    g = grey.astype(np.float32)
    return g - cv2.GaussianBlur(g, (0, 0), _STILL_DETAIL)


def _structure(grey: np.ndarray) -> np.ndarray:
    """Detail below `_DETAIL_SIGMA`, which the cut test correlates: the low frequencies are
    exactly what flicker changes, and a patch of light would otherwise look like a new picture."""
    g = grey.astype(np.float32)
    return g - cv2.GaussianBlur(g, (0, 0), _DETAIL_SIGMA)


def _still_error(fine_now: np.ndarray, fine_other: np.ndarray) -> np.ndarray:
    """How badly standing still explains the fine detail; the same both ways, so computed once a pair."""
    return cv2.GaussianBlur(cv2.absdiff(fine_now, fine_other), (0, 0), _STILL_SUPPORT)


def _prefer_still(flow: np.ndarray, fine_now: np.ndarray, fine_other: np.ndarray, grid: np.ndarray,
                  err_still: np.ndarray) -> np.ndarray:
    """`flow`, set to zero wherever standing still explains the fine detail at least as well.

    Bands of light rolling down a flat wall are a pattern in motion, and the flow follows
    them; along that flow the bands never change, so they would never be seen. Fine
    detail (below `_STILL_DETAIL` working pixels) holds texture and hardly any of a
    smooth field: where it matches without moving, the picture did not move.
    """
    moved = cv2.remap(fine_other, grid + flow, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    err_moved = cv2.GaussianBlur(cv2.absdiff(fine_now, moved), (0, 0), _STILL_SUPPORT)
    # A multiply by the 0/1 mask: numpy's masked assignment cost six times as much.
    moving = (err_still > err_moved + _STILL_TOLERANCE).astype(np.float32)
    return flow * moving[..., None]


def _one_pair(grey, fine, structure, unclipped, grid, t: int, h: int) -> _PairMotion:
    dis = cv2.DISOpticalFlow_create(_FLOW_PRESET)  # one each: not shared across threads
    err_still = _still_error(fine[t], fine[t - h])
    to_prev = _prefer_still(dis.calc(grey[t], grey[t - h], None), fine[t], fine[t - h], grid, err_still)
    to_next = _prefer_still(dis.calc(grey[t - h], grey[t], None), fine[t - h], fine[t], grid, err_still)
    onto = grid + to_prev
    reliable = _reliable(to_prev, to_next, onto)
    correlation = 1.0
    if h == 1:
        aligned = cv2.remap(structure[t - 1], onto, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        correlation = _correlation(structure[t], aligned, reliable)
    return _PairMotion(to_prev, to_next, _unclipped_both(reliable, unclipped, t, h, onto), reliable, correlation)


def _unclipped_both(reliable: np.ndarray, unclipped, t: int, h: int, onto: np.ndarray) -> np.ndarray:
    clipped_before = cv2.remap(unclipped[t - h], onto, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return reliable * unclipped[t] * (clipped_before > 0.99)


def _correlation(a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> float:
    """Weighted normalised cross-correlation of two frames' detail (`_structure`)."""
    total = float(weight.sum())
    if total < 1.0:
        return 0.0
    da = a - float((a * weight).sum() / total)
    db = b - float((b * weight).sum() / total)
    var_a, var_b = float((da * da * weight).sum()), float((db * db * weight).sum())
    if min(var_a, var_b) < 1e-3 * total:
        return 1.0  # flat frames: nothing to contradict the flow
    return float((da * db * weight).sum() / np.sqrt(var_a * var_b))


def log_gamma_step(band_now: np.ndarray, band_before: np.ndarray, pair: _PairMotion, grid: np.ndarray) -> float:
    """Log of the ratio of the detail's spread now to its spread before, over the pixels the flow matches.

    A gain does not change detail in log, a gamma scales it. The spreads are compared
    rather than pixel by pixel ratios: a ratio of two samples is biased toward zero
    wherever they decorrelate (a flow slightly off, bands of light rolling over a flat
    wall), and that bias, the same at every frame, added up to a drift. They are compared
    tile by tile, and the tiles' log ratios combined by their median (weighted by detail):
    something entering the picture (a white car driving onto empty asphalt) brings detail
    to a few tiles that the flow cannot match everywhere, and in one frame-wide spread that
    read as a gamma step of about 1% at every frame it moved. One gamma for all channels:
    colour casts are gains, which the field holds.
    """
    # Every other pixel: the detail_band is smooth at that scale. Only those are warped
    # (each pixel's interpolation stands alone, so this is the full warp, subsampled), and
    # by nearest neighbour: interpolating softens the detail, a small step every frame.
    onto = np.ascontiguousarray((grid + pair.to_prev)[::2, ::2])
    warped = cv2.remap(band_before, onto, None, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    keep = pair.reliable[::2, ::2] > 0
    if int(keep.sum()) < _MIN_GAMMA_SAMPLES:
        return 0.0
    tiles = _tiles(keep.shape)[keep]
    count = np.bincount(tiles, minlength=_GAMMA_TILES[0] * _GAMMA_TILES[1])
    spread_now = np.bincount(tiles, np.abs(band_now[::2, ::2][keep]).sum(-1), len(count))
    spread_before = np.bincount(tiles, np.abs(warped[keep]).sum(-1), len(count))
    usable = (count >= _MIN_TILE_SAMPLES) & (np.minimum(spread_now, spread_before) > 1e-6 * count)
    if not usable.any():
        return 0.0
    log_ratio = np.log(spread_now[usable] / spread_before[usable])
    step = _weighted_median(log_ratio, (spread_now + spread_before)[usable])
    return float(np.clip(step, -_MAX_LOG_GAMMA_STEP, _MAX_LOG_GAMMA_STEP))


@lru_cache(maxsize=8)
def _tiles(shape: tuple[int, int]) -> np.ndarray:
    """Which of the `_GAMMA_TILES` tiles each pixel of an image of `shape` falls in."""
    rows = np.arange(shape[0]) * _GAMMA_TILES[0] // shape[0]
    cols = np.arange(shape[1]) * _GAMMA_TILES[1] // shape[1]
    return rows[:, None] * _GAMMA_TILES[1] + cols[None, :]


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


def detail_band(log_frame: np.ndarray) -> np.ndarray:
    # Per channel: the channels' mean would be a third of the cost, but it cancels colour
    # detail, and on dev clips the gamma read from it was worse by up to 3 dB.
    fine = cv2.GaussianBlur(log_frame, (0, 0), _BAND[0])
    return fine - cv2.GaussianBlur(fine, (0, 0), _BAND[1])


def field_step(now: np.ndarray, before: np.ndarray, pair: _PairMotion, grid, grid_size) -> tuple[np.ndarray, np.ndarray]:
    """G_t - G_{t-h} on the coarse grid (the difference along the flow, robustly smoothed),
    and each cell's support: the share of its neighbourhood that was measured (0-1)."""
    warped = cv2.remap(before, grid + pair.to_prev, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    diff = now - warped
    mask = pair.reliable
    field, _ = _low_frequency(diff, mask, grid_size)
    # One reweighting: pixels far from the smooth field are flow errors, not light.
    smooth = cv2.resize(field, diff.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    error = cv2.absdiff(diff, smooth)
    error = np.maximum(np.maximum(error[..., 0], error[..., 1]), error[..., 2])
    sample = error[::2, ::2][mask[::2, ::2] > 0]
    # The median by partition (np.median cost as much as the rest of the step).
    spread = 1.4826 * float(np.partition(sample, sample.size // 2)[sample.size // 2]) if sample.size else 0.0
    if spread > 0:
        mask = mask * (error < _OUTLIER_SPREAD * spread)
    field, support = _low_frequency(diff, mask, grid_size)
    return field.reshape(-1), support.reshape(-1)


def flow_image(small_rgb: np.ndarray) -> np.ndarray:
    """Grey image for the optical flow, blind to the flicker it is meant to measure.

    DIS matches brightness, so a flickering gain or a patch of light reads as motion
    and as occlusion (on strong flicker a third of the pixels failed the
    forward-backward check, and frames were taken for cuts). In log luma a gain field
    adds a smooth layer and a gamma scales everything: removing the layer above
    `_FLOW_HIGHPASS` of the width and dividing by the spread leaves only structure.
    """
    log_grey = cv2.LUT(cv2.cvtColor(small_rgb, cv2.COLOR_RGB2GRAY), LOG_LEVEL)
    sigma = _FLOW_HIGHPASS * max(log_grey.shape)
    detail = log_grey - cv2.GaussianBlur(log_grey, (0, 0), sigma)
    spread = float(detail.std()) + 1e-6
    return np.clip(detail * (_FLOW_CONTRAST / spread) + 128.0, 0, 255).astype(np.uint8)


def shrink(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`frame` at `size` (w, h): halved by area averaging while it is twice as large, then bilinear.

    OpenCV's area resize is fast only for whole factors (a 3.25x step cost 2 ms a frame
    at 832x480, the halvings 0.15 ms); what is left after them is under a factor of 2,
    where bilinear samples do not alias.
    """
    while frame.shape[1] >= 2 * size[0] and frame.shape[0] >= 2 * size[1]:
        frame = cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if frame.shape[1::-1] == tuple(size):
        return frame
    return cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)


def pixel_grid(size: tuple[int, int]) -> np.ndarray:
    w, h = size
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return np.dstack([xs, ys])


def _reliable(flow: np.ndarray, other: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pixels whose `flow` lands inside the frame (at `target`) and is undone by `other` there."""
    back = cv2.remap(other, target, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    h, w = flow.shape[:2]
    tx, ty = cv2.split(target)
    inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    fx, fy = cv2.split(flow)
    bx, by = cv2.split(back)
    err = cv2.magnitude(fx + bx, fy + by) ** 2
    bound = 0.01 * (cv2.magnitude(fx, fy) ** 2 + cv2.magnitude(bx, by) ** 2) + 0.5
    return (inside & (err < bound)).astype(np.float32)


def _low_frequency(diff: np.ndarray, mask: np.ndarray, grid_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Normalised convolution of `diff` over reliable pixels on the coarse grid, global fallback;
    and the blurred mask, how much of each cell's value was measured rather than fallen back on."""
    weighted = diff * mask[..., None]
    global_diff = np.array(cv2.sumElems(weighted)[:3], np.float32) / max(cv2.sumElems(mask)[0], 1.0)
    num = cv2.resize(weighted, grid_size, interpolation=cv2.INTER_AREA)
    den = cv2.resize(mask, grid_size, interpolation=cv2.INTER_AREA)
    num = cv2.GaussianBlur(num, (0, 0), _GAIN_GRID_SIGMA, borderType=cv2.BORDER_REPLICATE)
    den = cv2.GaussianBlur(den, (0, 0), _GAIN_GRID_SIGMA, borderType=cv2.BORDER_REPLICATE)
    return ((num + _GLOBAL_PRIOR * global_diff) / (den + _GLOBAL_PRIOR)[..., None]).astype(np.float32), den
