import numpy as np
import pytest

from qa.deflicker import deflicker
from qa.temporal import flicker_score
from tests.qa.synthetic import psnr, real_clip, textured_clip, with_brightness_flicker


def test_strength_zero_returns_the_input():
    clip = with_brightness_flicker(textured_clip(8, 48, 64))
    out = deflicker(clip, strength=0)
    assert out.shape == clip.shape and out.dtype == np.uint8
    assert np.array_equal(out, clip)


def test_clean_moving_clip_is_left_alone():
    clip = textured_clip(24, 96, 160)
    assert psnr(deflicker(clip), clip) >= 40


def test_clean_real_footage_is_left_alone():
    clip = real_clip(n=30, size=(320, 180))
    assert psnr(deflicker(clip), clip) >= 40


def test_linear_fade_passes_through():
    clip = textured_clip(24, 64, 96)
    fade = np.stack([np.clip(f * (1 - 0.015 * t), 0, 255).astype(np.uint8) for t, f in enumerate(clip)])
    assert psnr(deflicker(fade), fade) >= 40


def test_scene_cut_is_not_smoothed_across():
    cut = np.concatenate([textured_clip(10, 64, 96, seed=0), textured_clip(10, 64, 96, seed=7) // 2])
    assert psnr(deflicker(cut), cut) >= 40


@pytest.mark.parametrize("source", ["synthetic", "real"])
def test_global_and_local_flicker_is_removed(source):
    clean = textured_clip(24, 96, 160) if source == "synthetic" else real_clip(n=30, size=(320, 180))
    flickering = with_brightness_flicker(clean)
    fixed = deflicker(flickering)
    assert flicker_score(fixed) < 0.25 * flicker_score(flickering)
    assert psnr(fixed, clean) > psnr(flickering, clean) + 6


def test_local_patch_flicker_alone_is_reduced():
    clean = textured_clip(24, 96, 160)
    flickering = with_brightness_flicker(clean, global_jitter=0.0, patch_jitter=0.2)
    assert psnr(deflicker(flickering), clean) > psnr(flickering, clean) + 3


def test_half_strength_corrects_less_than_full():
    clean = textured_clip(16, 64, 96)
    flickering = with_brightness_flicker(clean, patch_jitter=0.0)
    half, full = flicker_score(deflicker(flickering, strength=0.5)), flicker_score(deflicker(flickering))
    assert full < half < flicker_score(flickering)
