"""Text-in-frame judgement: rules on hand-made readings, then the real OCR on real footage."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from clipmill.qa.text_in_frame import (TextBox, allowed_text_from_prompt, change_rate, garbled_share,
                                       read_corners_while_a_watermark_can_show, text_checks, text_frame_indices)
from tests.qa.defects import CJK_FONT, caption, footage, pan, photo, sign, watermark

SIZE = (360, 640)


def by_metric(checks):
    return {c.metric: c for c in checks}


def failed(checks):
    return sorted(c.metric for c in checks if not c.passed)


# ---------------------------------------------------------------- the prompt's own text

def test_quoted_text_in_every_quoting_style_is_allowed():
    prompt = ('a neon sign "OPEN 24H", a mug printed “Morning Brew”, 招牌「老王面馆」 and 『清泉』, '
              "a 'Nike' shoe next to the dog's toy")
    assert allowed_text_from_prompt(prompt) == ["OPEN 24H", "Morning Brew", "老王面馆", "清泉", "Nike"]


def test_text_after_says_or_reads_is_allowed_up_to_the_next_clause():
    assert allowed_text_from_prompt("a cafe sign that says OPEN, a cat") == ["OPEN"]
    assert allowed_text_from_prompt("a banner reading Happy Birthday on the wall") == ["Happy Birthday"]
    assert allowed_text_from_prompt("门口的牌子上写着欢迎光临") == ["欢迎光临"]
    assert allowed_text_from_prompt("a T-shirt printed with Nike and a cap") == ["Nike"]
    assert allowed_text_from_prompt("电影《流浪地球》的海报") == ["流浪地球"]
    assert allowed_text_from_prompt("a dog runs in a park") == []


# ---------------------------------------------------------------- measures

def test_change_rate_ignores_a_reading_cut_short_but_not_new_letters():
    assert change_rate("Welcome to the park", "Welcome to") == 0
    assert change_rate("P075359", "P07S359") == pytest.approx(1 / 7)  # one OCR misread
    assert change_rate("SBDEDS", "ATONEK") == 1
    assert change_rate("面包店", "面色庄") == pytest.approx(2 / 3)


def test_garbled_share_reads_words_not_codes_or_acronyms():
    assert garbled_share("Hrlvno Qbxte") == 1
    for real in ("Welcome to the park", "Schwarzschild Strength", "P075359", "HTML", "rhythm", "小狗在公园里"):
        assert garbled_share(real) == 0, real


# ---------------------------------------------------------------- rules on hand-made readings

def test_frames_to_read_span_the_clip():
    assert text_frame_indices(121) == [0, 40, 80, 120]
    assert text_frame_indices(2, 4) == [0, 1]
    assert text_frame_indices(0) == []

def _box(frame, text, box, confidence=0.98):
    return TextBox(frame, text, confidence, box)


def test_stable_small_scene_text_passes_even_when_read_a_little_differently():
    plate = [(0, "P075359"), (10, "P07S359"), (20, "P075359")]
    boxes = [_box(f, t, (300 + f, 200, 360 + f, 214)) for f, t in plate]
    checks = text_checks(boxes, [0, 10, 20], frame_size=SIZE)
    assert failed(checks) == [], [c.reason for c in checks]


def test_text_that_mutates_in_one_region_fails_and_names_text_and_frames():
    boxes = [_box(0, "BAKERY", (360, 120, 560, 160)), _box(12, "BXKQRT", (362, 121, 558, 160))]
    check = by_metric(text_checks(boxes, [0, 12], frame_size=SIZE))["text_change"]
    assert not check.passed and check.stage == "text"
    assert "'BAKERY' in frame 0 became 'BXKQRT' in frame 12" in check.reason


def test_the_same_text_in_different_places_is_not_a_mutation():
    boxes = [_box(0, "BAKERY", (20, 20, 120, 40)), _box(5, "CAFE", (400, 200, 480, 220))]
    assert by_metric(text_checks(boxes, [0, 5], frame_size=SIZE))["text_change"].passed


def test_low_confidence_and_single_character_readings_are_ignored():
    boxes = [_box(0, "O", (182, 55, 405, 327), 0.99), _box(0, "Qbxtrl", (10, 300, 200, 330), 0.4)]
    assert failed(text_checks(boxes, [0], frame_size=SIZE)) == []
    half_read = [_box(0, "Hrlvno", (300, 100, 360, 120), 0.7)]
    assert failed(text_checks(half_read, [0], frame_size=SIZE)) == []
    assert failed(text_checks([_box(0, "Hrlvno", (300, 100, 360, 120), 0.95)], [0], frame_size=SIZE)) == ["text_garbled"]


def test_a_caption_the_prompt_asks_for_passes():
    boxes = [_box(f, "Welcome to the park", (200, 300, 440, 330)) for f in (0, 8)]
    assert failed(text_checks(boxes, [0, 8], frame_size=SIZE)) == ["text_caption"]
    allowed = allowed_text_from_prompt('a title card that says "Welcome to the park"')
    assert failed(text_checks(boxes, [0, 8], frame_size=SIZE, allowed_text=allowed)) == []


def test_corner_text_seen_once_is_not_a_watermark():
    boxes = [_box(0, "EXIT", (580, 10, 630, 30))]
    assert by_metric(text_checks(boxes, [0, 8, 16], frame_size=SIZE))["text_watermark"].passed
    boxes.append(_box(16, "EXIT", (581, 10, 630, 31)))
    assert not by_metric(text_checks(boxes, [0, 8, 16], frame_size=SIZE))["text_watermark"].passed


def test_a_long_handle_against_a_side_is_a_watermark_but_a_centred_line_is_not():
    frames = [0, 8, 16]
    handle = [_box(f, "@TikTok抖音号83021", (9, 9, 210, 35)) for f in frames]  # a third of the width, from the left
    assert not by_metric(text_checks(handle, frames, frame_size=SIZE))["text_watermark"].passed
    centred = [_box(f, "SALE SALE SALE", (200, 10, 440, 34)) for f in frames]
    assert by_metric(text_checks(centred, frames, frame_size=SIZE))["text_watermark"].passed
    too_wide = [_box(f, "a long banner across the top", (5, 10, 420, 34)) for f in frames]
    assert by_metric(text_checks(too_wide, frames, frame_size=SIZE))["text_watermark"].passed


# ---------------------------------------------------------------- the real reader on real footage

EXAMINED = [0, 12, 23]
SIGN = (360, 120, 560, 160)


@pytest.fixture(scope="module")
def reader():
    pytest.importorskip("rapidocr_onnxruntime", reason="the OCR wheel rapidocr-onnxruntime is not installed")
    from clipmill.models.ocr import load_text_reader

    return load_text_reader()


@pytest.fixture(scope="module")
def dog():
    return footage("sam2_01_dog.mp4", n=24, step=4)


def judge(reader, frames, prompt=""):
    boxes = reader.read(frames, EXAMINED)
    return text_checks(boxes, EXAMINED, frame_size=frames.shape[1:3], allowed_text=allowed_text_from_prompt(prompt))


def test_real_clean_footage_passes(reader, dog):
    checks = judge(reader, dog)
    assert failed(checks) == [] and [c.metric for c in checks] == ["text_change", "text_caption", "text_watermark", "text_garbled"]


def test_real_burned_in_caption_fails(reader, dog):
    check = by_metric(judge(reader, caption(dog, "Welcome to the park")))["text_caption"]
    assert not check.passed
    assert "'Welcome to the park' in frames 0, 12, 23" in check.reason


def test_real_caption_quoted_in_the_prompt_passes(reader, dog):
    checks = judge(reader, caption(dog, "Welcome to the park"), 'a woman plays with her dog, title "Welcome to the park"')
    assert failed(checks) == []


def test_real_chinese_caption_fails(reader, dog):
    assert failed(judge(reader, caption(dog, "小狗在公园里玩耍", font_path=CJK_FONT))) == ["text_caption"]


def test_real_semi_transparent_watermark_fails(reader, dog):
    check = by_metric(judge(reader, watermark(dog)))["text_watermark"]
    assert not check.passed and "'shutterstock'" in check.reason


def test_real_garbled_sign_fails(reader, dog):
    frames = np.stack([sign(f, "Hrlvno Qbxte", SIGN) for f in dog])
    assert failed(judge(reader, frames)) == ["text_garbled"]


def test_real_mutating_sign_fails_and_a_stable_one_passes(reader, dog):
    words = {0: "SBDEDS", 12: "ATONEK", 23: "NTOHUL"}
    mutating = np.stack([sign(f, words.get(t, "KLMNRT"), SIGN) for t, f in enumerate(dog)])
    check = by_metric(judge(reader, mutating))["text_change"]
    assert not check.passed and "frames 0, 12, 23" in check.reason
    stable = np.stack([sign(f, "BAKERY", SIGN) for f in dog])
    assert failed(judge(reader, stable)) == []


def test_real_mutating_chinese_sign_fails(reader, dog):
    words = {0: "面包店", 12: "画色庄", 23: "囬包压"}
    frames = np.stack([sign(f, words.get(t, "面包店"), SIGN, font_path=CJK_FONT) for t, f in enumerate(dog)])
    assert "text_change" in failed(judge(reader, frames))


def test_real_licence_plate_in_a_panning_shot_passes(reader):
    cars = cv2.resize(photo("sam2_cars.jpg"), (1280, 853), interpolation=cv2.INTER_AREA)
    frames = pan(cars, n=24, start=(40, 330), step=(4, 1))
    boxes = reader.read(frames, EXAMINED)
    assert {b.text for b in boxes} == {"P075359"}  # the test would prove nothing without the plate
    assert failed(text_checks(boxes, EXAMINED, frame_size=frames.shape[1:3], allowed_text=[])) == []


def test_a_pan_along_a_row_of_signs_is_not_a_mutation():
    # Frame 10: the camera moved right; CAFE now stands where BAKERY stood, BAKERY left of it.
    boxes = [_box(0, "BAKERY", (300, 100, 400, 130)), _box(0, "CAFE", (500, 100, 580, 130)),
             _box(10, "BAKERY", (100, 100, 200, 130)), _box(10, "CAFE", (300, 100, 380, 130))]
    assert by_metric(text_checks(boxes, [0, 10], frame_size=SIZE))["text_change"].passed


def test_a_licence_plate_at_the_bottom_centre_is_not_a_caption():
    boxes = [_box(0, "P075359", (290, 300, 350, 315))]
    assert by_metric(text_checks(boxes, [0], frame_size=SIZE))["text_caption"].passed


def test_corner_readings_count_for_the_watermark_check_only():
    # A faint handle read in the top-right corner of every examined frame, and a stretched
    # texture read as other pseudo-text in each frame in another corner: the first is a
    # watermark; the second is no mark (it changes) and must not fail the garbled or
    # changing-text checks, which whole-frame readings alone decide.
    corners = [_box(f, "@douyin_clips", (510, 12, 628, 28)) for f in (0, 20, 40)]
    corners += [_box(0, "Xkrtzq", (10, 330, 80, 350)), _box(20, "Wbnpl", (10, 330, 80, 350))]
    assert failed(text_checks([], [0, 20, 40], frame_size=SIZE, corner_boxes=corners)) == ["text_watermark"]
    assert failed(text_checks([], [0, 20, 40], frame_size=SIZE, corner_boxes=corners[3:])) == []
    # the prompt's own handle is allowed wherever it is read
    assert failed(text_checks([], [0, 20, 40], frame_size=SIZE, corner_boxes=corners[:3],
                              allowed_text=["@douyin_clips"])) == []


class _CornerReader:
    """Corner readings given per frame, and which frames were asked for (isolates the stopping rule)."""

    def __init__(self, per_frame: dict[int, list[TextBox]]) -> None:
        self.per_frame, self.asked = per_frame, []

    def read_corners(self, frames, indices):
        self.asked += list(indices)
        return [b for i in indices for b in self.per_frame.get(i, [])]


@pytest.mark.parametrize("in_corners, whole, read", [
    ({}, [], [0, 40, 80]),  # no text anywhere: after 3 text-free frames 1 is left, fewer than 2
    ({80: [_box(80, "@mark", (510, 12, 628, 28))]}, [], [0, 40, 80, 120]),  # text at 80: 120 may make 2
    ({}, [_box(40, "EXIT", (300, 100, 360, 120))], [0, 40, 80, 120]),  # whole-frame text at 40 keeps it open
    ({0: [_box(0, "@mark", (510, 12, 628, 28))], 40: [_box(40, "@mark", (510, 12, 628, 28))]}, [], [0, 40, 80, 120]),
])
def test_corners_are_read_until_no_text_can_be_a_watermark(in_corners, whole, read):
    examined = [0, 40, 80, 120]
    reader = _CornerReader(in_corners)
    found = read_corners_while_a_watermark_can_show(reader, None, examined, whole)
    assert reader.asked == read
    every = [b for i in examined for b in in_corners.get(i, [])]
    verdict = by_metric(text_checks(whole, examined, frame_size=SIZE, corner_boxes=every))["text_watermark"].passed
    assert by_metric(text_checks(whole, examined, frame_size=SIZE, corner_boxes=found))["text_watermark"].passed == verdict
