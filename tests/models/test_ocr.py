"""The PP-OCRv4 reader on real frames: the wheel's real weights, no downloads."""
from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("rapidocr_onnxruntime", reason="the OCR wheel rapidocr-onnxruntime is not installed")

from clipmill.models.ocr import load_text_reader  # noqa: E402
from clipmill.qa.text_in_frame import TextBox  # noqa: E402
from tests.qa.defects import CJK_FONT, caption, draw_text, footage, photo, watermark  # noqa: E402


@pytest.fixture(scope="module")
def reader():
    return load_text_reader()


def test_the_reader_is_loaded_once_per_process(reader):
    assert load_text_reader() is reader


def test_reads_a_drawn_caption_where_it_was_drawn(reader):
    frames = caption(footage("sam2_01_dog.mp4", n=1), "Welcome to the park")
    boxes = reader.read(frames, [0])
    assert [b.text for b in boxes] == ["Welcome to the park"]
    box = boxes[0]
    assert isinstance(box, TextBox) and box.frame == 0 and box.confidence > 0.9
    h, w = frames.shape[1:3]
    assert abs((box.box[0] + box.box[2]) / 2 - w / 2) < 0.05 * w  # drawn centred
    assert 0.75 * h < box.box[3] <= h


def test_reads_a_chinese_caption(reader):
    frames = caption(footage("sam2_01_dog.mp4", n=1), "小狗在公园里玩耍", font_path=CJK_FONT)
    assert [b.text for b in reader.read(frames, [0])] == ["小狗在公园里玩耍"]


def test_reads_a_small_watermark_in_a_720p_frame_and_keeps_its_pixels(reader):
    # Detection runs on a 960-wide copy; the box must come back in the 1280-wide frame's pixels.
    frames = watermark(footage("sam2_01_dog.mp4", n=1, width=None))
    assert frames.shape[1:3] == (720, 1280)
    boxes = reader.read(frames, [0])
    assert [b.text for b in boxes] == ["shutterstock"]
    x1, y1, x2, y2 = boxes[0].box
    assert x2 > 1150 and x1 > 1000 and y1 < 40 and y2 < 80


def test_reads_a_real_licence_plate_in_a_photo(reader):
    cars = photo("sam2_cars.jpg")
    texts = [b.text for b in reader.read(cars[None], [0])]
    assert "P075359" in texts


def test_finds_no_text_in_clean_footage(reader):
    frames = np.concatenate([footage("sam2_01_dog.mp4", n=2, step=50),
                             footage("intel_bottle-detection.mp4", n=1, start=500)])
    assert reader.read(frames, list(range(len(frames)))) == []


def test_reads_only_the_frames_asked_for(reader):
    frames = caption(footage("sam2_01_dog.mp4", n=3, step=10), "Hello world")
    assert {b.frame for b in reader.read(frames, [2])} == {2}
    with pytest.raises(IndexError):
        reader.read(frames, [3])
    with pytest.raises(ValueError):
        reader.read(frames.astype(np.float32), [0])


def test_a_720p_frame_reads_in_well_under_two_seconds(reader):
    frames = footage("sam2_01_dog.mp4", n=3, step=30, width=None)
    frames = np.stack([draw_text(f, "Morning Brew", (500, 600), size=48) for f in frames])
    reader.read(frames, [0])  # warm-up: onnxruntime plans its first run
    start = time.perf_counter()
    reader.read(frames, [1, 2])
    per_frame = (time.perf_counter() - start) / 2
    assert per_frame < 2.0, f"{per_frame:.2f} s a 1280x720 frame"


def test_reads_a_caption_in_a_portrait_frame(reader):
    # Vertical video (720x1280): detection scales by the longer side, boxes come back in pixels.
    import cv2

    frame = footage("sam2_01_dog.mp4", n=1, width=None)[0][:, 300:705]
    portrait = cv2.resize(frame, (720, 1280), interpolation=cv2.INTER_AREA)[None]
    boxes = reader.read(caption(portrait, "Good boy", size_share=0.04), [0])
    assert [b.text for b in boxes] == ["Good boy"]
    assert boxes[0].box[3] > 1000


def test_reads_a_faint_watermark_in_a_corner_of_a_bright_frame(reader):
    # White at 75 % over a pale gym wall (the mmaction2 clip, 640 wide): a few levels from it.
    frame = footage("mmaction2_test_video_structuralize.mp4", n=1, start=200)[0]
    marked = draw_text(frame, "@douyin_clips", (630, 10), size=15, alpha=190, outline=False, anchor="ra")[None]
    # (a single letter read in a stretched texture is left to text_checks' min_chars)
    found = [b for b in reader.read_corners(marked, [0]) if len(b.text) > 1]
    assert [b.text.replace(" ", "") for b in found] == ["@douyin_clips"], found
    x1, y1, x2, y2 = found[0].box
    assert x1 > 480 and x2 <= 640 and y2 < 40  # in the frame's pixels, top right


def test_reads_no_corner_text_in_clean_footage(reader):
    frames = np.concatenate([footage("sam2_01_dog.mp4", n=2, step=60),
                             footage("intel_bottle-detection.mp4", n=1, start=500),
                             footage("mmaction2_test_video_structuralize.mp4", n=2, step=90)])
    assert [b for b in reader.read_corners(frames, list(range(len(frames)))) if len(b.text) > 1] == []


def test_the_reader_uses_half_the_cores_from_two_to_eight():
    from clipmill.models.ocr import default_ocr_threads

    assert [default_ocr_threads(cores) for cores in (1, 2, 4, 16, 64)] == [2, 2, 2, 8, 8]
