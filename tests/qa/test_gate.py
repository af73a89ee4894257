import pytest

from qa.gate import clip_score, gate_check


def test_below_threshold_fails_with_score_threshold_and_model():
    c = gate_check(0.12, 0.25)
    assert (c.stage, c.metric, c.passed) == ("gate", "clip_cosine", False)
    assert c.reason == "image-text similarity 0.12 is below the gate threshold 0.25 (ViT-B-32)"


def test_at_or_above_threshold_passes():
    assert gate_check(0.25, 0.25).passed
    c = gate_check(0.31, 0.28, model_name="ViT-L-14")
    assert c.passed and c.value == pytest.approx(0.31) and "(ViT-L-14)" in c.reason


def test_clip_score_scales_and_clips_negative_cosines():
    assert clip_score(0.3) == pytest.approx(0.75)
    assert clip_score(-0.2) == 0.0
