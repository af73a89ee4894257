"""Join generated segments into one clip without a visible seam, and measure the seams.

Segment k+1 is generated from segment k's last frame, so its first `shared_frames`
frames show the same moment as the end of segment k. Those repeats are dropped
(the boundary frame is never shown twice), the later segment's colours are mapped
onto the earlier one's, and where more than the boundary frame is shared the overlap
can be crossfaded.

A chained generation also tends to start slightly off: the repeated frame is
re-encoded by the model and comes back moved by a few pixels, and sometimes a little
zoomed or turned. That motion is measured on the frames that show the same moment
(phase correlation of their high-passed luma, refined by ECC to an affine map; see
`estimate_warp`), and the later segment is moved back by it; the correction is full at
the seam and eases to none (half a cosine) over `jump_ease_frames`, so it is itself a
slow drift of under a pixel a frame rather than a second jump. Pixels the move
uncovers at the frame border are filled by reflection, which keeps texture there
instead of a smeared or black edge.

Colour: once aligned, the shared frames are the same picture twice, so each channel's
tone curve from the later segment to the earlier one can be read off pixel by pixel
(binned, monotone): brightness, white balance and gamma drifts alike. Without shared
frames only the statistics either side can be compared (Lab, then RGB mean and std).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from clipmill.qa._frames import as_clip, luma
from clipmill.qa.stitch_warp import IDENTITY, centre_shift, estimate_warp, margins, undo_warp
from clipmill.qa.types import Check, CheckKind

# How far the colour correction relaxes by the end of a segment: the seam needs the
# full match, but the rest of the segment may change its light on purpose (a new
# action prompt), so far from the seam only half of the correction is kept.
_COLOUR_MATCH_FLOOR = 0.5
# Bounds on the contrast (std) correction: a larger ratio means the two ends do not
# show the same content, and stretching would do more harm than the seam.
_MAX_STD_RATIO = 2.0
# Frames compared either side of a seam when no frames are shared.
_SEAM_CONTEXT = 4
# Below this a frame-to-frame change is quantisation noise, so a static clip's
# seam ratio is measured against it instead of against zero.
_MIN_INSIDE_DIFF = 0.5
# Tone curves are read in bins of this many levels; a bin needs this many pixels.
_TONE_BIN = 8
_TONE_MIN_PIXELS = 40
# Below this share of an earlier frame's pixels at levels the later segment clipped,
# the loss is too small to see and the earlier segment is left exact.
_MIN_LOST_SHARE = 0.005


@dataclass
class StitchResult:
    frames: np.ndarray
    seams: list[int]  # output index of the first frame of each later segment
    jumps: list[tuple[float, float]] = field(default_factory=list)  # (dx, dy) undone at each seam, at the centre
    # The full map undone at each seam (2x3, later-segment pixel = warp @ (x, y, 1)), zoom and turn included.
    warps: list[np.ndarray] = field(default_factory=list)


def stitch_segments(
    segments: list[np.ndarray],
    *,
    shared_frames: int = 1,
    match_colour: bool = True,
    blend_frames: int = 0,
    align: bool = True,
    jump_ease_frames: int = 12,
) -> StitchResult:
    """Join `segments` (each (F, H, W, 3) uint8) into one clip.

    shared_frames: leading frames of each later segment that repeat the end of the
        segment before it; they are dropped.
    match_colour: match each later segment's per-channel Lab mean and std to the
        earlier segment, in full at the seam and easing to a half-strength match by
        the segment's end (see `match_segment_colour`).
    blend_frames: crossfade this many of the shared frames (at most `shared_frames`),
        replacing the earlier segment's last frames with a blend that moves toward
        the later segment's versions of the same moments.
    align: undo a small spatial jump between the shared frames (needs
        shared_frames >= 1: without a common moment, motion and jump are one thing).
    jump_ease_frames: frames after the seam over which that correction eases back to
        zero (12 is half a second at 24 fps; 0 leaves the shown frames unshifted).
    """
    if not segments:
        raise ValueError("no segments to stitch")
    if shared_frames < 0 or blend_frames < 0 or jump_ease_frames < 0:
        raise ValueError("shared_frames, blend_frames and jump_ease_frames must be >= 0")
    if blend_frames > shared_frames:
        raise ValueError(f"blend_frames={blend_frames} needs at least as many shared frames (shared_frames={shared_frames})")
    segments = [as_clip(s, name=f"segment {i}") for i, s in enumerate(segments)]
    height, width = segments[0].shape[1:3]
    for i, segment in enumerate(segments[1:], start=1):
        if segment.shape[1:3] != (height, width):
            raise ValueError(
                f"segment {i} is {segment.shape[2]}x{segment.shape[1]} but segment 0 is {width}x{height}"
            )
        if len(segment) <= shared_frames:
            raise ValueError(f"segment {i} has {len(segment)} frames, all shared with segment {i - 1}")
    if len(segments) == 1:
        return StitchResult(frames=segments[0], seams=[])

    pieces = [segments[0]]
    previous = segments[0]
    seams: list[int] = []
    jumps: list[tuple[float, float]] = []
    warps: list[np.ndarray] = []
    length = len(segments[0])
    for index, segment in enumerate(segments[1:], start=1):
        warp = IDENTITY.copy()
        if align and shared_frames:
            warp = estimate_warp(previous[-1], segment[shared_frames - 1])
            segment = undo_warp(segment, warp, seam=shared_frames - 1, ease_frames=jump_ease_frames)
        warps.append(warp)
        jumps.append(centre_shift(warp, width, height))
        if match_colour:
            if shared_frames:
                pieces[-1] = fade_lost_levels(pieces[-1], previous[len(previous) - shared_frames:],
                                              segment[:shared_frames], fade_frames=jump_ease_frames)
            segment = match_segment_colour(previous, segment, shared_frames=shared_frames)
        if blend_frames:
            if len(pieces[-1]) < blend_frames:
                raise ValueError(f"segment {index - 1} keeps fewer than blend_frames={blend_frames} frames to blend")
            pieces[-1] = _crossfade(pieces[-1], segment[shared_frames - blend_frames:shared_frames])
        seams.append(length)
        pieces.append(segment[shared_frames:])
        length += len(segment) - shared_frames
        previous = segment
    return StitchResult(frames=np.concatenate(pieces), seams=seams, jumps=jumps, warps=warps)


def _crossfade(earlier: np.ndarray, overlap_later: np.ndarray) -> np.ndarray:
    """`earlier` with its last frames blended toward the later segment's versions of the same moments."""
    earlier = earlier.copy()
    count = len(overlap_later)
    weights = np.arange(1, count + 1) / (count + 1)
    for frame_a, frame_b, w in zip(earlier[-count:], overlap_later, weights):
        frame_a[...] = cv2.addWeighted(frame_a, 1.0 - w, frame_b, w, 0.0)
    return earlier


def match_segment_colour(earlier: np.ndarray, later: np.ndarray, *, shared_frames: int = 1) -> np.ndarray:
    """Return `later` with its colours mapped onto `earlier`'s, fully at the seam, eased after.

    With shared frames (already aligned) each channel gets the tone curve that maps the
    later segment's version of those moments onto the earlier one's (`_tone_curves`):
    a gain, an offset, a white-balance change and a gamma drift are all such curves, and
    reading them pixel by pixel leaves well under a level of error. Without shared
    frames only statistics can be compared: the per-channel mean and std in Lab, then the
    same in RGB on the result, on a few frames either side of the boundary.

    The full correction applies to the first frame of `later` that is shown and fades
    linearly to `_COLOUR_MATCH_FLOOR` of it at its end: the rest of the segment may
    change its light on purpose (a new action prompt).
    """
    if shared_frames > 0:
        curves = _tone_curves(earlier[len(earlier) - shared_frames:], later[:shared_frames])
        if curves is None:
            return later
        ease = _ease(len(later), shared_frames)
        levels = np.arange(256, dtype=np.float32)[:, None]
        out = np.empty_like(later)
        for i, (frame, e) in enumerate(zip(later, ease)):
            table = np.clip(levels + e * (curves - levels) + 0.5, 0, 255).astype(np.uint8)
            out[i] = cv2.LUT(frame, table[None])
        return out
    matched = _match_stats(earlier, later, shared_frames, _to_lab, _from_lab)
    return _match_stats(earlier, matched, shared_frames, _to_float, _from_float)


def fade_lost_levels(earlier: np.ndarray, earlier_shared: np.ndarray, later_shared: np.ndarray, *,
                     fade_frames: int) -> np.ndarray:
    """Return `earlier` with the levels the later segment clipped faded out over its last frames.

    A continuation that came back brighter (or darker) clips highlights (or shadows) that
    no tone curve can bring back: mapped onto the earlier segment's colours they are a
    flat patch where the earlier frame had texture, and the texture vanished at the seam
    (on a bright wall with 30% of the pixels clipped, 1.9x a normal frame step, nearly
    all of it in those pixels). Instead those levels of the earlier segment ease, over
    its last `fade_frames` frames, onto what the later segment shows there (its level
    mapped back), so the highlight is lost gradually rather than at one cut. Levels the
    later segment did not clip are left exactly as they were.
    """
    if fade_frames == 0 or len(earlier) == 0:
        return earlier
    forward = _tone_curves(later_shared, earlier_shared)  # earlier levels -> later levels
    back = _tone_curves(earlier_shared, later_shared)  # later levels -> earlier levels
    if forward is None or back is None:
        return earlier
    levels = np.arange(256, dtype=np.float32)
    lost = (forward >= 254.5) | (forward <= 0.5)
    share = [lost[earlier_shared[..., c], c].mean() for c in range(3)]
    if max(share) < _MIN_LOST_SHARE:
        return earlier
    round_trip = np.stack([np.interp(np.clip(forward[:, c], 0, 255), levels, back[:, c]) for c in range(3)], axis=1)
    target = np.where(lost, round_trip, levels[:, None])
    out = earlier.copy()
    count = min(fade_frames, len(earlier))
    for k in range(count):  # k = 0 is the last frame shown before the seam
        ease = 0.5 * (1.0 + np.cos(np.pi * k / fade_frames))
        table = np.clip(levels[:, None] + ease * (target - levels[:, None]) + 0.5, 0, 255).astype(np.uint8)
        out[len(earlier) - 1 - k] = cv2.LUT(earlier[len(earlier) - 1 - k], table[None])
    return out


def _ease(length: int, shared_frames: int) -> np.ndarray:
    """1 up to the first frame shown, then falling linearly to the floor at the end."""
    seam = min(shared_frames, length - 1)
    ease = np.ones(length)
    ease[seam:] = np.linspace(1.0, _COLOUR_MATCH_FLOOR, length - seam)
    return ease


def _tone_curves(reference: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """(256, 3) float curves taking `target`'s levels to `reference`'s; None when they already agree.

    The two show the same moments, so pixel (x, y) of one is pixel (x, y) of the other
    up to the re-render: per channel the mean reference level of each bin of target
    levels, joined piecewise linearly and made monotone; beyond the levels present the
    curve continues with the slope of a straight-line fit. The border strip is left out
    (the alignment filled it by reflection).
    """
    mx, my = margins(reference[0])
    h, w = reference.shape[1:3]
    ref = reference[:, my:h - my, mx:w - mx].reshape(-1, 3).astype(np.float64)
    tgt = target[:, my:h - my, mx:w - mx].reshape(-1, 3)
    levels = np.arange(256, dtype=np.float64)
    curves = np.empty((256, 3))
    for c in range(3):
        bins = tgt[:, c] // _TONE_BIN
        count = np.bincount(bins, minlength=256 // _TONE_BIN)
        keep = count >= _TONE_MIN_PIXELS
        if keep.sum() < 2:
            curves[:, c] = levels + (ref[:, c].mean() - tgt[:, c].mean())
            continue
        x = np.bincount(bins, weights=tgt[:, c].astype(np.float64), minlength=len(count))[keep] / count[keep]
        y = np.bincount(bins, weights=ref[:, c], minlength=len(count))[keep] / count[keep]
        y = np.maximum.accumulate(y)
        slope, intercept = np.polyfit(x, y, 1, w=np.sqrt(count[keep]))
        curve = np.interp(levels, x, y)
        below, above = levels < x[0], levels > x[-1]
        curve[below] = y[0] + slope * (levels[below] - x[0])
        curve[above] = y[-1] + slope * (levels[above] - x[-1])
        curves[:, c] = curve
    if np.abs(curves - levels[:, None]).max() < 0.5:
        return None
    return curves.astype(np.float32)


def _match_stats(earlier, later, shared_frames, forward, backward) -> np.ndarray:
    n_ref = shared_frames if shared_frames > 0 else min(_SEAM_CONTEXT, len(earlier), len(later))
    ref_mean, ref_std = _stats(earlier[len(earlier) - n_ref:], forward)
    own_mean, own_std = _stats(later[:n_ref], forward)
    ratio = np.clip(ref_std / np.maximum(own_std, 1e-3), 1 / _MAX_STD_RATIO, _MAX_STD_RATIO)
    if np.allclose(ratio, 1.0, atol=1e-3) and np.allclose(ref_mean, own_mean, atol=1e-2):
        return later
    ease = _ease(len(later), shared_frames)
    out = np.empty_like(later)
    for i, (frame, e) in enumerate(zip(later, ease)):
        scale = 1.0 + e * (ratio - 1.0)
        # x' = mean_ref + scale * (x - mean_own), eased: the mean moves by e * shift.
        offset = own_mean + e * (ref_mean - own_mean) - scale * own_mean
        out[i] = backward(forward(frame) * scale.astype(np.float32) + offset.astype(np.float32))
    return out


def _to_float(frame: np.ndarray) -> np.ndarray:
    return frame.astype(np.float32)


def _from_float(values: np.ndarray) -> np.ndarray:
    return np.clip(values + 0.5, 0, 255).astype(np.uint8)


def _stats(frames: np.ndarray, forward) -> tuple[np.ndarray, np.ndarray]:
    pixels = np.concatenate([forward(f).reshape(-1, 3) for f in frames])
    return pixels.mean(0).astype(np.float64), pixels.std(0).astype(np.float64)


def _to_lab(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _from_lab(lab: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _lab_stats(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pixels = np.concatenate([_to_lab(f).reshape(-1, 3) for f in frames])
    return pixels.mean(0).astype(np.float64), pixels.std(0).astype(np.float64)


def seam_metrics(frames: np.ndarray, seams: list[int]) -> list[dict]:
    """Measure each seam of a stitched clip.

    seam_ratio: mean absolute luma change across the seam divided by the median
        change between consecutive frames inside the two neighbouring segments
        (at most `_SEAM_CONTEXT * 2` pairs each side); 1.0 means the seam looks like
        any other frame step. The median is floored at half a level so that a
        static clip does not divide by zero.
    colour_shift: CIE76 delta E between the mean Lab colour of up to 4 frames either
        side (about 2.3 is a just-noticeable difference).
    colour_step: the part of that shift the footage's own colour trend does not explain:
        the seam's Lab step minus the mean of the steps between the neighbouring 4-frame
        windows on each side (a camera's exposure ramp moves the colour there too; a
        generation's drift jumps only at the seam). Equal to colour_shift when a side is
        too short to show a trend.
    """
    frames = as_clip(frames)
    n = len(frames)
    lumas = luma(frames)
    diffs = np.array([cv2.absdiff(lumas[t], lumas[t - 1]).mean() for t in range(1, n)])  # diffs[t-1]: t-1 -> t
    bounds = [0, *seams, n]
    results = []
    for k, seam in enumerate(seams):
        if not 0 < seam < n:
            raise ValueError(f"seam {seam} is outside the clip of {n} frames")
        before_start = max(bounds[k], seam - 2 * _SEAM_CONTEXT)
        after_stop = min(bounds[k + 2], seam + 2 * _SEAM_CONTEXT + 1)
        # Pairs (t-1, t) fully inside one neighbouring segment.
        inside = np.concatenate([diffs[before_start:seam - 1], diffs[seam:after_stop - 1]])
        across = float(diffs[seam - 1])
        inside_median = float(np.median(inside)) if inside.size else 0.0
        ratio = across / max(inside_median, _MIN_INSIDE_DIFF)
        window = lambda start, stop: _lab_stats(frames[max(start, 0):min(stop, n)])[0]  # noqa: E731
        before, after = window(seam - _SEAM_CONTEXT, seam), window(seam, seam + _SEAM_CONTEXT)
        step = after - before
        shift = float(np.linalg.norm(step))
        if seam - 2 * _SEAM_CONTEXT >= bounds[k] and seam + 2 * _SEAM_CONTEXT <= bounds[k + 2]:
            trend = ((before - window(seam - 2 * _SEAM_CONTEXT, seam - _SEAM_CONTEXT))
                     + (window(seam + _SEAM_CONTEXT, seam + 2 * _SEAM_CONTEXT) - after)) / 2
            colour_step = float(np.linalg.norm(step - trend))
        else:
            colour_step = shift
        results.append(
            {
                "index": int(seam),
                "seam_ratio": ratio,
                "colour_shift": shift,
                "colour_step": colour_step,
                "across_diff": across,
                "inside_median_diff": inside_median,
            }
        )
    return results


def seam_checks(frames: np.ndarray, seams: list[int], *, max_seam_ratio: float) -> list[Check]:
    """One "seam" check per seam: the seam_ratio against `max_seam_ratio`."""
    checks = []
    for m in seam_metrics(frames, seams):
        passed = m["seam_ratio"] <= max_seam_ratio
        verb = "blends in" if passed else "is visible"
        reason = (
            f"seam at frame {m['index']} {verb}: the cut changes {m['seam_ratio']:.2f}x as much as a "
            f"normal frame step ({'<=' if passed else '>'} {max_seam_ratio:.2f}); "
            f"colour shift delta E {m['colour_shift']:.1f}"
        )
        checks.append(Check("seam", CheckKind.SEAM, m["seam_ratio"], max_seam_ratio, passed, reason))
    return checks
