"""Reading text in frames: PP-OCRv4 (Chinese + English) through rapidocr-onnxruntime.

Weights: PaddleOCR's PP-OCRv4 text detector (`ch_PP-OCRv4_det_infer.onnx`) and recogniser
(`ch_PP-OCRv4_rec_infer.onnx`), converted to ONNX and shipped inside the pip wheel
`rapidocr-onnxruntime==1.4.4` (Apache-2.0, as are PaddleOCR's weights), so they install
offline like any dependency and nothing is downloaded. The wheel's direction classifier is
not used: text in a video frame is upright.

Speed: detection is the costly part, so it runs on a copy of the frame whose longer side is
at most `detect_side` pixels (960: a 1280x720 frame is detected at 960x540; at 640 a
watermark 3% of the height tall was missed); each line it finds is then recognised from the
full-resolution frame, which keeps small text legible. Measured on this project's 2-core
machine (others' jobs running, load ~4): 0.2 s a 640x360 frame without text, 0.45 s with two
lines; 0.3-0.7 s a 1280x720 frame without text, ~1 s with two lines. The caller picks few
frames (`indices`; qa.text_in_frame.text_frame_indices).
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import cv2
import numpy as np

from clipmill.models.cache import cached_model
from clipmill.qa.text_in_frame import TextBox, overlap as _overlap

DEFAULT_DETECT_SIDE = 960
# Corners are read as if the frame were this tall: a watermark's 12-15 px line in a 360p frame
# is below the size the detector finds, three times that it reads.
_CORNER_AS_HEIGHT = 1080
# The top-hat's kernel at that size: wider than a watermark's strokes (5-6 px at 1080), narrower
# than what lies behind them.
_CORNER_STROKE_KERNEL = 21
# The recogniser's own confidence below which a line is noise (a texture read as a letter).
DEFAULT_MIN_CONFIDENCE = 0.5


@dataclass
class TextReader:
    """PP-OCRv4 detection and recognition; `read` is safe to call from several threads."""

    engine: object  # rapidocr_onnxruntime.RapidOCR
    detect_side: int = DEFAULT_DETECT_SIDE
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def read(self, frames: np.ndarray, indices: list[int]) -> list[TextBox]:
        """The lines of text in `frames[i]` for each i in `indices`, in reading order per frame.

        Args:
            frames: (F, H, W, 3) uint8 RGB.
            indices: which frames to read (a few: each costs a detection pass).

        Returns:
            One `TextBox` per line read with confidence >= `min_confidence`; boxes are in the
            pixels of `frames`.
        """
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"frames must be (F, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
        boxes: list[TextBox] = []
        for i in indices:
            if not 0 <= i < len(frames):
                raise IndexError(f"frame {i} is outside the clip's {len(frames)} frames")
            boxes.extend(self._read_frame(frames[i], int(i)))
        return boxes

    def read_corners(self, frames: np.ndarray, indices: list[int], *, width_share: float = 0.5,
                     height_share: float = 0.25) -> list[TextBox]:
        """The lines of text in the four corners (`width_share` x `height_share` of the frame) of
        `frames[i]`, read enlarged and with the strokes' contrast brought out: watermarks are
        small and made faint on purpose (white at 75 % over a white wall differs from it by a few
        levels), below what `read` finds on the whole frame.

        Each corner is read twice: strokes lighter than their surroundings (a white top-hat) and
        strokes darker (a black top-hat), each stretched to full contrast and drawn dark on
        white; whatever the background's level, only thin strokes stay. Boxes are in the pixels
        of `frames`."""
        frames = np.asarray(frames)
        height, width = frames.shape[1:3]
        up = max(1.0, _CORNER_AS_HEIGHT / height)
        crop_w, crop_h = round(width * width_share), round(height * height_share)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_CORNER_STROKE_KERNEL, _CORNER_STROKE_KERNEL))
        boxes: list[TextBox] = []
        for i in indices:
            grey = cv2.cvtColor(frames[i], cv2.COLOR_RGB2GRAY)
            for x0, y0 in ((0, 0), (width - crop_w, 0), (0, height - crop_h), (width - crop_w, height - crop_h)):
                crop = cv2.resize(grey[y0:y0 + crop_h, x0:x0 + crop_w], None, fx=up, fy=up,
                                  interpolation=cv2.INTER_CUBIC)
                found: list[TextBox] = []
                for operation in (cv2.MORPH_TOPHAT, cv2.MORPH_BLACKHAT):
                    strokes = cv2.morphologyEx(crop, operation, kernel).astype(np.float32)
                    # Stretched by its own near-maximum (at least 6 levels: a flat corner stays blank).
                    strokes = np.clip(strokes * 255 / max(float(np.percentile(strokes, 99.5)), 6.0), 0, 255)
                    page = cv2.cvtColor(255 - strokes.astype(np.uint8), cv2.COLOR_GRAY2BGR)
                    for text, confidence, (x1, y1, x2, y2) in self._recognise(page, page):
                        box = (x0 + x1 / up, y0 + y1 / up, x0 + x2 / up, y0 + y2 / up)
                        found.append(TextBox(int(i), text, confidence, box))
                # Light and dark strokes of one line read twice: the more confident reading stays.
                for b in sorted(found, key=lambda b: -b.confidence):
                    if not any(_overlap(b.box, kept.box) >= 0.5 for kept in boxes if kept.frame == b.frame):
                        boxes.append(b)
        return boxes

    def _recognise(self, detect_in: np.ndarray, read_in: np.ndarray,
                   scale: float = 1.0) -> list[tuple[str, float, tuple[float, float, float, float]]]:
        """(text, confidence, box) of each line found in `detect_in` and read in `read_in`, the same
        picture `scale` times larger (detection runs on a small copy, reading on the sharp one);
        boxes are in the pixels of `read_in`."""
        with self._lock:  # onnxruntime sessions are thread-safe, rapidocr's pre/post-processing state is not
            quads, _ = self.engine.text_det(detect_in)
            if quads is None or len(quads) == 0:
                return []
            quads = [np.asarray(q, dtype=np.float32) / scale for q in self.engine.sorted_boxes(quads)]
            results, _ = self.engine.text_rec(self.engine.get_crop_img_list(read_in, quads))
        h, w = read_in.shape[:2]
        lines = []
        for quad, (text, confidence) in zip(quads, results):
            text = text.strip()
            if text and confidence >= self.min_confidence:
                (x1, y1), (x2, y2) = quad.min(axis=0), quad.max(axis=0)
                lines.append((text, float(confidence),
                              (float(max(x1, 0)), float(max(y1, 0)), float(min(x2, w)), float(min(y2, h)))))
        return lines

    def _read_frame(self, rgb: np.ndarray, index: int) -> list[TextBox]:
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        h, w = bgr.shape[:2]
        scale = min(1.0, self.detect_side / max(h, w))  # the longer side: portrait clips too
        small = bgr if scale == 1.0 else cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        return [TextBox(index, text, confidence, box) for text, confidence, box in self._recognise(small, bgr, scale)]


def load_text_reader(*, detect_side: int = DEFAULT_DETECT_SIDE, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
                     threads: int | None = None) -> TextReader:
    """The PP-OCRv4 reader, loaded once per process (models.cache) for each set of arguments.

    threads: onnxruntime's threads for each reading [half the machine's cores, 2 to 8]. The
    reader takes one frame at a time (rapidocr's pre- and post-processing are not thread-safe),
    so the clips a worker keeps in flight queue for it. On a 16-core H100 host eight threads
    instead of two took one clip's QA from 3.48 s to 2.76 s (tests/benchmarks/bench_qa_parts.py);
    they did not shorten a distilled batch, whose QA loses its time to contention inside the
    worker process (docs/benchmarks.md)."""
    threads = threads or default_ocr_threads()
    return cached_model(
        ("ocr", "rapidocr-onnxruntime", "PP-OCRv4", detect_side, min_confidence, threads),
        lambda: TextReader(_create_engine(threads), detect_side, min_confidence),
    )


def default_ocr_threads(cores: int | None = None) -> int:
    """Half the machine's cores, at least 2 and at most 8: the other half is left to the other clips'
    deflicker, encode and checks."""
    return max(2, min(8, (cores or os.cpu_count() or 2) // 2))


def _create_engine(threads: int):
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # pragma: no cover - the dependency is declared
        raise ImportError("reading text needs the rapidocr-onnxruntime wheel (pip install rapidocr-onnxruntime==1.4.4)") from exc
    return RapidOCR(
        use_cls=False,
        # "max": never upscale; the reader hands over frames already at detect_side.
        det_limit_type="max",
        det_limit_side_len=DEFAULT_DETECT_SIDE,
        intra_op_num_threads=threads,
        inter_op_num_threads=1,
    )
