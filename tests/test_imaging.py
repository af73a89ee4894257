from __future__ import annotations

import io
import os
import resource
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clipmill.imaging import ImageInputError, PreparedImage, crop_region, prepare_image

PHOTOS = Path("/work/shared/data/images")
PHOTO_FILES = sorted(PHOTOS.glob("*")) if PHOTOS.is_dir() else []

needs_photos = pytest.mark.skipif(not PHOTO_FILES, reason=f"sample photos not found in {PHOTOS}")


def pixel(path: Path, xy: tuple[int, int]) -> tuple[int, int, int]:
    with Image.open(path) as image:
        return image.getpixel(xy)


def assert_close(actual, expected, tolerance=6):
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected)), f"{actual} is not close to {expected}"


# --- real photos ---------------------------------------------------------------------


@needs_photos
@pytest.mark.parametrize("photo", PHOTO_FILES, ids=lambda p: p.name)
def test_real_photo_becomes_rgb_png_of_exact_size(photo, tmp_path):
    dest = tmp_path / "out.png"
    prepared = prepare_image(photo, dest, width=208, height=120)

    with Image.open(dest) as result:
        assert (result.format, result.mode, result.size) == ("PNG", "RGB", (208, 120))
        assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "Comment"} & set(result.info)
    assert prepared.path == dest and prepared.source == photo
    assert prepared.size == (208, 120)
    with Image.open(photo) as original:
        assert prepared.original_size == original.size and prepared.mode == original.mode


@needs_photos
def test_portrait_target_from_landscape_photo(tmp_path):
    prepared = prepare_image(PHOTOS / "skimage_coffee.png", tmp_path / "p.png", width=90, height=160)
    assert Image.open(prepared.path).size == (90, 160)


def test_to_dict_is_json_safe(tmp_path):
    import json

    source = tmp_path / "in.png"
    Image.new("RGB", (100, 80), (10, 20, 30)).save(source)
    prepared = prepare_image(source, tmp_path / "out.png", width=64, height=64)
    assert isinstance(prepared, PreparedImage)
    assert json.loads(json.dumps(prepared.to_dict()))["original_size"] == [100, 80]


# --- orientation and cropping --------------------------------------------------------


def test_exif_orientation_6_is_applied(tmp_path):
    # Stored landscape, red on the left; orientation 6 means "rotate 90 degrees clockwise
    # to display", so the upright picture is portrait with red on top.
    stored = Image.new("RGB", (200, 100), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 100, 100))
    exif = Image.Exif()
    exif[0x0112] = 6
    source = tmp_path / "phone.jpg"
    stored.save(source, exif=exif.tobytes(), quality=95)

    prepared = prepare_image(source, tmp_path / "out.png", width=100, height=200)

    assert prepared.exif_rotated is True
    assert prepared.original_size == (100, 200)
    assert_close(pixel(prepared.path, (50, 20)), (255, 0, 0), tolerance=20)
    assert_close(pixel(prepared.path, (50, 180)), (0, 0, 255), tolerance=20)


def test_image_without_orientation_is_not_marked_rotated(tmp_path):
    source = tmp_path / "plain.jpg"
    Image.new("RGB", (120, 80), (0, 200, 0)).save(source)
    assert prepare_image(source, tmp_path / "o.png", width=64, height=64).exif_rotated is False


def red_square_on_right(tmp_path) -> Path:
    canvas = Image.new("RGB", (400, 100), (255, 255, 255))
    canvas.paste((255, 0, 0), (340, 30, 380, 70))
    source = tmp_path / "product.png"
    canvas.save(source)
    return source


def test_subject_crop_centres_on_the_subject(tmp_path):
    source = red_square_on_right(tmp_path)
    prepared = prepare_image(source, tmp_path / "s.png", width=100, height=100, crop="subject",
                             subject_box=(340, 30, 380, 70))
    # Centred on x=360 the crop would overhang the right edge, so it is kept at 300..400.
    with Image.open(prepared.path) as result:
        reds = np.argwhere(np.all(np.asarray(result) == (255, 0, 0), axis=-1))
    assert len(reds) > 0
    assert (reds[:, 1].min(), reds[:, 1].max()) == (40, 79)


def test_centre_crop_ignores_the_subject_box(tmp_path):
    source = red_square_on_right(tmp_path)
    prepared = prepare_image(source, tmp_path / "c.png", width=100, height=100, crop="center",
                             subject_box=(340, 30, 380, 70))
    with Image.open(prepared.path) as result:
        assert not np.any(np.all(np.asarray(result) == (255, 0, 0), axis=-1))


def test_subject_crop_without_box_or_outside_image_falls_back_to_centre():
    assert crop_region((400, 100), (1, 1), None) == (150.0, 0.0, 250.0, 100.0)
    assert crop_region((400, 100), (1, 1), (900, 900, 950, 950)) == (150.0, 0.0, 250.0, 100.0)


def test_subject_box_is_clamped_to_the_image():
    assert crop_region((400, 100), (1, 1), (350, 10, 600, 90)) == (300.0, 0.0, 400.0, 100.0)


def test_crop_region_keeps_target_aspect():
    left, top, right, bottom = crop_region((1000, 1000), (16, 9))
    assert (right - left) / (bottom - top) == pytest.approx(16 / 9)
    assert (left, right) == (0.0, 1000.0)


# --- colour modes --------------------------------------------------------------------


def save(image: Image.Image, path: Path, **kwargs) -> Path:
    image.save(path, **kwargs)
    return path


def test_rgba_transparent_area_takes_the_background(tmp_path):
    image = Image.new("RGBA", (80, 80), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (0, 0, 40, 80))
    source = save(image, tmp_path / "cutout.png")
    prepared = prepare_image(source, tmp_path / "o.png", width=80, height=80, background=(0, 128, 0))
    assert_close(pixel(prepared.path, (10, 40)), (255, 0, 0))
    assert_close(pixel(prepared.path, (70, 40)), (0, 128, 0))


def test_half_transparent_pixels_are_blended(tmp_path):
    source = save(Image.new("RGBA", (80, 80), (0, 0, 0, 128)), tmp_path / "half.png")
    prepared = prepare_image(source, tmp_path / "o.png", width=64, height=64)
    assert_close(pixel(prepared.path, (32, 32)), (127, 127, 127), tolerance=3)


def test_la_is_flattened(tmp_path):
    image = Image.new("LA", (80, 80), (0, 0))
    image.paste((200, 255), (0, 0, 40, 80))
    source = save(image, tmp_path / "la.png")
    prepared = prepare_image(source, tmp_path / "o.png", width=80, height=80)
    assert_close(pixel(prepared.path, (10, 40)), (200, 200, 200))
    assert_close(pixel(prepared.path, (70, 40)), (255, 255, 255))


def test_palette_with_transparency_is_flattened(tmp_path):
    image = Image.new("P", (80, 80), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * (254 * 3))
    image.paste(1, (0, 0, 40, 80))
    source = save(image, tmp_path / "sticker.gif", transparency=0)
    prepared = prepare_image(source, tmp_path / "o.png", width=80, height=80, background=(0, 0, 255))
    assert prepared.mode == "P"
    assert_close(pixel(prepared.path, (10, 40)), (255, 0, 0))
    assert_close(pixel(prepared.path, (70, 40)), (0, 0, 255))


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    source = save(Image.new("CMYK", (80, 80), (0, 255, 255, 0)), tmp_path / "print.jpg", quality=95)
    prepared = prepare_image(source, tmp_path / "o.png", width=64, height=64)
    assert prepared.mode == "CMYK"
    assert_close(pixel(prepared.path, (32, 32)), (255, 0, 0), tolerance=12)


def test_sixteen_bit_greyscale_is_scaled_not_clipped(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (80, 1))
    image = Image.fromarray(ramp)
    assert image.mode.startswith("I;16")
    source = save(image, tmp_path / "scan.png")
    prepared = prepare_image(source, tmp_path / "o.png", width=256, height=80)
    with Image.open(prepared.path) as result:
        row = np.asarray(result)[40, :, 0].astype(int)
    assert row[0] <= 3 and row[-1] >= 252
    assert abs(row[128] - 128) <= 4  # a clipping conversion would give 255 here


def test_thirty_two_bit_integer_holding_sixteen_bit_values_is_scaled(tmp_path):
    image = Image.fromarray(np.full((80, 80), 32768, dtype=np.int32), mode="I")
    source = save(image, tmp_path / "i32.tiff")
    prepared = prepare_image(source, tmp_path / "o.png", width=64, height=64)
    assert_close(pixel(prepared.path, (32, 32)), (128, 128, 128), tolerance=2)


def test_float_image_in_unit_range_is_scaled(tmp_path):
    image = Image.fromarray(np.full((80, 80), 0.5, dtype=np.float32), mode="F")
    source = save(image, tmp_path / "depth.tiff")
    prepared = prepare_image(source, tmp_path / "o.png", width=64, height=64)
    assert_close(pixel(prepared.path, (32, 32)), (128, 128, 128), tolerance=2)


def test_greyscale_becomes_three_equal_channels(tmp_path):
    source = save(Image.new("L", (80, 80), 100), tmp_path / "grey.png")
    prepared = prepare_image(source, tmp_path / "o.png", width=64, height=64)
    assert Image.open(prepared.path).mode == "RGB"
    assert pixel(prepared.path, (32, 32)) == (100, 100, 100)


def test_animated_gif_uses_the_first_frame(tmp_path):
    frames = [Image.new("RGB", (80, 80), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    source = tmp_path / "anim.gif"
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=100, loop=0)
    prepared = prepare_image(source, tmp_path / "o.png", width=64, height=64)
    assert_close(pixel(prepared.path, (32, 32)), (255, 0, 0))


# --- bad inputs ----------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_claiming(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b""))


def jpeg_bytes(size=(200, 150)) -> bytes:
    buffer = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(noise).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def corrupt_crc_png() -> bytes:
    good = io.BytesIO()
    Image.new("RGB", (100, 100), (1, 2, 3)).save(good, format="PNG")
    data = bytearray(good.getvalue())
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF  # flip a byte inside the compressed pixels: the CRC no longer matches
    return bytes(data)


BAD_FILES = {
    "empty.jpg": (b"", "empty"),
    "notes.jpg": (b"this is a shopping list, not a photo\n" * 20, "not an image"),
    "truncated.jpg": (jpeg_bytes()[:2000], "decode"),
    "bomb.png": (png_claiming(100_000, 100_000), "pixel"),
    "tiny.png": (png_claiming(10, 10), "at least 64"),
    "crc.png": (corrupt_crc_png(), "corrupt"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_raises_image_input_error_naming_the_file(name, tmp_path):
    data, expected_words = BAD_FILES[name]
    source = tmp_path / name
    source.write_bytes(data)
    out_dir = tmp_path / "out"
    dest = out_dir / "prepared.png"

    with pytest.raises(ImageInputError) as caught:
        prepare_image(source, dest, width=64, height=64)

    message = str(caught.value)
    assert name in message and "\n" not in message
    assert expected_words in message.lower()
    assert not dest.exists()
    assert not out_dir.exists() or not any(out_dir.iterdir()), "a partial or temporary file was left behind"


def test_decompression_bomb_is_refused_quickly_without_allocating(tmp_path):
    source = tmp_path / "bomb.png"
    source.write_bytes(png_claiming(100_000, 100_000))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(ImageInputError, match="bomb.png"):
        prepare_image(source, tmp_path / "o.png", width=64, height=64)
    assert time.perf_counter() - started < 1.0
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert grown_kib < 50 * 1024  # decoding 100000x100000 RGB would need 30 GB


def test_our_pixel_limit_applies_below_pils(tmp_path):
    source = save(Image.new("RGB", (300, 300)), tmp_path / "big.png")
    with pytest.raises(ImageInputError, match=r"big\.png.*pixel limit"):
        prepare_image(source, tmp_path / "o.png", width=64, height=64, max_pixels=300 * 299)


def test_file_over_max_bytes_is_refused_before_decoding(tmp_path):
    source = tmp_path / "huge.jpg"
    source.write_bytes(jpeg_bytes())
    with pytest.raises(ImageInputError, match=r"huge\.jpg.*over the 1000-byte limit"):
        prepare_image(source, tmp_path / "o.png", width=64, height=64, max_bytes=1000)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ImageInputError, match=r"nowhere\.jpg: file not found"):
        prepare_image(tmp_path / "nowhere.jpg", tmp_path / "o.png", width=64, height=64)
    (tmp_path / "folder.jpg").mkdir()
    with pytest.raises(ImageInputError, match=r"folder\.jpg: is a directory, not a regular file"):
        prepare_image(tmp_path / "folder.jpg", tmp_path / "o.png", width=64, height=64)


@pytest.mark.timeout(20)
def test_a_fifo_and_a_link_to_dev_zero_are_refused_at_once(tmp_path):
    """Opening a FIFO waits for a writer and /dev/zero never ends: neither may be opened for reading."""
    os.mkfifo(tmp_path / "pipe.jpg")
    (tmp_path / "zero.png").symlink_to("/dev/zero")
    with pytest.raises(ImageInputError, match=r"pipe\.jpg: is a FIFO \(named pipe\), not a regular file"):
        prepare_image(tmp_path / "pipe.jpg", tmp_path / "o.png", width=64, height=64)
    with pytest.raises(ImageInputError, match=r"zero\.png: is a character device \(the symlink leads to /dev/zero\)"):
        prepare_image(tmp_path / "zero.png", tmp_path / "o.png", width=64, height=64)


def test_failure_keeps_an_earlier_good_output_intact(tmp_path):
    dest = tmp_path / "o.png"
    good = save(Image.new("RGB", (80, 80), (9, 9, 9)), tmp_path / "good.png")
    prepare_image(good, dest, width=64, height=64)
    before = dest.read_bytes()
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(jpeg_bytes()[:2000])
    with pytest.raises(ImageInputError):
        prepare_image(bad, dest, width=64, height=64)
    assert dest.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jpg", "good.png", "o.png"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"width": 0, "height": 64},
        {"width": 64, "height": 64, "crop": "face"},
        {"width": 64, "height": 64, "subject_box": (10, 10, 5, 20)},
        {"width": 64, "height": 64, "background": (0, 0, 300)},
    ],
)
def test_bad_arguments_raise_value_error(kwargs, tmp_path):
    source = save(Image.new("RGB", (80, 80)), tmp_path / "in.png")
    with pytest.raises(ValueError) as caught:
        prepare_image(source, tmp_path / "o.png", **kwargs)
    assert not isinstance(caught.value, ImageInputError)


def test_dest_must_be_png(tmp_path):
    source = save(Image.new("RGB", (80, 80)), tmp_path / "in.png")
    with pytest.raises(ValueError, match="png"):
        prepare_image(source, tmp_path / "o.jpg", width=64, height=64)
