import numpy as np
import pytest

from clipmill.qa.deflicker import deflicker
from clipmill.qa.temporal import flicker_score
from tests.qa.synthetic import edge_strength, moving_square, psnr, real_clip, textured_clip, with_brightness_flicker


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


def _jitter(clean: np.ndarray, *, colour=0.0, gamma=0.0, seed=3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = []
    for frame in clean:
        g = np.exp(rng.normal(0, gamma))
        c = np.exp(rng.normal(0, colour, 3))
        toned = 255.0 * (frame / 255.0) ** g
        out.append(np.clip(toned * c + 0.5, 0, 255).astype(np.uint8))
    return np.stack(out)


def _colour_wobble(frames: np.ndarray, clean: np.ndarray) -> float:
    """How much each channel's mean error moves from frame to frame.

    Deflicker can restore the clip's steady colour, not an absolute one it never saw,
    so a constant offset (the jitter's average) is not counted.
    """
    error = frames.reshape(len(frames), -1, 3).mean(1) - clean.reshape(len(clean), -1, 3).mean(1)
    return float(np.abs(error - error.mean(0)).mean())


def test_per_channel_colour_jitter_is_removed():
    # Long enough that the kept trend (sigma 9 frames) cannot follow single frames.
    clean = textured_clip(48, 96, 160, dx=2, dy=1)
    jittered = _jitter(clean, colour=0.05)
    fixed = deflicker(jittered)
    assert _colour_wobble(fixed, clean) < 0.3 * _colour_wobble(jittered, clean)
    assert psnr(fixed, clean) > psnr(jittered, clean) + 6


def test_gamma_jitter_is_removed():
    clean = textured_clip(24, 96, 160)
    jittered = _jitter(clean, gamma=0.08)
    assert psnr(deflicker(jittered), clean) > psnr(jittered, clean) + 6


def test_moving_sharp_edge_is_not_smeared():
    clean = moving_square()
    rng = np.random.default_rng(5)
    gains = np.exp(rng.normal(0, 0.06, len(clean)))[:, None, None, None]
    flickering = np.clip(clean * gains + 0.5, 0, 255).astype(np.uint8)
    fixed = deflicker(flickering)
    # A temporal blend would leave ghost edges behind the square and soften its own.
    assert edge_strength(fixed) > 0.95 * edge_strength(clean)
    assert psnr(fixed, clean) > psnr(flickering, clean) + 6
    ghost_zone = (slice(24, 48), slice(0, 8))  # left of where the square ever is
    assert np.abs(fixed[:, ghost_zone[0], ghost_zone[1]].astype(int) - clean[:, ghost_zone[0], ghost_zone[1]]).max() <= 4


def test_flicker_on_both_sides_of_a_cut_does_not_leak_across():
    bright, dark = textured_clip(12, 64, 96, seed=0), textured_clip(12, 64, 96, seed=7) // 2
    clean = np.concatenate([bright, dark])
    flickering = with_brightness_flicker(clean, patch_jitter=0.0, global_jitter=0.06, seed=4)
    fixed = deflicker(flickering)
    # The dark shot keeps its own level (up to its own jitter's average, ~2%):
    # smoothing across the cut would pull it halfway to the bright shot.
    assert abs(fixed[12:15].mean() - clean[12:15].mean()) < 0.08 * clean[12:15].mean()
    assert psnr(fixed, clean) > psnr(flickering, clean) + 3


def _bands(clean: np.ndarray, amplitude=0.12, period=40.0, roll=9.0, seed=2) -> np.ndarray:
    """Horizontal bands of light rolling down the frame, their strength jittering."""
    rng = np.random.default_rng(seed)
    ys = np.arange(clean.shape[1], dtype=np.float32)[:, None, None]
    out = []
    for t, frame in enumerate(clean):
        a = amplitude * (1 + 0.5 * rng.normal())
        gain = np.exp(a * np.sin(2 * np.pi * (ys + roll * t) / period))
        out.append(np.clip(frame * gain + 0.5, 0, 255).astype(np.uint8))
    return np.stack(out)


def test_rolling_bands_are_removed():
    # Bands move; the picture does not. A flow that followed the bands would never see them.
    clean = np.repeat(textured_clip(1, 96, 160), 32, axis=0)
    banded = _bands(clean)
    assert psnr(deflicker(banded), clean) > psnr(banded, clean) + 6


def test_clean_clip_is_left_exactly_as_it_was():
    # No flicker: the measured noise explains all the apparent flicker, so nothing is corrected.
    clip = textured_clip(32, 96, 160)
    out = deflicker(clip)
    identical = sum(np.array_equal(a, b) for a, b in zip(out, clip))
    assert identical >= 0.8 * len(clip) and psnr(out, clip) >= 50


def test_clean_real_footage_passes_through_above_50_db():
    clip = real_clip(n=40, size=(416, 240), start=60)
    assert psnr(deflicker(clip), clip) >= 50


def test_correction_scales_with_the_flicker_present():
    # Weak flicker is corrected too (it stands above the measurement noise), and the
    # result is about as close to the clean clip as for strong flicker.
    clean = textured_clip(32, 96, 160, dx=2, dy=1)
    for jitter in (0.02, 0.1):
        flickering = with_brightness_flicker(clean, global_jitter=jitter, patch_jitter=0.0, seed=9)
        assert psnr(deflicker(flickering), clean) > psnr(flickering, clean) + 6
