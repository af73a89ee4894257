"""The visible label: on the opening frames for >= 2 s, >= 5% of the shorter side, CJK drawn as
glyphs (not missing-glyph boxes), read back from an encoded MP4."""
import math
import shutil

import numpy as np
import pytest

from clipmill.media import encode_mp4, read_video
from clipmill.publishing import (
    LabelError,
    LabelSettings,
    PublishSettings,
    burn_label,
    find_label_font,
    label_frame_indices,
    render_label,
)
from clipmill.publishing import label as label_module
from clipmill.publishing.label import glyph_bitmap, load_font, missing_glyphs

needs_ffprobe = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")


@pytest.fixture(scope="module")
def cjk_font():
    try:
        return find_label_font("AI生成")
    except LabelError as error:
        pytest.skip(str(error))


def grey_clip(count, height, width, level=110):
    """A flat clip with a faint moving texture, so the encoder has something to code."""
    y, x = np.mgrid[0:height, 0:width]
    frames = [(level + 6 * np.sin((x + 3 * t) / 9.0) + 4 * np.cos(y / 7.0)) for t in range(count)]
    return np.repeat(np.stack(frames).astype(np.uint8)[..., None], 3, axis=-1)


def bright_rows(frame, threshold=200):
    rows = np.flatnonzero((frame.min(axis=-1) > threshold).any(axis=1))
    return (rows.min(), rows.max()) if rows.size else None


def test_cjk_glyphs_are_drawn_not_boxes(cjk_font):
    font = load_font(cjk_font, 64)
    box = glyph_bitmap(font, "\U0010fffd")  # what the font draws for a character it lacks
    bitmaps = {char: glyph_bitmap(font, char) for char in "AI生成"}
    for char, bitmap in bitmaps.items():
        assert bitmap.any(), char
        assert not (bitmap.shape == box.shape and np.array_equal(bitmap, box)), f"{char} drawn as a missing glyph"
    for a in "AI生成":
        for b in "AI生成":
            if a < b:
                same = bitmaps[a].shape == bitmaps[b].shape and np.array_equal(bitmaps[a], bitmaps[b])
                assert not same, f"{a} and {b} render alike"
    assert missing_glyphs(font, "AI生成 AI-generated") == []


def test_the_tofu_check_catches_a_latin_only_font():
    dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    if not shutil.os.path.exists(dejavu):
        pytest.skip("DejaVu not installed")
    assert missing_glyphs(load_font(dejavu, 48), "AI生成") == ["生", "成"]
    with pytest.raises(LabelError, match="no glyph for '生成'"):
        find_label_font("AI生成", dejavu)


def test_missing_font_names_the_package(monkeypatch):
    monkeypatch.setattr(label_module, "KNOWN_FONTS", ("/nonexistent/font.ttc",))
    monkeypatch.setattr(label_module, "_fontconfig_cjk_fonts", lambda: ())
    monkeypatch.delenv(label_module.FONT_ENV, raising=False)
    with pytest.raises(LabelError) as caught:
        find_label_font("AI生成")
    message = str(caught.value)
    assert "apt-get install fonts-wqy-microhei" in message and "\n" not in message


@pytest.mark.parametrize("count, fps, seconds, at_end, expected", [
    (96, 24, 2.0, False, list(range(48))),
    (96, 16, 2.5, False, list(range(40))),
    (30, 24, 2.0, False, list(range(30))),  # shorter than the label: labelled throughout
    (100, 10, 2.0, True, list(range(20)) + list(range(80, 100))),
    (33, 16.0, 2.0, False, list(range(32))),
    (33, 15.9, 2.0, False, list(range(32))),  # 31.8 frames rounded up: never under 2 s
])
def test_which_frames(count, fps, seconds, at_end, expected):
    settings = LabelSettings(seconds=seconds, also_at_end=at_end)
    assert label_frame_indices(count, fps, settings).tolist() == expected


@needs_ffprobe
def test_label_visible_in_the_encoded_opening_frames_only(tmp_path, cjk_font):
    fps, count, height, width = 16, 64, 240, 320  # 4 s; the default label's 2.5 s are 40 frames
    frames = grey_clip(count, height, width)
    settings = PublishSettings(enabled=True)
    assert settings.label.seconds >= 2.0 and settings.label.text_height >= 0.05
    labelled = burn_label(frames, fps, settings)
    assert np.array_equal(frames, grey_clip(count, height, width)), "input frames modified"

    decoded, decoded_fps = read_video(encode_mp4(labelled, tmp_path / "clip.mp4", fps=fps))
    assert decoded.shape == frames.shape and decoded_fps == pytest.approx(fps)
    stamp = render_label(width, height, settings)
    rows = slice(stamp.y, stamp.y + stamp.box.shape[0])
    cols = slice(stamp.x, stamp.x + stamp.box.shape[1])
    need = math.ceil(0.05 * min(height, width))
    opening = math.ceil(settings.label.seconds * fps)
    assert opening >= 2.0 * fps
    change = np.abs(decoded.astype(int) - frames.astype(int))[:, rows, cols].mean(axis=(1, 2, 3))
    for index in range(count):
        if index < opening:
            assert change[index] > 25, f"frame {index}: label not visible"
            found = bright_rows(decoded[index, rows, cols])
            assert found and found[1] - found[0] + 1 >= need, f"frame {index}: text {found} under {need} px"
        else:
            assert change[index] < 3, f"frame {index}: changed after the label's time"
            assert bright_rows(decoded[index]) is None
    # top-left, and nothing drawn outside the label's box
    assert stamp.x < width // 2 and stamp.y < height // 2
    outside = np.abs(decoded.astype(int) - frames.astype(int))
    outside[:, rows, cols] = 0
    assert outside.mean() < 3


def test_also_at_end_and_positions(cjk_font):
    fps, frames = 10, grey_clip(50, 180, 320)
    settings = LabelSettings(position="bottom-right", also_at_end=True, seconds=2)
    out = burn_label(frames, fps, settings)
    stamp = render_label(320, 180, settings)
    assert stamp.x > 160 and stamp.y > 90
    changed = [not np.array_equal(a, b) for a, b in zip(out, frames)]
    assert changed == [True] * 20 + [False] * 10 + [True] * 20


@pytest.mark.parametrize("width, height", [(832, 480), (480, 832), (1280, 704), (64, 64)])
def test_text_height_is_measured_on_the_glyphs(width, height, cjk_font):
    for fraction in (0.05, 0.08):
        stamp = render_label(width, height, LabelSettings(text_height=fraction))
        need = max(label_module.MIN_TEXT_PX, math.ceil(fraction * min(width, height)))
        rows = np.flatnonzero((stamp.ink[..., 0] > 0.5).any(axis=1))
        assert stamp.text_px >= need and rows.max() - rows.min() + 1 >= need
        assert stamp.text_px <= need * 1.25  # not wildly larger either


def test_latin_label_and_too_long_text(cjk_font):
    frames = grey_clip(40, 96, 160)
    out = burn_label(frames, 8, LabelSettings(text="AI-generated"))
    assert not np.array_equal(out[0], frames[0]) and np.array_equal(out[-1], frames[-1])
    with pytest.raises(LabelError, match="shorten the text"):
        render_label(96, 96, LabelSettings(text="人工智能生成合成内容人工智能生成", text_height=0.1))
