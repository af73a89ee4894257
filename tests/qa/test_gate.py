import pytest

from clipmill.qa.gate import clip_score, gate_check


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


def test_unset_threshold_takes_the_models_default():
    from clipmill.qa.gate import GATE_DEFAULTS

    c = gate_check(0.24, None, model_name="ViT-B-32")
    assert c.threshold == GATE_DEFAULTS["ViT-B-32"] == 0.25 and not c.passed
    assert gate_check(0.26, None, model_name="ViT-B-32").passed


def test_model_without_a_default_is_measured_but_not_gated():
    c = gate_check(-0.5, None, model_name="ViT-L-14")
    assert c.passed and c.threshold is None and c.value == -0.5
    assert "ViT-L-14 has no default gate threshold" in c.reason and "calibrate-gate" in c.reason


def test_suggested_threshold_sits_midway_in_the_gap_between_separable_groups():
    from clipmill.qa.gate import suggest_threshold

    threshold, stats = suggest_threshold([0.30, 0.33, 0.35], [0.12, 0.18, 0.22])
    assert threshold == pytest.approx(0.26)
    assert stats["balanced_accuracy"] == 1.0 and stats["youden_j"] == 1.0 and stats["auc"] == 1.0
    assert (stats["good"], stats["bad"]) == (3, 3)


def test_overlapping_groups_get_the_best_balanced_cut_not_the_majority_one():
    from clipmill.qa.gate import suggest_threshold

    good = [0.20, 0.27, 0.28, 0.29, 0.30, 0.31, 0.32, 0.33, 0.34, 0.35]
    bad = [0.10, 0.24, 0.275]
    threshold, stats = suggest_threshold(good, bad)
    # Above 0.275 only the good 0.20 and 0.27 are lost: TPR 0.8, TNR 1.0 -> 0.9, the best.
    assert threshold == pytest.approx((0.275 + 0.28) / 2)
    assert stats["true_positive_rate"] == pytest.approx(0.8) and stats["true_negative_rate"] == 1.0
    assert stats["balanced_accuracy"] == pytest.approx(0.9)


def test_tied_cut_offs_give_the_midpoint_of_the_tied_run():
    from clipmill.qa.gate import suggest_threshold

    # One score shared by both groups: passing all and rejecting all tie at J = 0.
    threshold, stats = suggest_threshold([0.3, 0.3], [0.3])
    assert stats["youden_j"] == pytest.approx(0.0)
    assert threshold == pytest.approx(0.3)


def test_separate_tied_cut_offs_take_the_lower_one():
    from clipmill.qa.gate import suggest_threshold

    # Cuts at 0.15 and 0.35 both reach 0.75; the one between them only 0.5, so no midpoint.
    threshold, stats = suggest_threshold([0.2, 0.4], [0.1, 0.3])
    assert threshold == pytest.approx(0.15) and stats["balanced_accuracy"] == pytest.approx(0.75)


@pytest.mark.parametrize("good, bad, message", [([], [0.1], "good_scores is empty"),
                                                ([0.3], [], "bad_scores is empty"),
                                                ([float("nan")], [0.1], "not a finite number")])
def test_suggest_threshold_refuses_unusable_input(good, bad, message):
    from clipmill.qa.gate import suggest_threshold

    with pytest.raises(ValueError, match=message):
        suggest_threshold(good, bad)
