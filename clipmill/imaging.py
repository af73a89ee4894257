"""Reference-image preprocessing: any photo a user hands in becomes a clean RGB PNG of the
model's exact size, or a one-line `ImageInputError` saying which file is wrong and why.

Batches are made of files nobody has looked at (phone photos, catalogue exports, scans,
things renamed to .jpg), so every check that can run before decoding does: a hostile file
should cost a `stat` and a header read, not the worker's memory.
"""
from __future__ import annotations

import io
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from clipmill.storage.files import atomic_path
from clipmill.storage.user_files import UserFileError, read_user_bytes

try:  # HEIC/HEIF photos, as phones take them
    from pi_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # optional: without it HEIC files get a clear "cannot read" error
    pass

Crop = Literal["center", "subject"]
Box = tuple[float, float, float, float]

EXIF_ORIENTATION_TAG = 0x0112


class ImageInputError(ValueError):
    """An input image that cannot be used; the message names the file and the problem."""

    def __init__(self, source: str | os.PathLike, problem: str):
        self.source = Path(source)
        self.problem = " ".join(str(problem).split())  # one line, whatever the decoder said
        super().__init__(f"{self.source}: {self.problem}")


@dataclass(frozen=True)
class PreparedImage:
    """`original_size` is the upright size (after EXIF orientation), the frame `subject_box`
    refers to; `mode` is the colour mode stored in the source file."""

    path: Path
    source: Path
    original_size: tuple[int, int]
    size: tuple[int, int]
    exif_rotated: bool
    mode: str
    subject_box: Box | None = None  # the crop's centre of attention, when cropped around a subject
    subject_note: str | None = None  # how the subject was found, or why the crop fell back to the centre

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "source": str(self.source),
            "original_size": list(self.original_size),
            "size": list(self.size),
            "exif_rotated": self.exif_rotated,
            "mode": self.mode,
            "subject_box": list(self.subject_box) if self.subject_box else None,
            "subject_note": self.subject_note,
        }


def prepare_image(
    source: str | os.PathLike,
    dest: str | os.PathLike,
    *,
    width: int,
    height: int,
    crop: Crop = "center",
    subject_box: Box | None = None,
    background: tuple[int, int, int] = (255, 255, 255),
    max_pixels: int = 50_000_000,
    min_side: int = 64,
    max_bytes: int = 50 * 2**20,
) -> PreparedImage:
    """Normalise `source` into an RGB PNG of exactly `width` x `height` at `dest`.

    The image is scaled to cover the target and cropped: around the centre, or with
    `crop="subject"` around `subject_box` (x1, y1, x2, y2 in pixels of the upright image,
    the convention of `qa.types.Detection.box`); without a usable box it falls back to the
    centre. Transparent areas are laid on `background`.

    Raises `ImageInputError` for any problem with the file itself and `ValueError` for bad
    arguments. `dest` is written atomically, so a failure never leaves a partial file.
    """
    source, dest = Path(source), Path(dest)
    # 1. check arguments
    _check_arguments(dest, width, height, crop, subject_box, background)

    # 2. read the file once, refusing special files and oversized ones before reading a byte
    data = _read_file(source, max_bytes)

    # 3. read the header and refuse what is too big or too small to be worth decoding
    stored_mode = _check_header(source, data, max_pixels, min_side)

    # 4. decode the first frame, upright
    image, exif_rotated = _decode_upright(source, data)

    # 5. normalise colour to 8-bit RGB
    try:
        image = to_rgb(image, background)
    except ImageInputError:
        raise
    except Exception as exc:
        raise ImageInputError(source, f"cannot convert colour mode {image.mode} to RGB ({exc})") from exc

    # 6. scale to cover the target and crop in one resampling pass
    region = crop_region(image.size, (width, height), subject_box if crop == "subject" else None)
    resized = image.resize((width, height), Image.Resampling.LANCZOS, box=region, reducing_gap=3.0)

    # 7. save without the source's metadata: EXIF (GPS, camera serials) must not travel
    clean = Image.new("RGB", resized.size)
    clean.paste(resized)
    with atomic_path(dest) as tmp:
        clean.save(tmp, format="PNG")

    return PreparedImage(
        path=dest,
        source=source,
        original_size=image.size,
        size=(width, height),
        exif_rotated=exif_rotated,
        mode=stored_mode,
    )


def crop_region(image_size: tuple[int, int], target_size: tuple[int, int], subject_box: Box | None = None) -> Box:
    """The largest region of `image_size` with the target's aspect ratio, centred on the
    subject box when one overlaps the image, else on the image centre; kept inside the image."""
    image_w, image_h = image_size
    target_w, target_h = target_size
    aspect = target_w / target_h
    if image_w / image_h > aspect:
        region_w, region_h = image_h * aspect, float(image_h)
    else:
        region_w, region_h = float(image_w), image_w / aspect

    centre_x, centre_y = image_w / 2, image_h / 2
    if subject_box is not None:
        x1, y1, x2, y2 = subject_box
        x1, x2 = max(0.0, min(x1, image_w)), max(0.0, min(x2, image_w))
        y1, y2 = max(0.0, min(y1, image_h)), max(0.0, min(y2, image_h))
        if x2 > x1 and y2 > y1:  # a box wholly outside the image says nothing about where to look
            centre_x, centre_y = (x1 + x2) / 2, (y1 + y2) / 2

    left = min(max(centre_x - region_w / 2, 0.0), image_w - region_w)
    top = min(max(centre_y - region_h / 2, 0.0), image_h - region_h)
    return (left, top, left + region_w, top + region_h)


def to_rgb(image: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """8-bit RGB with transparency flattened onto `background` and high bit depths scaled,
    not clipped (PIL's own I;16 -> RGB conversion saturates everything above 255)."""
    icc_profile = image.info.get("icc_profile")
    mode = image.mode

    if mode.startswith("I;16") or mode == "I":
        return Image.fromarray(_scale_integer_to_8bit(np.asarray(image), mode)).convert("RGB")
    if mode == "F":
        return Image.fromarray(_scale_float_to_8bit(np.asarray(image, dtype=np.float64))).convert("RGB")

    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (*background, 255))
        return Image.alpha_composite(base, rgba).convert("RGB")

    if mode == "CMYK" and icc_profile:
        converted = _convert_with_profile(image, icc_profile)
        if converted is not None:
            return converted
    if mode == "RGB" and icc_profile:
        # Phone photos are often Display P3; taking their numbers as sRGB dulls them.
        converted = _convert_with_profile(image, icc_profile)
        return converted if converted is not None else image
    return image.convert("RGB")


def _check_arguments(dest: Path, width: int, height: int, crop: str, subject_box: Box | None, background) -> None:
    if not (isinstance(width, int) and isinstance(height, int)) or width <= 0 or height <= 0:
        raise ValueError(f"width and height must be positive integers, got {width!r} x {height!r}")
    if crop not in ("center", "subject"):
        raise ValueError(f"crop must be 'center' or 'subject', got {crop!r}")
    if subject_box is not None:
        if len(subject_box) != 4 or not all(math.isfinite(v) for v in subject_box):
            raise ValueError(f"subject_box must be four finite numbers (x1, y1, x2, y2), got {subject_box!r}")
        if subject_box[2] <= subject_box[0] or subject_box[3] <= subject_box[1]:
            raise ValueError(f"subject_box must have x2 > x1 and y2 > y1, got {subject_box!r}")
    if len(background) != 3 or not all(0 <= int(v) <= 255 for v in background):
        raise ValueError(f"background must be an (r, g, b) triple of 0..255, got {background!r}")
    if dest.suffix.lower() != ".png":
        raise ValueError(f"dest must be a .png path (the output is always PNG), got {dest}")


def _read_file(source: Path, max_bytes: int) -> bytes:
    """The file's bytes, read once: the header check and the decode both work from memory, so
    the path is opened one time only (a path swapped for a FIFO between two opens would hang)."""
    try:
        data = read_user_bytes(source, kind="image", max_bytes=max_bytes)
    except UserFileError as error:
        raise ImageInputError(source, error.problem) from None
    if not data:
        raise ImageInputError(source, "empty file (0 bytes)")
    return data


def _check_header(source: Path, data: bytes, max_pixels: int, min_side: int) -> str:
    """Read only the header, refuse by pixel count before any pixel data is decoded, and let
    the format's own integrity check (`verify`) run; return the stored colour mode."""
    try:
        with warnings.catch_warnings():
            # Our max_pixels is the limit; PIL's warning threshold would only add noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                mode = probe.mode
                _check_dimensions(source, width, height, max_pixels, min_side)
                probe.verify()
    except ImageInputError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageInputError(source, f"refused as a decompression bomb ({exc})") from exc
    except (UnidentifiedImageError, ImportError) as exc:
        # ImportError: ultralytics patches Image.open to look for a HEIF plugin on unknown files.
        raise ImageInputError(source, "not an image, or a format PIL cannot read") from exc
    except Exception as exc:  # decoders raise OSError, SyntaxError, struct.error, EOFError, ...
        raise ImageInputError(source, f"corrupt image ({type(exc).__name__}: {exc})") from exc
    return mode


def _check_dimensions(source: Path, width: int, height: int, max_pixels: int, min_side: int) -> None:
    if width * height > max_pixels:
        raise ImageInputError(
            source, f"image is {width}x{height} = {width * height:,} pixels, over the {max_pixels:,} pixel limit"
        )
    if min(width, height) < min_side:
        raise ImageInputError(source, f"image is {width}x{height} pixels; each side must be at least {min_side}")


def _decode_upright(source: Path, data: bytes) -> tuple[Image.Image, bool]:
    # `verify` leaves the file object unusable, hence a second open (of the same bytes) for the pixels.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                opened.seek(0)  # animated GIF/WebP/APNG: the first frame is the reference
                opened.load()
                image = opened.copy()
                image.info = dict(opened.info)
    except Exception as exc:
        raise ImageInputError(source, f"cannot decode image ({type(exc).__name__}: {exc})") from exc

    try:
        orientation = int(image.getexif().get(EXIF_ORIENTATION_TAG, 1) or 1)
    except Exception:
        orientation = 1  # unreadable EXIF is not a reason to reject good pixels
    if orientation not in range(2, 9):
        return image, False
    try:
        return ImageOps.exif_transpose(image), True
    except Exception:
        return image, False


def _scale_integer_to_8bit(pixels: np.ndarray, mode: str) -> np.ndarray:
    values = pixels.astype(np.float64)
    # Mode "I" carries 16-bit PNGs on some PIL versions and 8-bit data on others.
    full_scale = 65535.0 if mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
    return np.clip(np.rint(values * (255.0 / full_scale)), 0, 255).astype(np.uint8)


def _scale_float_to_8bit(values: np.ndarray) -> np.ndarray:
    values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    full_scale = 1.0 if values.max(initial=0) <= 1.0 else 255.0  # 0..1 floats are the common case
    return np.clip(np.rint(values * (255.0 / full_scale)), 0, 255).astype(np.uint8)


def _convert_with_profile(image: Image.Image, icc_profile: bytes) -> Image.Image | None:
    try:
        source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        return ImageCms.profileToProfile(image, source_profile, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except Exception:
        return None  # a broken profile: plain conversion is better than refusing the image
