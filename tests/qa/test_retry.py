import pytest

from qa.retry import MAX_GUIDANCE, AttemptParams, next_seed, plan_retry
from qa.types import Check, Verdict

PARAMS = AttemptParams(seed=42, guidance=5.0, segments=2, deflicker_strength=0.5, steps=40)


def failing(stage, metric, reason="failed"):
    return Check(stage, metric, 1.0, 0.0, False, reason)


def verdict(*checks):
    return Verdict(checks=tuple(checks))


def plan(v, params=PARAMS, attempt=1, max_attempts=3, max_segments=None):
    return plan_retry(params, v, attempt_number=attempt, max_attempts=max_attempts, max_segments=max_segments)


def test_passed_verdict_is_accepted():
    d = plan(verdict(Check("temporal", "flicker", 0.1, 1.0, True, "fine")))
    assert (d.retry, d.params, d.reason, d.changes) == (False, None, "accepted", {})


def test_spent_budget_stops_and_lists_failures():
    d = plan(verdict(failing("interaction", "vanish:dog", "dog vanished at frame 37")), attempt=3)
    assert not d.retry and d.params is None
    assert d.reason == "attempt budget of 3 spent; last failures: dog vanished at frame 37"


@pytest.mark.parametrize("metric", ["black_fraction", "frozen_fraction", "motion"])
def test_black_frozen_or_still_clips_only_change_the_seed(metric):
    d = plan(verdict(failing("temporal", metric, f"{metric} bad")))
    assert d.retry and set(d.changes) == {"seed"}
    assert d.params == AttemptParams(d.params.seed, 5.0, 2, 0.5, 40)
    assert d.params.seed != PARAMS.seed
    assert f"because {metric} bad" in d.reason


def test_seed_is_deterministic_distinct_and_in_range():
    seeds = {next_seed(42, attempt) for attempt in range(1, 6)}
    assert len(seeds) == 5 and 42 not in seeds
    assert next_seed(42, 1) == next_seed(42, 1)
    assert all(0 <= s < 2**32 for s in seeds | {next_seed(2**32 - 1, 9)})


@pytest.mark.parametrize("metric", ["presence:dog", "vanish:dog", "count:person", "interaction:approach"])
def test_subject_and_interaction_failures_raise_guidance(metric):
    d = plan(verdict(failing("interaction", metric, "dog vanished at frame 37")))
    assert d.params.guidance == pytest.approx(6.0)
    assert d.changes["guidance"] == {"from": 5.0, "to": 6.0, "why": "dog vanished at frame 37"}
    assert "guidance 5.0 -> 6.0" in d.reason


def test_guidance_stops_at_its_cap():
    capped = AttemptParams(1, MAX_GUIDANCE, 2, 0.5, 40)
    d = plan(verdict(failing("interaction", "presence:dog")), params=capped)
    assert d.retry and "guidance" not in d.changes and "guidance already at its cap" in d.reason
    nearly = AttemptParams(1, 7.5, 2, 0.5, 40)
    assert plan(verdict(failing("interaction", "presence:dog")), params=nearly).params.guidance == MAX_GUIDANCE


def test_flicker_strengthens_deflicker_up_to_full():
    d = plan(verdict(failing("temporal", "flicker")))
    assert d.params.deflicker_strength == 0.75 and "deflicker_strength" in d.changes
    off = AttemptParams(1, 5.0, 2, 0.0, 40)
    assert plan(verdict(failing("temporal", "flicker")), params=off).params.deflicker_strength == 0.5
    full = AttemptParams(1, 5.0, 2, 1.0, 40)
    d = plan(verdict(failing("temporal", "flicker")), params=full)
    assert "deflicker_strength" not in d.changes and "already at full strength" in d.reason


def test_seam_failure_adds_a_segment_within_bounds():
    d = plan(verdict(failing("seam", "seam_ratio", "seam at frame 48 is visible")), max_segments=3)
    assert d.params.segments == 3 and d.changes["segments"]["why"] == "seam at frame 48 is visible"
    d = plan(verdict(failing("seam", "seam_ratio")), params=AttemptParams(1, 5.0, 3, 0.5, 40), max_segments=3)
    assert d.params.segments == 3 and "already at the most segments allowed (3)" in d.reason


def test_several_failures_combine_their_changes():
    d = plan(verdict(failing("temporal", "flicker"), failing("seam", "seam_ratio"), failing("interaction", "vanish:dog")))
    assert set(d.changes) == {"seed", "guidance", "deflicker_strength", "segments"}
    assert d.reason.startswith("retry 2 of 3 with seed 42 -> ")


def test_gate_failure_is_treated_as_weak_prompt_adherence():
    d = plan(verdict(failing("gate", "clip_cosine")))
    assert "guidance" in d.changes
