"""Pixels that flicker drove into clipping, restored from their neighbours along the motion.

A gain flicker that brightens a frame pushes its highlights to 255; dividing the gain
out again leaves them at 255 / gain, darker than they were, and the same for shadows
pushed to 0. Their value is lost in that frame, but not in the frames before and after,
where the flicker was weaker. So each such pixel takes the corrected value its
neighbours had, carried along the optical flow a frame at a time (forward through the
clip and backward, so a run of clipped frames is filled from both ends, and the two
averaged), and only where that value agrees with what the clipped frame still says: a
highlight recorded at 255 was at least 255 / gain, so it can only get brighter, and a
shadow only darker. Only pixels the correction moved off the clipping level are touched,
so a clip without flicker keeps its blown highlights exactly as they were.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from clipmill.qa.deflicker_motion import in_threads

# A channel at or beyond these levels is taken as clipped (H.264 rounding leaves 253-255 in a
# blown highlight) and as lost once the correction has moved it by more than _MOVED levels.
_LOW, _HIGH, _MOVED = 2, 253, 3


@dataclass(frozen=True)
class _Lost:
    """A frame's pixels with a clipped channel that the correction moved: where (N,), and
    which channels clipped high or low (N, 3) bool."""

    rows: np.ndarray
    cols: np.ndarray
    high: np.ndarray
    low: np.ndarray


def restore_saturated(frames: np.ndarray, corrected: np.ndarray, pairs: dict) -> None:
    """Replace, in place, the lost clipped pixels of `corrected` (deflicker's output for `frames`).

    pairs: deflicker_motion.pair_motion's flows on the small copy; (t, 1) holds frame t's
    flow back to t-1 (`to_prev`, consistent where `consistent`, in frame t's pixels) and
    frame t-1's flow on to t (`to_next`). Flow across a cut is not followed.
    """
    n = len(frames)
    lost = in_threads(lambda t: _lost(frames[t], corrected[t]), range(n))
    if all(item is None for item in lost):
        return
    back = [None] + [pairs[(t, 1)] for t in range(1, n)]  # frame t's flow to t-1
    on = [pairs[(t + 1, 1)] for t in range(n - 1)] + [None]  # frame t's flow to t+1

    def sweep(order, links, direction):
        """Filled values of each lost frame's lost pixels, carried from the frame before it in `order`."""
        carried, fills = None, {}
        for t in order:
            pair = links[t]
            if lost[t] is None or carried is None or pair is None or pair.is_cut:
                carried = corrected[t]
                continue
            fills[t] = _filled(corrected[t], carried, lost[t], pair, direction)
            carried = corrected[t].copy()
            carried[lost[t].rows, lost[t].cols] = fills[t]
        return fills

    forward, backward = in_threads(lambda args: sweep(*args), [
        (range(n), back, "prev"), (range(n - 1, -1, -1), on, "next")])
    for t, item in enumerate(lost):
        ways = [fills[t] for fills in (forward, backward) if t in fills]
        if not ways:
            continue
        # Each sweep already respects the bound; their mean halves the noise of either.
        both = ways[0] if len(ways) == 1 else ((ways[0].astype(np.uint16) + ways[1] + 1) >> 1).astype(np.uint8)
        corrected[t][item.rows, item.cols] = both


def _lost(frame: np.ndarray, corrected: np.ndarray) -> _Lost | None:
    # OpenCV's thresholds, not numpy's comparisons: this runs on every frame, and numpy's
    # cost half again as much (0.15 s against 0.09 s on 81 frames at 832x480).
    low_level, high_level = cv2.minMaxLoc(frame.reshape(-1))[:2]
    if _LOW < low_level and high_level < _HIGH:
        return None
    high = cv2.bitwise_and(cv2.threshold(frame, _HIGH - 1, 255, cv2.THRESH_BINARY)[1],
                           cv2.threshold(corrected, _HIGH - _MOVED - 1, 255, cv2.THRESH_BINARY_INV)[1])
    low = cv2.bitwise_and(cv2.threshold(frame, _LOW, 255, cv2.THRESH_BINARY_INV)[1],
                          cv2.threshold(corrected, _LOW + _MOVED, 255, cv2.THRESH_BINARY)[1])
    # Any channel lost: the grey of a 0/255 mask is non-zero wherever one of its channels is.
    points = cv2.findNonZero(cv2.cvtColor(cv2.bitwise_or(high, low), cv2.COLOR_RGB2GRAY))
    if points is None:
        return None
    cols, rows = points.reshape(-1, 2).T
    return _Lost(rows, cols, high[rows, cols] > 0, low[rows, cols] > 0)


def _filled(own_frame: np.ndarray, carried: np.ndarray, lost: _Lost, pair, direction: str) -> np.ndarray:
    """The lost pixels of `own_frame` (N, 3), their lost channels moved to `carried`'s value
    along the flow where the flow is consistent and the bound allows it."""
    flow = pair.to_prev if direction == "prev" else pair.to_next
    height, width = own_frame.shape[:2]
    sx, sy = flow.shape[1] / width, flow.shape[0] / height
    # Where each lost pixel sits on the small copy (pixel centres aligned, as cv2.resize does).
    small_x = (lost.cols.astype(np.float32) + 0.5) * sx - 0.5
    small_y = (lost.rows.astype(np.float32) + 0.5) * sy - 0.5
    step = _sample(flow, small_x, small_y, cv2.INTER_LINEAR)
    # The pair's forward-backward check lives in frame t's pixels: where the pixel starts
    # when carried back from t, where it lands when carried on to t.
    check_x, check_y = (small_x, small_y) if direction == "prev" else (small_x + step[:, 0], small_y + step[:, 1])
    follow = _sample(pair.consistent, check_x, check_y, cv2.INTER_NEAREST) > 0.5
    target_x = (small_x + step[:, 0] + 0.5) / sx - 0.5
    target_y = (small_y + step[:, 1] + 0.5) / sy - 0.5
    neighbour = _sample(carried, target_x, target_y, cv2.INTER_LINEAR)
    own = own_frame[lost.rows, lost.cols]
    out = own.copy()
    follow = follow.reshape(-1, 1)
    np.copyto(out, np.maximum(own, neighbour), where=lost.high & follow)
    np.copyto(out, np.minimum(own, neighbour), where=lost.low & follow)
    return out


_ROW = 4096  # remap's maps must stay under 32767 a side: N points are laid out in rows of this many


def _sample(image: np.ndarray, xs: np.ndarray, ys: np.ndarray, interpolation: int) -> np.ndarray:
    """`image` at the N points (xs, ys), touching those points only: (N,) or (N, channels)."""
    n = len(xs)
    rows = -(-n // _ROW)
    map_x, map_y = (np.resize(v.astype(np.float32), rows * _ROW).reshape(rows, _ROW) for v in (xs, ys))
    sampled = cv2.remap(image, map_x, map_y, interpolation, borderMode=cv2.BORDER_REPLICATE)
    return sampled.reshape(rows * _ROW, *image.shape[2:])[:n]
