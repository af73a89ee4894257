import numpy as np
import pytest

from clipmill.qa.consistency import (
    consecutive_similarity,
    sample_indices,
    similarity_to_first,
    subject_drift_check,
    text_video_check,
    unit_rows,
)


def drifting(n=5, dim=8, turn=np.pi / 2):
    """Unit vectors rotating from axis 0 towards axis 1 by `turn` radians over the clip."""
    angles = np.linspace(0, turn, n)
    rows = np.zeros((n, dim))
    rows[:, 0], rows[:, 1] = np.cos(angles), np.sin(angles)
    return rows


def test_similarities_are_cosines_of_unit_rows():
    rows = drifting(3) * np.array([[2.0], [5.0], [0.5]])  # lengths must not matter
    assert similarity_to_first(rows) == pytest.approx([1.0, np.cos(np.pi / 4), 0.0], abs=1e-9)
    assert consecutive_similarity(rows) == pytest.approx([np.cos(np.pi / 4)] * 2, abs=1e-9)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((0, 4)), "shaped"), (np.zeros(4), "shaped"), (np.array([[1.0, np.nan]]), "not finite"),
    (np.array([[1.0, 0.0], [0.0, 0.0]]), "all-zero"),
])
def test_bad_embeddings_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        unit_rows(bad)


def test_steady_subject_passes_and_reports_the_least_similar_frame():
    rows = drifting(4, turn=0.2)
    c = subject_drift_check(rows, [0, 10, 20, 30], min_similarity=0.9)
    assert (c.stage, c.metric, c.passed) == ("consistency", "subject_similarity", True)
    assert c.value == pytest.approx(np.cos(0.2))
    assert c.reason.startswith("subject stays consistent: frame 30 looks least like frame 0")


def test_slow_drift_fails_although_every_step_is_small():
    rows = drifting(9, turn=np.pi / 2)  # each step only 11 degrees, end to end 90
    assert consecutive_similarity(rows).min() > 0.98
    c = subject_drift_check(rows, list(range(0, 90, 10)), min_similarity=0.7)
    assert not c.passed and c.value == pytest.approx(0.0, abs=1e-9)
    assert c.reason.startswith("subject drifts: frame 80 looks least like frame 0 (CLIP image cosine 0.000)")
    assert c.reason.endswith("(< 0.700)")


def test_sudden_change_is_named_by_the_largest_step():
    rows = drifting(4, turn=0.1)
    rows[2:] = drifting(2, turn=0.1) @ np.roll(np.eye(8), 3, axis=1)  # a different subject from frame 20 on
    c = subject_drift_check(rows, [0, 10, 20, 30], min_similarity=0.5)
    assert not c.passed and "largest step between sampled frames 10 -> 20 (cosine 0.000)" in c.reason


def test_drift_without_threshold_is_informational():
    c = subject_drift_check(drifting(3), [0, 5, 10], None)
    assert c.passed and c.threshold is None and c.reason.startswith("subject drift not judged")
    single = subject_drift_check(drifting(1), [0], 0.9)
    assert single.passed and "one sampled frame" in single.reason
    with pytest.raises(ValueError, match="3 embeddings but 2 frame indices"):
        subject_drift_check(drifting(3), [0, 1], 0.5)


def test_text_video_is_the_mean_cosine_with_pass_and_fail_reasons():
    images = drifting(3, turn=np.pi / 2)  # cosines with axis 0: 1, 0.707, 0
    text = np.eye(8)[0] * 3
    c = text_video_check(images, text, [0, 8, 16], 0.5, model_name="ViT-B-32")
    assert c.value == pytest.approx((1 + np.cos(np.pi / 4)) / 3)
    assert c.passed and c.reason.startswith("clip matches the prompt: mean ViT-B-32 cosine between the prompt and 3")
    assert "weakest frame 16 (0.000)" in c.reason
    c = text_video_check(images, text, [0, 8, 16], 0.6)
    assert not c.passed and c.reason.startswith("clip does not match the prompt") and c.reason.endswith("(< 0.600)")
    c = text_video_check(images, text, [0, 8, 16], None)
    assert c.passed and c.threshold is None and c.reason.startswith("text-video match not judged")
    with pytest.raises(ValueError, match="dimensions"):
        text_video_check(images, np.ones(4), [0, 8, 16], None)


def test_sample_indices_spread_from_first_to_last():
    assert sample_indices(17, 4) == [0, 5, 11, 16]
    assert sample_indices(3, 8) == [0, 1, 2]
    with pytest.raises(ValueError):
        sample_indices(0, 4)
