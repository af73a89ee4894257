"""Blur and damage on real footage: clean clips pass, manufactured damage fails, named by frame."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from clipmill.qa.sharpness import blockiness, noise_level, sharpness, sharpness_checks
from tests.qa.defects import blurred, footage, jpeg, noisy, photo

CLIPS = ["sam2_01_dog.mp4", "mmaction2_test_video_structuralize.mp4", "intel_car-detection.mp4", "intel_bottle-detection.mp4"]


def by_metric(checks):
    return {c.metric: c for c in checks}


def failed(checks):
    return sorted(c.metric for c in checks if not c.passed)


@lru_cache(maxsize=None)
def _clip(name: str, n: int) -> np.ndarray:
    return footage(name, n=n, step=10)


def clip(name="sam2_01_dog.mp4", n=28):
    """`n` frames 10 apart (a third of a second at 30 fps), decoded once per test session."""
    return _clip(name, n).copy()


@pytest.mark.parametrize("name", CLIPS)
def test_real_footage_passes(name):
    # Every 10th frame over the whole clip: motion blur, a whip pan, dark asphalt, a cut.
    frames = clip(name, n=28)
    checks = sharpness_checks(frames)
    assert [c.metric for c in checks] == ["blur", "blur_level", "blur_reference", "blur_noise", "blur_blocking"]
    assert failed(checks) == [], [c.reason for c in checks]
    assert all(c.stage == "blur" for c in checks)


def test_real_footage_passes_against_its_own_first_frame_as_the_input_image():
    frames = clip()
    assert failed(sharpness_checks(frames, reference_image=frames[0])) == []


@pytest.mark.parametrize("name", CLIPS)
def test_a_few_blurred_frames_fail_and_are_named(name):
    frames = clip(name)
    frames[10:13] = blurred(frames[10:13], 2.5)
    check = by_metric(sharpness_checks(frames))["blur"]
    assert not check.passed
    assert "frames 10-12" in check.reason


@pytest.mark.parametrize("name", ["sam2_01_dog.mp4", "intel_bottle-detection.mp4"])
def test_a_clip_blurred_throughout_fails_by_its_level_and_against_the_input_image(name):
    frames = clip(name)
    damaged = blurred(frames, 2.5)
    alone = by_metric(sharpness_checks(damaged))
    assert alone["blur"].passed and not alone["blur_level"].passed  # no good frame to compare with
    against = by_metric(sharpness_checks(damaged, reference_image=frames[0]))
    assert not against["blur_reference"].passed and "blurrier than the input image from its first frames" in against["blur_reference"].reason
    assert by_metric(sharpness_checks(frames, reference_image=frames[0]))["blur_reference"].passed


@pytest.mark.parametrize("name", CLIPS)
def test_jpeg_quality_5_fails_as_blocking(name):
    frames = clip(name)
    some = frames.copy()
    some[5:8] = jpeg(some[5:8], 5)
    check = by_metric(sharpness_checks(some))["blur_blocking"]
    assert not check.passed and "frames 5-7" in check.reason
    assert failed(sharpness_checks(jpeg(frames, 5))) == ["blur_blocking"]


@pytest.mark.parametrize("name", CLIPS)
def test_noise_fails_in_a_few_frames_and_throughout(name):
    frames = clip(name)
    some = frames.copy()
    some[20:] = noisy(some[20:], 10)
    check = by_metric(sharpness_checks(some))["blur_noise"]
    assert not check.passed and "frames 20-27" in check.reason
    assert failed(sharpness_checks(noisy(frames[:12], 8))) == ["blur_noise"]


def test_photos_read_as_clean():
    for name in ("skimage_chelsea.png", "skimage_coffee.png", "sam2_groceries.jpg"):
        grey = photo(name).mean(axis=2).astype(np.float32)
        assert sharpness(grey) > 0.4 and noise_level(grey) < 2 and blockiness(grey) < 2, name


def test_measures_respond_to_their_own_damage_only():
    frame = clip(n=1)
    grey = lambda f: f[0].mean(axis=2).astype(np.float32)  # noqa: E731
    clean = grey(frame)
    assert sharpness(grey(blurred(frame, 3))) < 0.6 * sharpness(clean)
    assert noise_level(grey(noisy(frame, 10))) > noise_level(clean) + 4
    assert blockiness(grey(jpeg(frame, 5))) > 2 * blockiness(clean)


def test_bad_input_is_refused_and_an_empty_clip_passes():
    with pytest.raises(ValueError):
        sharpness_checks(np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(ValueError):
        sharpness_checks(np.zeros((2, 32, 32, 3), np.uint8), reference_image=np.zeros((32, 32), np.uint8))
    assert failed(sharpness_checks(np.zeros((0, 32, 32, 3), np.uint8))) == []


def test_flat_frames_have_no_sharpness_to_judge():
    still = np.full((6, 32, 32, 3), 120, np.uint8)
    assert failed(sharpness_checks(still)) == []
    frames = clip()
    frames[4] = 90  # a flat frame (a fade, a lens cap) is the black or frozen checks' business
    assert failed(sharpness_checks(frames)) == []
