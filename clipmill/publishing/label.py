"""The explicit label: text burnt into a clip's opening (and, when asked, closing) frames.

It is drawn after QA, at encoding, so QA judges the generated picture and not the label. The
text is white on a dark translucent box, readable on any background; its size is measured on
the rendered glyphs, so "5% of the shorter side" holds for the font actually used.
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from clipmill.publishing.settings import LabelSettings, PublishSettings

CJK_FONT_PACKAGE = "fonts-wqy-microhei"
FONT_ENV = "CLIPMILL_LABEL_FONT"
# Searched in order; the first that has a glyph for every character of the label wins.
KNOWN_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",  # Latin-only labels ("AI-generated")
)
BOX_OPACITY = 0.6  # white on the box stays above 4.5:1 contrast even over a white frame
MIN_TEXT_PX = 10  # below this CJK strokes merge, whatever the fraction says (tiny preview frames)
_NEVER_A_GLYPH = "\U0010fffd"  # a private-use code point: any font draws its missing-glyph box for it


class LabelError(ValueError):
    """The label cannot be drawn as the settings ask; the message says why in one line."""


def label_frame_indices(count: int, fps: float, settings: LabelSettings | PublishSettings) -> np.ndarray:
    """Indices of the frames that carry the label: the first `seconds` of the clip at `fps`
    (and the last `seconds` with also_at_end); every frame of a clip shorter than that."""
    span = opening_frames(count, fps, settings)
    chosen = set(range(span))
    if _label_settings(settings).also_at_end:
        chosen |= set(range(count - span, count))
    return np.array(sorted(chosen), dtype=int)


def opening_frames(count: int, fps: float, settings: LabelSettings | PublishSettings) -> int:
    """How many opening frames carry the label: `seconds` at `fps`, rounded up, at most all."""
    if fps <= 0:
        raise LabelError(f"fps must be positive, got {fps}")
    return min(count, math.ceil(_label_settings(settings).seconds * fps - 1e-9))


def burn_label(frames: np.ndarray, fps: float, settings: LabelSettings | PublishSettings) -> np.ndarray:
    """A copy of `frames` (F, H, W, 3) uint8 with the label on the frames `label_frame_indices`
    names; the input is left untouched. Labels whatever `settings.enabled` says: the caller
    decides whether a clip is published with labels."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ValueError(f"expected uint8 frames shaped (F, H, W, 3), got {frames.dtype} {frames.shape}")
    count, height, width, _ = frames.shape
    stamp = render_label(width, height, settings)
    out = frames.copy()
    rows, cols = slice(stamp.y, stamp.y + stamp.box.shape[0]), slice(stamp.x, stamp.x + stamp.box.shape[1])
    indices = label_frame_indices(count, fps, settings)
    region = out[indices, rows, cols].astype(np.float32)
    region *= 1.0 - stamp.box  # the dark box first, then the white text over it
    region = region * (1.0 - stamp.ink) + 255.0 * stamp.ink
    out[indices, rows, cols] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
    return out


@dataclass(frozen=True)
class LabelStamp:
    """The label rendered for one frame size: where it goes and its two coverage masks."""

    x: int
    y: int
    box: np.ndarray  # (h, w, 1) float32: darkening of the box, 0..BOX_OPACITY
    ink: np.ndarray  # (h, w, 1) float32: coverage of the white text, 0..1
    text_px: int  # height of the text above its baseline, in pixels
    font: Path


def render_label(width: int, height: int, settings: LabelSettings | PublishSettings) -> LabelStamp:
    """Lay the label out for a `width` x `height` frame (cached: a batch has few frame sizes)."""
    return _render(width, height, _label_settings(settings))


@lru_cache(maxsize=32)
def _render(width: int, height: int, label: LabelSettings) -> LabelStamp:
    shorter = min(width, height)
    target = max(MIN_TEXT_PX, math.ceil(label.text_height * shorter))
    font_path = find_label_font(label.text, label.font)
    font, text_px = _font_at_least(font_path, label.text, target)
    left, top, right, bottom = font.getbbox(label.text, anchor="ls")
    pad = max(2, round(0.3 * text_px))
    box_w, box_h = (right - left) + 2 * pad, (bottom - top) + 2 * pad
    margin = round(0.04 * shorter)
    if box_w + 2 * margin > width or box_h + 2 * margin > height:
        margin = 0
    if box_w > width or box_h > height:
        raise LabelError(f"label {label.text!r} at {label.text_height:.0%} of the shorter side needs "
                         f"{box_w}x{box_h} px, wider than the {width}x{height} frame: shorten the text")
    x, y = _place(label.position, width, height, box_w, box_h, margin)

    ink = Image.new("L", (box_w, box_h), 0)
    ImageDraw.Draw(ink).text((pad - left, pad - top), label.text, font=font, fill=255, anchor="ls")
    box = Image.new("L", (box_w, box_h), 0)
    ImageDraw.Draw(box).rounded_rectangle((0, 0, box_w - 1, box_h - 1), radius=pad // 2,
                                          fill=round(255 * BOX_OPACITY))
    return LabelStamp(x=x, y=y, box=_as_mask(box), ink=_as_mask(ink), text_px=text_px, font=font_path)


def _as_mask(image: Image.Image) -> np.ndarray:
    mask = (np.asarray(image, dtype=np.float32) / 255.0)[..., None]
    mask.setflags(write=False)  # shared by every clip of this size through the cache
    return mask


def _place(position: str, width: int, height: int, w: int, h: int, margin: int) -> tuple[int, int]:
    x = {"left": margin, "right": width - w - margin}.get(position.rsplit("-", 1)[-1], (width - w) // 2)
    y = {"top": margin, "bottom": height - h - margin}.get(position.split("-", 1)[0], (height - h) // 2)
    return x, y


def _font_at_least(path: Path, text: str, target_px: int) -> tuple[ImageFont.FreeTypeFont, int]:
    """The smallest font size whose glyphs rise at least `target_px` above the baseline."""
    def rise(size: int) -> int:
        return -load_font(path, size).getbbox(text, anchor="ls")[1]

    size = max(4, math.floor(target_px * 100 / max(1, rise(100))))
    while rise(size) < target_px:
        size += 1
    return load_font(path, size), rise(size)


@lru_cache(maxsize=64)
def load_font(path: str | Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size=size, index=0)


def glyph_bitmap(font: ImageFont.FreeTypeFont, char: str) -> np.ndarray:
    """The rendered coverage of one character (0..255), cropped to its ink."""
    mask = font.getmask(char)
    return np.asarray(mask, dtype=np.uint8).reshape(mask.size[1], mask.size[0])


def missing_glyphs(font: ImageFont.FreeTypeFont, text: str) -> list[str]:
    """Characters of `text` the font would draw as its missing-glyph box (or not at all)."""
    tofu = glyph_bitmap(font, _NEVER_A_GLYPH)
    missing = []
    for char in dict.fromkeys(text):
        if char.isspace():
            continue
        bitmap = glyph_bitmap(font, char)
        if not bitmap.any() or (bitmap.shape == tofu.shape and np.array_equal(bitmap, tofu)):
            missing.append(char)
    return missing


def find_label_font(text: str, configured: str | Path | None = None) -> Path:
    """A font with every glyph of `text`: the configured one (settings, then $CLIPMILL_LABEL_FONT),
    else the first known CJK font installed. Raises LabelError naming the package to install."""
    chosen = configured or os.environ.get(FONT_ENV) or None
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise LabelError(f"label font {path} not found")
        lacking = missing_glyphs(load_font(path, 48), text)
        if lacking:
            raise LabelError(f"label font {path} has no glyph for {''.join(lacking)!r} of {text!r}")
        return path
    for candidate in (*KNOWN_FONTS, *_fontconfig_cjk_fonts()):
        path = Path(candidate)
        if path.is_file() and not missing_glyphs(load_font(path, 48), text):
            return path
    raise LabelError(f"no font with glyphs for the label {text!r}: install {CJK_FONT_PACKAGE} "
                     f"(apt-get install {CJK_FONT_PACKAGE}) or set publish.label.font or ${FONT_ENV}")


def check_label_font(settings: PublishSettings) -> str | None:
    """For preflight: None when the label can be drawn, else the one-line reason."""
    if not settings.enabled:
        return None
    try:
        find_label_font(settings.label.text, settings.label.font)
    except LabelError as error:
        return str(error)
    return None


@lru_cache(maxsize=1)
def _fontconfig_cjk_fonts() -> tuple[str, ...]:
    if shutil.which("fc-list") is None:
        return ()
    try:
        listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(sorted({line.split(":")[0].strip() for line in listed.splitlines() if line.strip()}))


def _label_settings(settings: LabelSettings | PublishSettings) -> LabelSettings:
    return settings.label if isinstance(settings, PublishSettings) else settings
