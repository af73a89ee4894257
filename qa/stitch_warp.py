"""Where a continuation drifted in position at its seam (a jump, or a small zoom and turn)
and how it is undone, easing back over the first frames so motion is not frozen. Used by
qa.stitch."""
from __future__ import annotations

import cv2
import numpy as np

# A jump under a quarter pixel is below what phase correlation resolves reliably and
# below what anyone sees; the segment is then left bit-exact.
_MIN_JUMP = 0.25
# A larger offset (as a fraction of the shorter side) or a weak correlation peak means
# the two frames do not show the same picture shifted, and shifting would not help.
# The peak of the normalised cross-power spectrum is ~1 for one picture moved, 0.8-0.95
# with colour drift on top, and about 0.2 for two unrelated textures of 120x72.
_MAX_JUMP_FRACTION = 0.1
_MIN_JUMP_RESPONSE = 0.3
# Border strip left out of the estimate, and the high-pass sigma, as fractions of the
# frame (see `estimate_jump` for why).
_JUMP_MARGIN = 0.05
_JUMP_HIGHPASS = 0.02
# An affine refinement may scale the picture by at most `_MAX_ZOOM` (5%), turn it by at
# most `_MAX_TURN` radians (3 degrees) and shear or stretch it by at most `_MAX_SHEAR`;
# beyond that it has locked onto something other than a re-render. Zoom and turn are
# bounded apart: one bound on the matrix entries (3%) rejected a 2.3% zoom with a
# 0.65 degree turn, which left the zoom in the seam (1.9x a normal frame step).
_MAX_ZOOM = 0.05
_MAX_TURN = np.deg2rad(3.0)
_MAX_SHEAR = 0.02
_MAX_LINEAR_CHANGE = _MAX_ZOOM + _MAX_TURN
# ECC's correlation of the aligned structure: ~0.9 for one picture re-rendered, ~0 for two.
_MIN_ECC_SCORE = 0.5


def estimate_jump(earlier: np.ndarray, later: np.ndarray) -> tuple[float, float]:
    """(dx, dy) by which `later` shows the picture of `earlier` moved, in pixels; (0, 0) when unsure.

    Phase correlation on high-passed luma (Hann-windowed, so the frame border does not
    look like an edge), refined by ECC: both see where the picture is, not its
    brightness, so the colour drift of the later segment does not disturb them.
    """
    # The strip a jump moves in at the border holds content the other frame lacks
    # (or, after a reflect-padded shift, a mirror of it), so only the inside is compared.
    # Smooth shading (a lit wall, vignetting) looks the same shifted or brightened, and
    # both estimators trade part of a jump along it for a brightness change: on a
    # frame of bottles against a wall, a 1.7 px jump read as 1.25 px. Structure alone
    # pins the jump down (to < 0.1 px on all four sample clips).
    a, b = _structure(earlier), _structure(later)
    h, w = earlier.shape[:2]
    window = cv2.createHanningWindow((b.shape[1], b.shape[0]), cv2.CV_32F)
    (dx, dy), response = cv2.phaseCorrelate(a, b, window)
    size = float(np.hypot(dx, dy))
    if size > _MAX_JUMP_FRACTION * min(h, w) or response < _MIN_JUMP_RESPONSE:
        return (0.0, 0.0)
    dx, dy = _refine_jump(a, b, dx, dy)
    if np.hypot(dx, dy) < _MIN_JUMP:
        return (0.0, 0.0)
    return (float(dx), float(dy))


def _refine_jump(a: np.ndarray, b: np.ndarray, dx: float, dy: float) -> tuple[float, float]:
    """Polish the phase-correlation peak (good to a few tenths of a pixel) with ECC.

    ECC (Evangelidis & Psarakis 2008) maximises the zero-mean normalised correlation,
    so it is as indifferent to the colour drift as the phase correlation. A refinement
    that wanders more than a pixel away has locked onto something else and is ignored.
    """
    warp = np.float32([[1, 0, dx], [0, 1, dy]])
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-4)
    try:
        _, warp = cv2.findTransformECC(a, b, warp, cv2.MOTION_TRANSLATION, criteria, None, 3)
    except cv2.error:  # ECC gives up on flat or unrelated frames
        return dx, dy
    rx, ry = float(warp[0, 2]), float(warp[1, 2])
    return (rx, ry) if np.hypot(rx - dx, ry - dy) <= 1.0 else (dx, dy)


IDENTITY = np.float32([[1, 0, 0], [0, 1, 0]])


def estimate_warp(earlier: np.ndarray, later: np.ndarray) -> np.ndarray:
    """2x3 affine map W with later(W (x, y, 1)) ~ earlier(x, y); the identity when unsure.

    The translation comes from `estimate_jump`; ECC then refines it to an affine map,
    which is kept only when it stays a small zoom or turn (`_small_zoom_and_turn`) and moves
    some pixel by at least `_MIN_JUMP`.
    """
    dx, dy = estimate_jump(earlier, later)
    warp = np.float32([[1, 0, dx], [0, 1, dy]])
    a, b, (mx, my) = _structure(earlier), _structure(later), margins(earlier)
    crop = np.float32([[1, 0, dx], [0, 1, dy]])  # in the cropped frame a translation is unchanged
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 60, 1e-5)
    try:
        score, crop = cv2.findTransformECC(a, b, crop, cv2.MOTION_AFFINE, criteria, None, 3)
    except cv2.error:  # flat or unrelated frames
        score, crop = 0.0, None
    if score < _MIN_ECC_SCORE:
        crop = None
    if crop is not None and _small_zoom_and_turn(crop[:, :2]) \
            and np.hypot(crop[0, 2] - dx, crop[1, 2] - dy) <= 2.0 + _MAX_LINEAR_CHANGE * max(a.shape):
        # Back to full-frame coordinates: x_full = x_crop + m on both sides.
        offset = np.float32([mx, my])
        warp = crop.copy()
        warp[:, 2] = crop[:, 2] + offset - crop[:, :2] @ offset
    h, w = earlier.shape[:2]
    corners = np.float32([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1]])
    moved = corners @ warp.T - corners[:, :2]
    if np.hypot(moved[:, 0], moved[:, 1]).max() < _MIN_JUMP:
        return IDENTITY.copy()
    return warp


def _small_zoom_and_turn(linear: np.ndarray) -> bool:
    """Whether the 2x2 `linear` map is a zoom and turn within bounds, with little shear or stretch.

    linear = zoom * rotation(turn) + rest; the zoom is the square root of the determinant,
    the turn the angle of the rotation part, the rest what a similarity cannot explain.
    """
    a, b, c, d = (float(v) for v in linear.reshape(-1))
    det = a * d - b * c
    if det <= 0:
        return False
    zoom = np.sqrt(det)
    turn = np.arctan2(c - b, a + d)
    similarity = zoom * np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    rest = np.abs(linear - similarity).max()
    return abs(zoom - 1.0) <= _MAX_ZOOM and abs(turn) <= _MAX_TURN and rest <= _MAX_SHEAR


def undo_warp(segment: np.ndarray, warp: np.ndarray, *, seam: int, ease_frames: int) -> np.ndarray:
    """Map `segment` back through `warp`: fully up to frame `seam`, then easing to the identity.

    The ease is half a cosine over `ease_frames` frames after the seam, so the
    correction starts and ends without a step in speed. Lanczos (8x8), because a bilinear
    sub-pixel move visibly softens the frames right after the seam, and on fine texture
    (grass at 832x480) even bicubic left a seam 1.57x a normal frame step where Lanczos
    leaves 1.48x.
    """
    if np.array_equal(warp, IDENTITY):
        return segment
    h, w = segment.shape[1:3]
    out = segment.copy()
    for i in range(len(segment)):
        k = i - seam
        if k >= ease_frames:
            break
        ease = 1.0 if k <= 0 else 0.5 * (1.0 + np.cos(np.pi * k / ease_frames))
        matrix = (IDENTITY + ease * (warp - IDENTITY)).astype(np.float32)
        out[i] = cv2.warpAffine(segment[i], matrix, (w, h), flags=cv2.INTER_LANCZOS4 | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_REFLECT_101)
    return out


def centre_shift(warp: np.ndarray, width: int, height: int) -> tuple[float, float]:
    centre = np.float32([(width - 1) / 2, (height - 1) / 2, 1])
    dx, dy = warp @ centre - centre[:2]
    return (float(dx), float(dy))


def margins(frame: np.ndarray) -> tuple[int, int]:
    h, w = frame.shape[:2]
    return round(_JUMP_MARGIN * w), round(_JUMP_MARGIN * h)


def _structure(frame: np.ndarray) -> np.ndarray:
    """High-passed luma without the border strip: where the picture is, not how bright it is."""
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    h, w = grey.shape
    mx, my = margins(frame)
    grey = grey[my:h - my, mx:w - mx]
    sigma = max(2.0, _JUMP_HIGHPASS * min(h, w))
    return grey - cv2.GaussianBlur(grey, (0, 0), sigma)
