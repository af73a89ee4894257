"""Hard cuts on real footage: splices fail, fast motion and people entering do not."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from clipmill.qa.temporal import cut_check, cut_ratios
from tests.qa.defects import footage, pan, photo

CLIPS = ["sam2_01_dog.mp4", "mmaction2_test_video_structuralize.mp4", "intel_car-detection.mp4", "intel_bottle-detection.mp4"]


@pytest.mark.parametrize("name", CLIPS)
def test_whole_real_clips_have_no_cut(name):
    # The dog leaps, a white car crosses at 12.5 fps, the camera whips round, a hand takes a bottle.
    length = {"sam2_01_dog.mp4": 289, "mmaction2_test_video_structuralize.mp4": 300, "intel_car-detection.mp4": 377}
    frames = footage(name, n=length.get(name, 600), width=160)
    check = cut_check(frames)
    assert check.passed, check.reason
    assert check.metric == "cut" and check.stage == "temporal"


@pytest.mark.parametrize("first, second", [("sam2_01_dog.mp4", "mmaction2_test_video_structuralize.mp4"),
                                           ("sam2_01_dog.mp4", "intel_bottle-detection.mp4"),
                                           ("intel_car-detection.mp4", "sam2_01_dog.mp4")])
def test_a_splice_of_two_clips_fails_and_names_the_frames(first, second):
    frames = np.concatenate([footage(first, n=30, width=160, start=60), footage(second, n=30, width=160, start=60)])
    check = cut_check(frames)
    assert not check.passed
    assert "between frames 29->30" in check.reason
    assert check.value > 12


def test_a_fast_pan_over_a_photo_is_motion_not_a_cut():
    truck = cv2.resize(photo("sam2_truck.jpg"), (1600, 1067), interpolation=cv2.INTER_AREA)
    frames = pan(truck, n=40, size=(320, 180), start=(0, 200), step=(30, 8))
    assert cut_check(frames).passed


def test_a_person_entering_is_not_a_cut():
    # intel_bottle: an arm reaches in from the top and takes a bottle (frames ~440-560).
    frames = footage("intel_bottle-detection.mp4", n=150, start=420, width=160)
    check = cut_check(frames)
    assert check.passed, check.reason


def test_a_jump_within_the_same_footage_ratio_is_reported():
    frames = np.concatenate([footage("mmaction2_test_video_structuralize.mp4", n=30, start=70, width=160),
                             footage("mmaction2_test_video_structuralize.mp4", n=30, start=200, width=160)])
    ratios = cut_ratios(frames)
    assert int(np.argmax(ratios)) == 29  # the jump is the largest change, whatever the verdict


def test_short_clips_pass():
    assert cut_check(np.zeros((1, 16, 16, 3), np.uint8)).passed
    assert cut_check(np.zeros((2, 16, 16, 3), np.uint8)).passed


def test_a_light_switched_on_a_flash_or_a_black_frame_is_not_a_cut():
    frames = footage("sam2_01_dog.mp4", n=60, width=160)
    flash, dimmed, black = frames.copy(), frames.copy(), frames.copy()
    flash[30] = np.clip(flash[30] * 1.4, 0, 255).astype(np.uint8)
    dimmed[30:] = (dimmed[30:] * 0.6).astype(np.uint8)
    black[30:32] = 0
    for name, clip in (("flash", flash), ("dimmed", dimmed), ("black", black)):
        check = cut_check(clip)
        assert check.passed, (name, check.reason)


def test_a_cut_behind_a_black_frame_is_still_found():
    frames = np.concatenate([footage("sam2_01_dog.mp4", n=30, width=160), np.zeros((1, 90, 160, 3), np.uint8),
                             footage("intel_bottle-detection.mp4", n=30, width=160)])
    check = cut_check(frames)
    assert not check.passed and "between frames 29->31" in check.reason
