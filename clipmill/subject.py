"""Finding the subject of a reference photo, so a subject crop can centre on it.

The detector's classes are matched against the shot plan's expectations: the interaction's
subjects first, then every other expected class.
"""
from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from clipmill.imaging import Box
from clipmill.qa.types import Expectations
from clipmill.storage.user_files import read_user_bytes

# Detection runs on a reduced copy: a subject box needs no more than the detector's own input size.
_DETECT_SIDE = 640
_DETECT_MAX_PIXELS = 50_000_000
_EXIF_ORIENTATION = 0x0112


def plan_subject_classes(expectations: Expectations | None) -> list[str]:
    """The classes a subject crop should centre on, most important first: the interaction's
    subjects, then every other expected class, in the order the prompt introduced them."""
    if expectations is None:
        return []
    ordered = list(expectations.subjects) + list(expectations.classes) + list(expectations.at_least)
    return list(dict.fromkeys(ordered))


def choose_subject_box(detections: Sequence, classes: Sequence[str]) -> tuple[Box | None, str]:
    """The box to centre on and why: among detections of the first expected class that has
    any, the one with the largest confidence x area; with none of them, the same over all."""
    def weight(detection) -> float:
        x1, y1, x2, y2 = detection.box
        return detection.confidence * max(0.0, x2 - x1) * max(0.0, y2 - y1)

    for label in classes:
        matching = [d for d in detections if d.label == label]
        if matching:
            best = max(matching, key=weight)
            return tuple(float(v) for v in best.box), f"{label} ({best.confidence:.2f})"
    if detections:
        best = max(detections, key=weight)
        return tuple(float(v) for v in best.box), f"largest detection: {best.label} ({best.confidence:.2f})"
    return None, "nothing detected"


def find_subject(image_path: Path, detector_weights: str, classes: Sequence[str],
                 confidence: float = 0.25, *, trusted: Mapping[str, str] | None = None) -> tuple[Box | None, str]:
    """Detect on the upright image and pick the subject box, in the upright image's pixels.

    Any failure (unreadable file, detector missing) returns no box and the reason: the crop
    then falls back to the centre, and prepare_image reports a bad file in its own words.
    A weights file that is not pinned (`trusted`, weights path -> sha256, or the registry in
    `$CLIPMILL_TRUSTED_WEIGHTS`) is the exception: `UntrustedWeightsError` is raised, because
    a crop that quietly fell back would hide a spec naming a file that must not be loaded.
    """
    import numpy as np
    from PIL import Image, ImageOps

    from clipmill.models.detector import load_detector
    from clipmill.models.trust import TrustRegistryError, UntrustedWeightsError

    try:
        # Read through the one safe reader: a FIFO or a device named as the image is refused here
        # at once (and said in prepare_image's words), never opened by PIL, which would hang on it.
        data = read_user_bytes(image_path, kind="image")
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > _DETECT_MAX_PIXELS:
                return None, "image too large to detect on"
            width, height = opened.size
            if int(opened.getexif().get(_EXIF_ORIENTATION, 1) or 1) in (5, 6, 7, 8):
                width, height = height, width  # rotated by 90 degrees when made upright
            opened.draft("RGB", (_DETECT_SIDE, _DETECT_SIDE))  # JPEG: decode at reduced scale, cheaply
            upright = ImageOps.exif_transpose(opened).convert("RGB")
        upright.thumbnail((_DETECT_SIDE, _DETECT_SIDE))
        detector = load_detector(detector_weights, trusted=trusted)
        _, detections = detector.detect(np.asarray(upright)[None], conf=confidence, track=False)
    except (UntrustedWeightsError, TrustRegistryError):
        raise
    except Exception as error:  # noqa: BLE001 - any failure means "no box", said in the note
        return None, f"detection failed ({type(error).__name__}: {error})"
    box, why = choose_subject_box(detections, classes)
    if box is None:
        return None, why
    scale_x, scale_y = width / upright.size[0], height / upright.size[1]
    x1, y1, x2, y2 = box
    return (x1 * scale_x, y1 * scale_y, x2 * scale_x, y2 * scale_y), why
