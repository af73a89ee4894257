import pytest

from clipmill.qa.retry import MAX_GUIDANCE, AttemptParams, fresh_seed, next_seed, plan_retry
from clipmill.qa.types import Check, CheckKind, Verdict

PARAMS = AttemptParams(seed=42, guidance=5.0, segments=2, deflicker_strength=0.5, steps=40)


def failing(stage, kind, reason="failed", subject=None):
    return Check(stage, kind, 1.0, 0.0, False, reason, subject=subject)


def verdict(*checks):
    return Verdict(checks=tuple(checks))


def plan(v, params=PARAMS, attempt=1, max_attempts=3, valid_segments=None, repaired=False):
    return plan_retry(params, v, attempt_number=attempt, max_attempts=max_attempts, valid_segments=valid_segments,
                      repaired=repaired)


def test_passed_verdict_is_accepted():
    d = plan(verdict(Check("temporal", "flicker", 0.1, 1.0, True, "fine")))
    assert (d.action, d.retry, d.params, d.reason, d.changes) == ("accept", False, None, "accepted", {})


def test_spent_budget_stops_and_lists_failures():
    d = plan(verdict(failing("interaction", CheckKind.VANISH, "dog vanished at frame 37", "dog")), attempt=3)
    assert d.action == "stop" and not d.retry and d.params is None
    assert d.reason == "attempt budget of 3 spent; last failures: dog vanished at frame 37"


@pytest.mark.parametrize("metric", ["black_fraction", "frozen_fraction", "motion"])
def test_black_frozen_or_still_clips_only_change_the_seed(metric):
    d = plan(verdict(failing("temporal", metric, f"{metric} bad")))
    assert d.action == "regenerate" and d.retry and set(d.changes) == {"seed"}
    assert d.params == AttemptParams(d.params.seed, 5.0, 2, 0.5, 40)
    assert d.params.seed != PARAMS.seed
    assert f"because {metric} bad" in d.reason


def test_seed_is_deterministic_distinct_and_in_range():
    seeds = {next_seed(42, attempt) for attempt in range(1, 6)}
    assert len(seeds) == 5 and 42 not in seeds
    assert next_seed(42, 1) == next_seed(42, 1)
    assert all(0 <= s < 2**32 for s in seeds | {next_seed(2**32 - 1, 9)})


@pytest.mark.parametrize("kind, subject", [(CheckKind.PRESENCE, "dog"), (CheckKind.VANISH, "dog"),
                                           (CheckKind.COUNT, "person"), (CheckKind.INTERACTION, "approach")])
def test_subject_and_interaction_failures_raise_guidance(kind, subject):
    d = plan(verdict(failing("interaction", kind, "dog vanished at frame 37", subject)))
    assert d.action == "regenerate" and d.params.seed != PARAMS.seed
    assert d.params.guidance == pytest.approx(6.0)
    assert d.changes["guidance"] == {"from": 5.0, "to": 6.0, "why": "dog vanished at frame 37"}
    assert "guidance 5.0 -> 6.0" in d.reason


def test_guidance_stops_at_its_cap():
    capped = AttemptParams(1, MAX_GUIDANCE, 2, 0.5, 40)
    d = plan(verdict(failing("interaction", CheckKind.PRESENCE, "failed", "dog")), params=capped)
    assert d.retry and "guidance" not in d.changes and "guidance already at its cap" in d.reason
    nearly = AttemptParams(1, 7.5, 2, 0.5, 40)
    assert plan(verdict(failing("interaction", CheckKind.PRESENCE, "failed", "dog")), params=nearly).params.guidance == MAX_GUIDANCE


def test_a_distilled_profile_keeps_guidance_off_on_a_retry():
    # guidance 1.0: no unconditional pass; raising it would double the passes of a 4-step profile
    distilled = AttemptParams(1, 1.0, 1, 0.5, 4)
    d = plan(verdict(failing("interaction", CheckKind.COUNT, "person count is 3", "person")), params=distilled)
    assert d.action == "regenerate" and set(d.changes) == {"seed"} and d.params.guidance == 1.0
    assert "guidance 1 kept: classifier-free guidance is off" in d.reason


def test_flicker_alone_is_repaired_on_the_same_frames_first():
    d = plan(verdict(failing("temporal", "flicker", "brightness flicker 9.00 luma levels (> 6.00)")))
    assert d.action == "repair" and d.retry
    # Same sample: only the deflicker strength moves.
    assert d.params == AttemptParams(42, 5.0, 2, 0.75, 40)
    assert d.changes == {"deflicker_strength": {"from": 0.5, "to": 0.75,
                                                "why": "brightness flicker 9.00 luma levels (> 6.00)"}}
    assert d.reason.startswith("repair attempt 1: deflicker the same frames again, strength 0.5 -> 0.75")
    off = AttemptParams(1, 5.0, 2, 0.0, 40)
    assert plan(verdict(failing("temporal", "flicker")), params=off).params.deflicker_strength == 0.5


def test_repair_is_offered_even_when_the_generation_budget_is_spent():
    d = plan(verdict(failing("temporal", "flicker")), attempt=3, max_attempts=3)
    assert d.action == "repair" and d.params.deflicker_strength == 0.75


def test_flicker_that_a_repair_did_not_fix_regenerates_keeping_the_strength():
    repaired = AttemptParams(42, 5.0, 2, 0.75, 40)
    d = plan(verdict(failing("temporal", "flicker", "flicker persists")), params=repaired, repaired=True)
    assert d.action == "regenerate" and d.params.seed != 42
    assert d.params.deflicker_strength == 1.0 and d.changes["deflicker_strength"]["why"] == "flicker persists"
    at_full = AttemptParams(42, 5.0, 2, 1.0, 40)
    d = plan(verdict(failing("temporal", "flicker")), params=at_full, repaired=True)
    assert d.action == "regenerate" and "deflicker_strength" not in d.changes
    assert "a repair at deflicker strength 1 did not remove the flicker" in d.reason


def test_flicker_at_full_strength_regenerates_without_a_repair():
    full = AttemptParams(1, 5.0, 2, 1.0, 40)
    d = plan(verdict(failing("temporal", "flicker")), params=full)
    assert d.action == "regenerate" and set(d.changes) == {"seed"}
    assert "already at full strength" in d.reason
    assert plan(verdict(failing("temporal", "flicker")), params=full, attempt=3).action == "stop"


def test_flicker_with_another_failure_regenerates_with_stronger_deflicker():
    d = plan(verdict(failing("temporal", "flicker"), failing("interaction", CheckKind.VANISH, "dog vanished at frame 37", "dog")))
    assert d.action == "regenerate"
    assert set(d.changes) == {"seed", "guidance", "deflicker_strength"}
    assert d.params.deflicker_strength == 0.75


def test_seam_failure_adds_a_segment_within_bounds():
    d = plan(verdict(failing("seam", "seam_ratio", "seam at frame 48 is visible")), valid_segments=[1, 2, 3])
    assert d.action == "regenerate" and d.params.segments == 3 and d.params.seed != PARAMS.seed and d.changes["segments"]["why"] == "seam at frame 48 is visible"
    d = plan(verdict(failing("seam", "seam_ratio")), params=AttemptParams(1, 5.0, 3, 0.5, 40), valid_segments=[1, 2, 3])
    assert d.params.segments == 3 and "already at the most segments allowed (3)" in d.reason


def test_seam_failure_skips_segment_counts_the_frames_do_not_allow():
    # 17 frames split into 1, 2 or 4 windows of 4k+1 frames, never 3: the decision says 2 -> 4
    # and the next attempt's parameters carry 4 (the recorded change is the applied one).
    d = plan(verdict(failing("seam", "seam_ratio", "seam at frame 8 is visible")), valid_segments=[1, 2, 4])
    assert d.params.segments == 4
    assert d.changes["segments"] == {"from": 2, "to": 4, "why": "seam at frame 8 is visible"}
    assert "segments 2 -> 4" in d.reason


def test_a_retry_never_draws_a_seed_already_tried():
    first = next_seed(PARAMS.seed, 1)
    d = plan_retry(PARAMS, verdict(failing("temporal", "motion")), attempt_number=1, max_attempts=3,
                   tried_seeds={first})
    assert d.params.seed not in {PARAMS.seed, first}
    assert fresh_seed(PARAMS.seed, {first}) == d.params.seed


def test_several_failures_combine_their_changes():
    d = plan(verdict(failing("temporal", "flicker"), failing("seam", "seam_ratio"), failing("interaction", CheckKind.VANISH, "failed", "dog")))
    assert d.action == "regenerate" and set(d.changes) == {"seed", "guidance", "deflicker_strength", "segments"}
    assert d.reason.startswith("retry 2 of 3 with seed 42 -> ")


def test_gate_failure_is_treated_as_weak_prompt_adherence():
    d = plan(verdict(failing("gate", "clip_cosine")))
    assert d.action == "regenerate" and "guidance" in d.changes


def test_a_ruled_out_class_in_view_raises_guidance():
    d = plan(verdict(failing("interaction", CheckKind.FORBIDDEN, "failed", "person")))
    assert d.action == "regenerate" and "guidance" in d.changes


def test_every_decision_is_recorded_with_a_reason():
    for v in (verdict(), verdict(failing("temporal", "flicker")), verdict(failing("temporal", "motion"))):
        d = plan(v)
        assert d.reason and d.action in ("accept", "repair", "regenerate", "stop")
        assert d.retry == (d.action in ("repair", "regenerate"))


def test_a_resumed_job_starts_where_it_left_off_with_a_new_seed():
    from dataclasses import asdict

    from clipmill.qa.retry import resume_params

    assert resume_params(PARAMS, None, set()) == PARAMS
    last = AttemptParams(seed=7, guidance=6.0, segments=2, deflicker_strength=0.75, steps=40)
    resumed = resume_params(PARAMS, asdict(last), {42, 7})
    assert resumed.seed not in {42, 7}
    assert (resumed.guidance, resumed.segments, resumed.deflicker_strength) == (6.0, 2, 0.75)
