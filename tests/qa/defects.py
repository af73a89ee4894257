"""Real footage with manufactured defects, for the text, blur and cut tests.

Every helper returns new arrays; the footage is read from shared/data and the tests skip
with the missing path named when it is absent.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from clipmill.media import read_video

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def footage(name: str, *, n: int, step: int = 1, start: int = 0, width: int | None = 640) -> np.ndarray:
    """Frames start, start+step, ... (n of them) of a shared video, RGB, `width` pixels wide."""
    path = DATA / "video" / name
    if not path.is_file():
        pytest.skip(f"real footage not available: {path} is missing")
    frames, _ = read_video(path, max_frames=start + n * step, width=width)
    picked = frames[start::step][:n]
    if len(picked) < n:
        pytest.skip(f"{path} has only {len(picked)} of the {n} frames asked for")
    return np.ascontiguousarray(picked)


def photo(name: str) -> np.ndarray:
    path = DATA / "images" / name
    if not path.is_file():
        pytest.skip(f"real photo not available: {path} is missing")
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    if not path.is_file():
        pytest.skip(f"font not available: {path}")
    return ImageFont.truetype(str(path), size)


def draw_text(frame: np.ndarray, text: str, xy: tuple[int, int], *, size: int, font_path: Path = LATIN_FONT,
              fill=(255, 255, 255), alpha: int = 255, outline: bool = True, anchor: str = "la") -> np.ndarray:
    """`text` drawn on a copy of one RGB frame (alpha < 255: semi-transparent, like a watermark)."""
    image = Image.fromarray(frame).convert("RGBA")
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    ImageDraw.Draw(layer).text(xy, text, font=font(font_path, size), fill=(*fill, alpha), anchor=anchor,
                               stroke_width=max(1, size // 14) if outline else 0, stroke_fill=(0, 0, 0, alpha))
    return np.asarray(Image.alpha_composite(image, layer).convert("RGB"))


def caption(frames: np.ndarray, text: str, *, font_path: Path = LATIN_FONT, size_share: float = 0.07) -> np.ndarray:
    """A burned-in subtitle: centred near the bottom of every frame."""
    h, w = frames.shape[1:3]
    size = max(10, round(size_share * h))
    return np.stack([draw_text(f, text, (w // 2, round(h * 0.9)), size=size, font_path=font_path, anchor="ms")
                     for f in frames])


def watermark(frames: np.ndarray, text: str = "shutterstock", *, size_share: float = 0.045, alpha: int = 120) -> np.ndarray:
    """Small semi-transparent text in the top-right corner of every frame."""
    h, w = frames.shape[1:3]
    size = max(8, round(size_share * h))
    return np.stack([draw_text(f, text, (w - round(0.02 * w), round(0.03 * h)), size=size, alpha=alpha,
                               outline=False, anchor="ra") for f in frames])


def blurred(frames: np.ndarray, sigma: float) -> np.ndarray:
    return np.stack([cv2.GaussianBlur(f, (0, 0), sigma) for f in frames])


def jpeg(frames: np.ndarray, quality: int) -> np.ndarray:
    out = []
    for f in frames:
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(f, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
        out.append(cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))
    return np.stack(out)


def noisy(frames: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(frames + rng.normal(0, sigma, frames.shape), 0, 255).astype(np.uint8)


def pan(image: np.ndarray, *, n: int, size=(640, 360), start=(0, 0), step=(6, 2)) -> np.ndarray:
    """A camera pan over a photo: `n` crops of `size`, moving by `step` pixels a frame."""
    w, h = size
    frames = [image[start[1] + t * step[1]: start[1] + t * step[1] + h, start[0] + t * step[0]: start[0] + t * step[0] + w]
              for t in range(n)]
    if any(f.shape[:2] != (h, w) for f in frames):
        raise ValueError("the pan leaves the photo")
    return np.ascontiguousarray(np.stack(frames))


def sign(frame: np.ndarray, text: str, box: tuple[int, int, int, int], *, font_path: Path = LATIN_FONT) -> np.ndarray:
    """A light sign board at `box` (x1, y1, x2, y2) with `text` in dark letters: scene text."""
    image = Image.fromarray(frame).convert("RGB")
    draw = ImageDraw.Draw(image)
    x1, y1, x2, y2 = box
    draw.rectangle(box, fill=(235, 230, 215), outline=(90, 80, 70), width=2)
    size = round((y2 - y1) * 0.6)
    draw.text(((x1 + x2) // 2, (y1 + y2) // 2), text, font=font(font_path, size), fill=(30, 30, 40), anchor="mm")
    return np.asarray(image)
