import cv2
import numpy as np
import pytest

from clipmill.qa.temporal import (
    black_frame_mask,
    flicker_score,
    frozen_frame_mask,
    motion_score,
    temporal_checks,
)
from tests.qa.synthetic import real_clip, textured_clip, with_brightness_flicker

THRESHOLDS = dict(max_black_fraction=0.1, max_frozen_fraction=0.1, max_flicker=1.0, min_motion=0.5)


def by_metric(checks):
    return {c.metric: c for c in checks}


def test_black_frames_are_found_by_mean_luma():
    clip = textured_clip(6, 48, 64)
    clip[2] = 10
    clip[4] = 0
    assert black_frame_mask(clip).tolist() == [False, False, True, False, True, False]


def test_frozen_frame_is_the_repeat_not_the_original():
    clip = textured_clip(6, 48, 64)
    clip[3] = clip[2]
    assert frozen_frame_mask(clip).tolist() == [False, False, False, True, False, False]


def test_flicker_is_zero_for_steady_light_and_a_linear_fade():
    clip = textured_clip(20, 48, 64)
    fade = np.stack([np.clip(f * (1 - 0.02 * t), 0, 255).astype(np.uint8) for t, f in enumerate(clip)])
    assert flicker_score(clip) < 0.1
    assert flicker_score(fade) < 0.2


def test_flicker_grows_with_brightness_jitter():
    clip = textured_clip(20, 48, 64)
    mild = with_brightness_flicker(clip, global_jitter=0.02, patch_jitter=0.0)
    strong = with_brightness_flicker(clip, global_jitter=0.08, patch_jitter=0.0)
    assert 0.5 < flicker_score(mild) < flicker_score(strong)


def test_flicker_ignores_an_object_moving_under_constant_light():
    background = textured_clip(1, 64, 96)[0]
    frames = []
    for t in range(16):
        frame = background.copy()
        frame[10:40, 4 + 5 * t: 34 + 5 * t] = 250  # a bright square crossing the frame
        frames.append(frame)
    clip = np.stack(frames)
    assert motion_score(clip) > 1.0
    assert flicker_score(clip) < 0.1


def test_motion_score_is_mean_frame_difference_in_levels():
    clip = np.zeros((3, 8, 8, 3), np.uint8)
    clip[1] = 10
    clip[2] = 30
    assert motion_score(clip) == pytest.approx(15.0, abs=0.1)  # (10 + 20) / 2
    assert motion_score(clip[:1]) == 0.0


def test_checks_pass_on_a_healthy_clip():
    checks = temporal_checks(textured_clip(12, 48, 64), **THRESHOLDS)
    assert [c.metric for c in checks] == ["black_fraction", "frozen_fraction", "flicker", "motion"]
    assert all(c.passed and c.stage == "temporal" for c in checks), [c.reason for c in checks]


def test_black_check_reason_counts_frames():
    clip = textured_clip(17, 48, 64)
    clip[3:15] = 0
    check = by_metric(temporal_checks(clip, **THRESHOLDS))["black_fraction"]
    assert not check.passed
    assert check.reason.startswith("12 of 17 frames are black (71% > 10%)")
    assert "first black frame is 3" in check.reason


def test_frozen_check_names_the_first_frozen_run():
    clip = textured_clip(17, 48, 64)
    clip[9:14] = clip[8]
    check = by_metric(temporal_checks(clip, **THRESHOLDS))["frozen_fraction"]
    assert not check.passed
    assert "5 of 17 frames are frozen" in check.reason
    assert "first frozen run starts at frame 9" in check.reason


def test_flicker_and_motion_checks_fail_with_reasons():
    flickering = with_brightness_flicker(textured_clip(16, 48, 64), patch_jitter=0.0)
    flicker = by_metric(temporal_checks(flickering, **THRESHOLDS))["flicker"]
    assert not flicker.passed and "brightness flicker" in flicker.reason

    still = np.repeat(textured_clip(1, 48, 64), 8, axis=0)
    motion = by_metric(temporal_checks(still, **THRESHOLDS))["motion"]
    assert not motion.passed and "barely moves" in motion.reason


@pytest.mark.parametrize("n", [1, 2])
def test_very_short_clips_give_finite_values(n):
    checks = temporal_checks(textured_clip(n, 48, 64), **THRESHOLDS)
    assert all(np.isfinite(c.value) for c in checks)
    assert by_metric(checks)["flicker"].passed


def test_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="F, H, W, 3"):
        black_frame_mask(np.zeros((4, 8, 8), np.uint8))


def test_real_footage_reads_as_steady_and_moving():
    clip = real_clip(n=24, size=(160, 90))
    checks = by_metric(temporal_checks(clip, **THRESHOLDS))
    assert checks["flicker"].passed, checks["flicker"].reason
    assert checks["black_fraction"].passed


def test_flicker_reason_points_at_the_flash():
    clip = textured_clip(12, 48, 64)
    clip[7] = np.clip(clip[7].astype(int) + 30, 0, 255).astype(np.uint8)
    check = by_metric(temporal_checks(clip, **THRESHOLDS))["flicker"]
    assert not check.passed
    assert "largest jump at frame 7" in check.reason


def test_stillness_is_fine_when_no_action_is_asked_for():
    still = np.repeat(textured_clip(1, 48, 64), 8, axis=0)
    motion = by_metric(temporal_checks(still, **THRESHOLDS, expects_motion=False))["motion"]
    assert motion.passed and motion.threshold is None and motion.value == 0.0
    assert motion.reason.startswith("no action asked for, so stillness is fine")


def test_camera_path_follows_a_pan_and_steps_over_a_cut():
    from clipmill.qa.temporal import camera_path

    rng = np.random.default_rng(3)
    scene = cv2.GaussianBlur(rng.integers(0, 255, (240, 1200, 3), dtype=np.uint8), (0, 0), 2)
    # the camera pans right 12 px a frame over a wide scene: the picture moves left
    frames = np.stack([scene[:, 12 * t:12 * t + 320] for t in range(20)])
    path = camera_path(frames, list(range(0, 20, 2)))
    assert path[0] == (0.0, 0.0)
    assert path[18][0] == pytest.approx(-216, abs=4) and abs(path[18][1]) < 2
    # a cut to an unrelated picture moves the path by nothing
    cut = frames.copy()
    cut[10:] = cv2.GaussianBlur(rng.integers(0, 255, (10, 240, 320, 3), dtype=np.uint8).reshape(-1, 320, 3),
                                (0, 0), 2).reshape(10, 240, 320, 3)
    across = camera_path(cut, [8, 10])
    assert abs(across[10][0]) < 2 and abs(across[10][1]) < 2


def test_camera_path_takes_a_jump_within_the_same_footage_for_a_cut():
    from clipmill.qa.temporal import camera_path

    rng = np.random.default_rng(5)
    scene = cv2.GaussianBlur(rng.integers(0, 255, (240, 1200, 3), dtype=np.uint8), (0, 0), 2)
    # the same scene, 200 px (62% of the frame) farther along from frame 10: a jump, not a pan
    frames = np.stack([scene[:, :320]] * 10 + [scene[:, 200:520]] * 10)
    path = camera_path(frames, list(range(0, 20, 2)))
    assert abs(path[18][0]) < 2
