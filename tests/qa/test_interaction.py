import pytest

from clipmill.qa.interaction import interaction_checks
from clipmill.qa.types import CheckKind, Detection, Expectations

FRAMES = list(range(0, 100, 4))  # 25 examined frames, stride 4


def box_at(x: float, y: float = 100, size: float = 40):
    return (x, y, x + size, y + size)


def dets(label: str, frames, x=100, track_id=None, size=40):
    """One detection of `label` per frame; `x` may be a function of the frame."""
    return [
        Detection(frame=f, label=label, confidence=0.9, box=box_at(x(f) if callable(x) else x, size=size), track_id=track_id)
        for f in frames
    ]


def check(checks, metric):
    matches = [c for c in checks if c.metric == metric]
    assert len(matches) == 1, [c.metric for c in checks]
    return matches[0]


def test_no_expected_classes_means_no_checks():
    assert interaction_checks(dets("dog", FRAMES), FRAMES, Expectations()) == []


def test_present_stable_subject_passes_everything():
    checks = interaction_checks(dets("dog", FRAMES), FRAMES, Expectations(classes={"dog": 1}))
    assert [c.metric for c in checks] == ["presence:dog", "count:dog", "vanish:dog"]
    assert [(c.kind, c.subject) for c in checks] == [(CheckKind.PRESENCE, "dog"), (CheckKind.COUNT, "dog"),
                                                     (CheckKind.VANISH, "dog")]
    assert all(c.passed and c.stage == "interaction" for c in checks)
    assert check(checks, "presence:dog").reason == "dog seen in 25 of 25 checked frames (100% >= 50%)"


def test_presence_fails_with_counts_in_the_reason():
    frames = FRAMES[:9]
    seen = dets("dog", [0, 16, 32])
    c = check(interaction_checks(seen, frames, Expectations(classes={"dog": 1})), "presence:dog")
    assert not c.passed
    assert c.reason == "dog seen in 3 of 9 checked frames (33% < 50%)"


def test_class_never_seen():
    c = check(interaction_checks([], FRAMES, Expectations(classes={"cat": 1})), "presence:cat")
    assert not c.passed and "cat never seen in 25 checked frames" in c.reason


def test_too_few_of_a_present_subject_is_a_wrong_count_not_a_missing_subject():
    # The second person is seen for 2 checked frames (8 clip frames): never together for longer than a blink.
    two = dets("person", FRAMES, x=0, track_id=1) + dets("person", FRAMES[3:5], x=200, track_id=2)
    checks = interaction_checks(two, FRAMES, Expectations(classes={"person": 2}))
    assert check(checks, "presence:person").passed
    c = check(checks, "count:person")
    assert not c.passed and c.reason.startswith("2 x person expected, but never all 2 together for more than 8 frames")
    # Seen together for a stretch, then lost behind each other: the count was there.
    both_for_a_while = dets("person", FRAMES, x=0, track_id=1) + dets("person", FRAMES[:10], x=200, track_id=2)
    assert check(interaction_checks(both_for_a_while, FRAMES, Expectations(classes={"person": 2})),
                 "count:person").passed


def test_count_fall_is_noted_with_frame_and_counts():
    people = [
        *dets("person", FRAMES, x=0),
        *dets("person", FRAMES, x=100),
        *dets("person", [f for f in FRAMES if f < 50], x=200),
    ]
    c = check(interaction_checks(people, FRAMES, Expectations(classes={"person": 3})), "count:person")
    assert c.passed  # a fall is the detector losing someone as often as not: noted, never failed
    assert c.reason.startswith("never more person than expected; fewer seen from frame 52 (3 to 2)")


def test_count_rise_above_expected_is_a_clone():
    dogs = dets("dog", FRAMES, track_id=1) + dets("dog", [f for f in FRAMES if f >= 40], x=300, track_id=2)
    c = check(interaction_checks(dogs, FRAMES, Expectations(classes={"dog": 1})), "count:dog")
    assert not c.passed and c.reason == "dog count rose from 1 to 2 at frame 40 (1 expected)"


def test_brief_detector_misses_are_forgiven():
    dogs = dets("dog", [f for f in FRAMES if f not in (40, 44)])  # absent 8 frames, limit 8
    checks = interaction_checks(dogs, FRAMES, Expectations(classes={"dog": 1}))
    assert check(checks, "count:dog").passed
    longer = dets("dog", [f for f in FRAMES if f not in (40, 44, 48)])  # absent 12 frames, then back
    c = check(interaction_checks(longer, FRAMES, Expectations(classes={"dog": 1})), "count:dog")
    assert c.passed and "dog unseen from frame 40 for 12 frames (back at frame 52)" in c.reason


def test_arrival_up_to_the_expected_count_is_not_a_change():
    people = dets("person", FRAMES, x=0) + dets("person", [f for f in FRAMES if f >= 40], x=200)
    assert check(interaction_checks(people, FRAMES, Expectations(classes={"person": 2})), "count:person").passed


def test_duplicate_boxes_of_one_track_count_once():
    dogs = dets("dog", FRAMES, track_id=7) + dets("dog", FRAMES, x=104, track_id=7)
    checks = interaction_checks(dogs, FRAMES, Expectations(classes={"dog": 1}))
    assert check(checks, "count:dog").passed


def test_vanishing_names_the_frame():
    dogs = dets("dog", [f for f in FRAMES if f < 37])
    checks = interaction_checks(dogs, FRAMES, Expectations(classes={"dog": 1}))
    c = check(checks, "vanish:dog")
    assert not c.passed and c.reason.startswith("dog vanished at frame 40 (last seen at frame 36, absent from the remaining 15 checked frames)")
    assert check(checks, "count:dog").passed  # the vanish check owns this failure


def test_short_absence_at_the_end_is_not_vanishing():
    dogs = dets("dog", FRAMES[:-2])  # gone for the last 2 examined frames = 8 clip frames
    assert check(interaction_checks(dogs, FRAMES, Expectations(classes={"dog": 1})), "vanish:dog").passed


def test_detection_outside_the_examined_frames_is_refused():
    with pytest.raises(ValueError, match="frame 3"):
        interaction_checks(dets("dog", [3]), FRAMES, Expectations(classes={"dog": 1}))


def pair_expectations(kind, *subjects):
    classes = {s: 1 for s in subjects}
    return Expectations(classes=classes, interaction=kind, subjects=subjects)


def test_approach_pass_and_fail():
    closing = dets("person", FRAMES, x=0) + dets("dog", FRAMES, x=lambda f: 400 - 3 * f)
    c = check(interaction_checks(closing, FRAMES, pair_expectations("approach", "person", "dog")), "interaction:approach")
    assert c.passed and c.reason.startswith("person and dog approach: distance shrinks from")

    apart = dets("person", FRAMES, x=0) + dets("dog", FRAMES, x=lambda f: 100 + 3 * f)
    c = check(interaction_checks(apart, FRAMES, pair_expectations("approach", "person", "dog")), "interaction:approach")
    assert not c.passed and "move apart" in c.reason


def test_approach_needs_both_subjects_early_and_late():
    late_only = dets("person", FRAMES, x=0) + dets("dog", [f for f in FRAMES if f > 50], x=100)
    c = check(interaction_checks(late_only, FRAMES, pair_expectations("approach", "person", "dog")), "interaction:approach")
    assert not c.passed and "never appear together in the first third" in c.reason


def test_contact_pass_names_first_touching_frame():
    touching = dets("person", FRAMES, x=0) + dets("dog", FRAMES, x=lambda f: 300 - 3 * f)
    c = check(interaction_checks(touching, FRAMES, pair_expectations("contact", "person", "dog")), "interaction:contact")
    # The dog's box (x = 300 - 3f) reaches the person's right edge (x = 40) at f >= 86.7.
    assert c.passed and c.reason == "person and dog touch at frame 88"


def test_contact_fail_reports_the_closest_gap():
    apart = dets("person", FRAMES, x=0) + dets("dog", FRAMES, x=200)
    c = check(interaction_checks(apart, FRAMES, pair_expectations("contact", "person", "dog")), "interaction:contact")
    assert not c.passed and "never touch: closest gap 2.83 box sizes at frame 0" in c.reason


def test_handover_pass_and_fail():
    people = dets("person", FRAMES, x=0) + dets("dog", FRAMES, x=400)
    handed = people + dets("frisbee", FRAMES, x=lambda f: 10 if f < 50 else 390)
    kept = people + dets("frisbee", FRAMES, x=10)
    exp = pair_expectations("handover", "person", "dog", "frisbee")
    c = check(interaction_checks(handed, FRAMES, exp), "interaction:handover")
    assert c.passed and c.reason.startswith("frisbee passes from person to dog: nearest person in 9 of 9 early frames")
    c = check(interaction_checks(kept, FRAMES, exp), "interaction:handover")
    assert not c.passed and "nearest dog in 0 of 9 late frames" in c.reason


def test_handover_between_two_people_uses_track_ids():
    people = dets("person", FRAMES, x=0, track_id=1) + dets("person", FRAMES, x=400, track_id=2)
    handed = people + dets("cup", FRAMES, x=lambda f: 10 if f < 50 else 390)
    exp = Expectations(classes={"person": 2}, interaction="handover", subjects=("person", "person", "cup"))
    c = check(interaction_checks(handed, FRAMES, exp), "interaction:handover")
    assert c.passed and "from person #1 to person #2" in c.reason

    anonymous = dets("person", FRAMES, x=0) + dets("person", FRAMES, x=400) + dets("cup", FRAMES, x=10)
    c = check(interaction_checks(anonymous, FRAMES, exp), "interaction:handover")
    assert c.threshold is None and c.passed and "needs track ids" in c.reason


def test_enter_passes_and_exempts_the_newcomer_from_presence():
    arriving = dets("person", FRAMES, x=0) + dets("dog", [f for f in FRAMES if f >= 60], x=300)
    checks = interaction_checks(arriving, FRAMES, pair_expectations("enter", "person", "dog"))
    c = check(checks, "interaction:enter")
    assert c.passed and c.reason.startswith("dog enters at frame 60")
    presence = check(checks, "presence:dog")
    assert presence.threshold is None and presence.passed


def test_enter_fails_when_everyone_is_there_from_the_start():
    both = dets("person", FRAMES, x=0) + dets("dog", FRAMES, x=300)
    c = check(interaction_checks(both, FRAMES, pair_expectations("enter", "person", "dog")), "interaction:enter")
    assert not c.passed and "dog is already in view in 4 of the 4 opening checked frames" in c.reason


def test_leave_passes_without_a_vanish_failure():
    leaving = dets("person", FRAMES, x=0) + dets("dog", [f for f in FRAMES if f < 40], x=300)
    checks = interaction_checks(leaving, FRAMES, pair_expectations("leave", "person", "dog"))
    c = check(checks, "interaction:leave")
    assert c.passed and c.reason.startswith("dog leaves by frame 40")
    assert all(c.passed for c in checks)


def test_leave_fails_when_nobody_leaves():
    staying = dets("person", FRAMES, x=0) + dets("dog", FRAMES, x=300)
    c = check(interaction_checks(staying, FRAMES, pair_expectations("leave", "person", "dog")), "interaction:leave")
    assert not c.passed and "dog is still in view in 4 of the 4 closing checked frames" in c.reason


def test_leaving_in_the_closing_frames_through_a_side_is_leaving():
    # Stands mid-frame, then crosses to the right side and out in the clip's last frames: still in
    # view (on the way out) in some closing frames, but the track ends going out through the side.
    x = lambda f: 300 if f < 80 else 300 + 40 * (f - 80)  # noqa: E731  cut by the right side at frame 88
    walking_off = dets("person", [f for f in FRAMES if f <= 90], x=x, track_id=1, size=40)
    exp = Expectations(classes={"person": 1}, interaction="leave", subjects=("person",))
    c = check(interaction_checks(walking_off, FRAMES, exp, frame_size=(360, 640)), "interaction:leave")
    assert c.passed, c.reason
    # the same person still standing mid-frame at the end has not left
    standing = dets("person", FRAMES, x=300, track_id=1)
    assert not check(interaction_checks(standing, FRAMES, exp, frame_size=(360, 640)), "interaction:leave").passed
    # nor has one who reached the side but was never seen going out (no track)
    untracked = dets("person", [f for f in FRAMES if f <= 90], x=x)
    assert not check(interaction_checks(untracked, FRAMES, exp, frame_size=(360, 640)), "interaction:leave").passed


def test_entering_in_the_opening_frames_through_a_side_is_entering():
    x = lambda f: 600 - 30 * f if f < 10 else 300  # noqa: E731  in through the right side by frame 10
    walking_in = dets("person", FRAMES, x=x, track_id=1)
    exp = Expectations(classes={"person": 1}, interaction="enter", subjects=("person",))
    c = check(interaction_checks(walking_in, FRAMES, exp, frame_size=(360, 640)), "interaction:enter")
    assert c.passed, c.reason


def test_interaction_without_two_subjects_is_informational():
    exp = Expectations(classes={"dog": 1}, interaction="approach", subjects=("dog",))
    c = check(interaction_checks(dets("dog", FRAMES), FRAMES, exp), "interaction:approach")
    assert c.passed and c.threshold is None and "fewer than two subjects" in c.reason


def test_count_fall_names_the_track_that_ended():
    people = [*dets("person", FRAMES, x=0, track_id=1), *dets("person", FRAMES, x=100, track_id=2),
              *dets("person", [f for f in FRAMES if f < 50], x=200, track_id=3)]
    c = check(interaction_checks(people, FRAMES, Expectations(classes={"person": 3})), "count:person")
    assert "fewer seen from frame 52 (3 to 2) (person #3 last seen at frame 48)" in c.reason


def test_too_many_from_the_start_is_a_clone():
    dogs = dets("dog", FRAMES, track_id=1) + dets("dog", FRAMES, x=300, track_id=2)
    c = check(interaction_checks(dogs, FRAMES, Expectations(classes={"dog": 1})), "count:dog")
    assert not c.passed and c.reason == "dog count is 2 from frame 0 where 1 is expected"


def test_several_count_changes_are_summarised():
    people = [*dets("person", FRAMES, x=0), *dets("person", [f for f in FRAMES if 20 <= f < 60], x=100),
              *dets("person", [f for f in FRAMES if 40 <= f < 80], x=200)]
    c = check(interaction_checks(people, FRAMES, Expectations(classes={"person": 1})), "count:person")
    assert not c.passed and c.value == 2.0  # the two rises; the falls back are noted only
    assert c.reason == "person count rose from 1 to 2 at frame 20 (1 expected) (and 1 more count changes)"


def test_steady_count_reason_and_flickering_detections_are_not_a_count():
    assert check(interaction_checks(dets("dog", FRAMES), FRAMES, Expectations(classes={"dog": 1})),
                 "count:dog").reason == "dog count holds steady at 1"
    blinking = dets("dog", FRAMES[::3])  # seen one examined frame in three: never for more than 8 frames
    c = check(interaction_checks(blinking, FRAMES, Expectations(classes={"dog": 1})), "count:dog")
    assert c.passed and c.reason == "dog never held a count for more than 8 frames; nothing to compare"


def test_no_examined_frames_fails_presence():
    c = check(interaction_checks([], [], Expectations(classes={"dog": 1})), "presence:dog")
    assert not c.passed and c.reason == "dog: no frames were checked"


def test_max_gap_frames_sets_what_counts_as_vanishing():
    dogs = dets("dog", [f for f in FRAMES if f < 80])  # gone for the last 20 clip frames
    exp = Expectations(classes={"dog": 1})
    assert not check(interaction_checks(dogs, FRAMES, exp), "vanish:dog").passed
    assert check(interaction_checks(dogs, FRAMES, exp, max_gap_frames=20), "vanish:dog").passed


def test_approach_that_barely_closes_fails_and_the_fraction_is_configurable():
    slight = dets("person", FRAMES, x=0) + dets("dog", FRAMES, x=lambda f: 300 - f)
    exp = pair_expectations("approach", "person", "dog")
    c = check(interaction_checks(slight, FRAMES, exp), "interaction:approach")
    assert not c.passed and "barely approach" in c.reason and "< 25%" in c.reason
    assert check(interaction_checks(slight, FRAMES, exp, min_approach=0.1), "interaction:approach").passed


def test_approach_missing_late_and_contact_never_together():
    early_only = dets("person", FRAMES, x=0) + dets("dog", [f for f in FRAMES if f < 50], x=100)
    c = check(interaction_checks(early_only, FRAMES, pair_expectations("approach", "person", "dog")),
              "interaction:approach")
    assert not c.passed and "never appear together in the last third" in c.reason
    apart_in_time = dets("person", [f for f in FRAMES if f < 40], x=0) + dets("dog", [f for f in FRAMES if f >= 60], x=0)
    c = check(interaction_checks(apart_in_time, FRAMES, pair_expectations("contact", "person", "dog")),
              "interaction:contact")
    assert not c.passed and c.reason == "person and dog never appear together, so they cannot touch"


def test_contact_gap_is_configurable():
    near = dets("person", FRAMES, x=0) + dets("dog", FRAMES, x=50)  # 10 px gap = 0.18 box sizes
    exp = pair_expectations("contact", "person", "dog")
    assert not check(interaction_checks(near, FRAMES, exp), "interaction:contact").passed
    assert check(interaction_checks(near, FRAMES, exp, max_contact_gap=0.2), "interaction:contact").passed


def test_handover_failures_name_what_is_missing():
    people = dets("person", FRAMES, x=0) + dets("dog", FRAMES, x=400)
    exp = pair_expectations("handover", "person", "dog", "frisbee")
    late_object = people + dets("frisbee", [f for f in FRAMES if f > 50], x=390)
    c = check(interaction_checks(late_object, FRAMES, exp), "interaction:handover")
    assert not c.passed and c.reason == "frisbee is not seen with person or dog in the first third"
    no_object = Expectations(classes={"person": 1, "dog": 1}, interaction="handover", subjects=("person", "dog"))
    c = check(interaction_checks(people, FRAMES, no_object), "interaction:handover")
    assert c.passed and c.threshold is None and "names no object to hand over" in c.reason


def test_handover_between_two_people_that_never_passes():
    people = dets("person", FRAMES, x=0, track_id=1) + dets("person", FRAMES, x=400, track_id=2)
    kept = people + dets("cup", FRAMES, x=10)
    exp = Expectations(classes={"person": 2}, interaction="handover", subjects=("person", "person", "cup"))
    c = check(interaction_checks(kept, FRAMES, exp), "interaction:handover")
    assert not c.passed
    assert c.reason == "cup stays with person #1: it is never nearest another person in the last third"


def test_enter_fails_when_the_newcomer_shows_up_too_little():
    brief = dets("person", FRAMES, x=0) + dets("dog", [88, 92], x=300)
    c = check(interaction_checks(brief, FRAMES, pair_expectations("enter", "person", "dog")), "interaction:enter")
    assert not c.passed and "dog is in view in only 2 of 9 checked frames of the last third" in c.reason


def test_leave_exempts_the_leaver_from_presence_and_vanish():
    leaving = dets("person", FRAMES, x=0) + dets("dog", [f for f in FRAMES if f < 40], x=300)
    checks = interaction_checks(leaving, FRAMES, pair_expectations("leave", "person", "dog"))
    assert [c.kind for c in checks if c.subject == "dog"] == [CheckKind.PRESENCE, CheckKind.COUNT]
    assert check(checks, "presence:dog").threshold is None and check(checks, "count:dog").passed


def test_who_enters_or_leaves_is_still_counted():
    one_walks_in = dets("person", [f for f in FRAMES if f >= 40], x=300, track_id=1)
    exp = Expectations(classes={"person": 2}, interaction="enter", subjects=("person",))
    checks = interaction_checks(one_walks_in, FRAMES, exp)
    assert check(checks, "interaction:enter").passed
    assert not check(checks, "count:person").passed and "never all 2 together" in check(checks, "count:person").reason
    two_walk_in = one_walks_in + dets("person", [f for f in FRAMES if f >= 48], x=100, track_id=2)
    assert check(interaction_checks(two_walk_in, FRAMES, exp), "count:person").passed


def test_unknown_interaction_is_informational():
    exp = Expectations(classes={"dog": 1, "cat": 1}, interaction="chase", subjects=("dog", "cat"))
    c = check(interaction_checks(dets("dog", FRAMES), FRAMES, exp), "interaction:chase")
    assert c.passed and c.threshold is None and "unknown interaction 'chase'" in c.reason


def test_real_footage_through_the_real_detector_gives_well_formed_checks(shared_data):
    """Random weights: only the structure means something (boxes, frames, one check per metric)."""
    from clipmill.models.detector import load_detector
    from tests.qa.synthetic import real_clip

    frames = real_clip("sam2_01_dog.mp4", n=6, size=(320, 180))
    detector = load_detector("random")
    examined, detections = detector.detect(frames, stride=2, conf=0.25, imgsz=320, track=True)
    assert examined == [0, 2, 4]
    assert all(d.frame in examined and d.track_id is not None for d in detections)
    checks = interaction_checks(detections, examined, pair_expectations("approach", "person", "dog"))
    assert sorted(c.metric for c in checks)[:3] == ["interaction:approach", "presence:dog", "presence:person"]
    assert all(c.stage == "interaction" and c.reason for c in checks)


# -- classes the prompt rules out ("no people", "without a dog") ------------------------------


def test_forbidden_class_in_view_fails_with_a_reason():
    checks = interaction_checks(dets("car", FRAMES) + dets("person", FRAMES[5:20]), FRAMES,
                                Expectations(classes={"car": 1}, forbidden=("person",)))
    c = check(checks, "forbidden:person")
    assert not c.passed and c.stage == "interaction"
    assert c.reason == ("person is in view from frame 20 for 60 frames (15 of 25 checked frames), "
                        "but the prompt says there is no person")
    assert check(checks, "presence:car").passed  # what was asked for is still judged


def test_forbidden_class_alone_is_checked_without_expected_classes():
    # "An empty beach at dawn with no people": nothing expected, one class ruled out
    c = check(interaction_checks(dets("person", FRAMES), FRAMES, Expectations(forbidden=("person",))),
              "forbidden:person")
    assert not c.passed and c.value == 100


def test_forbidden_class_seen_for_a_blink_is_forgiven():
    checks = interaction_checks(dets("dog", [40, 44]), FRAMES, Expectations(classes={"person": 2}, forbidden=("dog",)))
    c = check(checks, "forbidden:dog")
    assert c.passed and c.value == 8 and "seen only briefly" in c.reason
    clean = check(interaction_checks([], FRAMES, Expectations(forbidden=("dog",))), "forbidden:dog")
    assert clean.passed and clean.reason == "no dog, as the prompt says: none in 25 checked frames"


def test_open_vocabulary_subjects_get_presence_and_vanish_but_no_count():
    from clipmill.qa.presence import not_checkable_checks, open_vocabulary_checks

    two_shoes = dets("sneakers", FRAMES, x=100) + dets("sneakers", FRAMES, x=300)
    checks = open_vocabulary_checks(two_shoes, FRAMES, ["sneakers", "perfume"])
    assert [c.metric for c in checks] == ["presence:sneakers", "vanish:sneakers", "presence:perfume"]
    assert check(checks, "presence:sneakers").passed
    assert not check(checks, "presence:perfume").passed
    [note] = not_checkable_checks(["perfume"], "its classes are COCO's")
    assert note.passed and note.threshold is None and note.metric == "unchecked:perfume"
    assert (note.kind, note.subject) == (CheckKind.UNCHECKED, "perfume")
    assert note.reason == "perfume: not checkable by the detector (its classes are COCO's)"


def test_someone_who_walks_in_a_quarter_of_the_way_through_has_entered():
    # 25 checked frames: absent from the first 6, then in view to the end (a detector blink at 15).
    arriving = dets("person", [f for f in FRAMES[6:] if f != FRAMES[15]], x=0)
    c = check(interaction_checks(arriving, FRAMES, Expectations(classes={"person": 1}, interaction="enter")),
              "interaction:enter")
    assert c.passed and c.reason.startswith(f"person enters at frame {FRAMES[6]}")
    there_at_the_start = dets("person", FRAMES[2:], x=0)
    c = check(interaction_checks(there_at_the_start, FRAMES, Expectations(classes={"person": 1}, interaction="enter")),
              "interaction:enter")
    assert not c.passed and "already in view in 2 of the 4 opening checked frames" in c.reason


def test_a_class_present_in_any_number_is_checked_for_presence_and_vanish_not_count():
    crowd = dets("person", FRAMES, x=100, track_id=1) + dets("person", FRAMES, x=300, track_id=2) + \
        dets("person", FRAMES[10:], x=500, track_id=3)
    checks = interaction_checks(crowd, FRAMES, Expectations(at_least={"person": 1}))
    assert [c.metric for c in checks] == ["presence:person", "vanish:person"]
    assert all(c.passed for c in checks)


def test_a_class_present_in_any_number_fails_when_never_seen_or_gone():
    absent = interaction_checks(dets("person", FRAMES), FRAMES, Expectations(at_least={"bicycle": 1}))
    assert not check(absent, "presence:bicycle").passed
    gone = interaction_checks(dets("bicycle", FRAMES[:12]), FRAMES, Expectations(at_least={"bicycle": 1}))
    assert not check(gone, "vanish:bicycle").passed


def test_at_least_n_passes_with_more_in_view_and_fails_when_never_all_n_together():
    barber_and_customer = dets("person", FRAMES, x=100, track_id=1) + dets("person", FRAMES, x=300, track_id=2)
    waiting = dets("person", FRAMES[6:], x=500, track_id=3)  # a third walks in and stays: more is fine
    floor = Expectations(at_least={"person": 2})
    checks = interaction_checks(barber_and_customer + waiting, FRAMES, floor)
    assert all(c.passed for c in checks), [c.reason for c in checks if not c.passed]
    exact = interaction_checks(barber_and_customer + waiting, FRAMES, Expectations(classes={"person": 2}))
    assert not check(exact, "count:person").passed  # the same clip fails an exact count
    only_one = interaction_checks(dets("person", FRAMES, x=100, track_id=1), FRAMES, floor)
    failed = check(only_one, "count:person")
    assert not failed.passed and failed.reason.startswith("2 or more x person expected, but never all 2 together")


def test_a_subject_last_seen_at_the_frames_edge_left_the_shot_and_did_not_vanish():
    walking_out = dets("dog", FRAMES[:12], x=lambda f: 300 + 10 * f, track_id=1)  # reaches x=740 of 780
    left = interaction_checks(walking_out, FRAMES, Expectations(classes={"dog": 1}), frame_size=(400, 780))
    assert check(left, "vanish:dog").passed and "right edge" in check(left, "vanish:dog").reason
    in_view = interaction_checks(dets("dog", FRAMES[:12], x=300, track_id=1), FRAMES,
                                 Expectations(classes={"dog": 1}), frame_size=(400, 780))
    assert not check(in_view, "vanish:dog").passed
    # a cut: the dog in mid-frame, then one frame of another at the side, then nothing
    cut = dets("dog", FRAMES[:10], x=300, track_id=1) + dets("dog", FRAMES[10:11], x=740, track_id=2)
    cut_checks = interaction_checks(cut, FRAMES, Expectations(classes={"dog": 1}), frame_size=(400, 780))
    assert not check(cut_checks, "vanish:dog").passed


def test_someone_half_out_through_a_side_at_the_close_is_leaving():
    # walks right from x=100, and over the last frames is cut by the right side (a leg in view)
    walking = [Detection(frame=f, label="person", confidence=0.9, track_id=1,
                         box=(100 + 6 * f, 100, 140 + 6 * f, 300) if f < 84 else (610, 250, 640, 300)) for f in FRAMES]
    exp = Expectations(classes={"person": 1}, interaction="leave", subjects=("person",))
    assert check(interaction_checks(walking, FRAMES, exp, frame_size=(360, 640)), "interaction:leave").passed
    standing = dets("person", FRAMES, x=300)
    assert not check(interaction_checks(standing, FRAMES, exp, frame_size=(360, 640)), "interaction:leave").passed
    close_up = [Detection(frame=f, label="person", confidence=0.9, box=(0, 0, 640, 360)) for f in FRAMES]
    assert not check(interaction_checks(close_up, FRAMES, exp, frame_size=(360, 640)), "interaction:leave").passed


def test_someone_standing_by_a_side_who_vanishes_did_not_walk_out():
    # in view at the right side the whole time, jittering a pixel toward it, then gone
    standing = [Detection(frame=f, label="person", confidence=0.9, track_id=1, box=(600 + f / 40, 100, 640, 300))
                for f in FRAMES[:12]]
    checks = interaction_checks(standing, FRAMES, Expectations(classes={"person": 1}), frame_size=(360, 640))
    assert not check(checks, "vanish:person").passed


def test_things_that_cannot_walk_off_and_end_fewer_vanished():
    three = [d for i, x in enumerate((100, 250, 400)) for d in dets("bottle", FRAMES, x=x, track_id=i + 1)]
    two_gone = [d for d in three if d.track_id == 1 or d.frame < 48]
    checks = interaction_checks(two_gone, FRAMES, Expectations(classes={"bottle": 3}))
    vanish = check(checks, "vanish:bottle")
    assert not vanish.passed and vanish.reason.startswith("2 of the 3 x bottle vanished at frame 48")
    # the one left blinks out for a frame: still two gone
    blinked = [d for d in two_gone if d.frame != 72]
    assert not check(interaction_checks(blinked, FRAMES, Expectations(classes={"bottle": 3})), "vanish:bottle").passed
    # a bottle missed by the detector now and then, or gone only for the last few frames: no vanish
    blinking = [d for d in three if not (d.track_id == 2 and d.frame % 16 == 0)]
    assert check(interaction_checks(blinking, FRAMES, Expectations(classes={"bottle": 3})), "vanish:bottle").passed
    late = [d for d in three if d.track_id == 1 or d.frame < 88]
    assert check(interaction_checks(late, FRAMES, Expectations(classes={"bottle": 3})), "vanish:bottle").passed
    # people who end fewer walked off or stand behind each other
    people = [d for i, x in enumerate((100, 250)) for d in dets("person", FRAMES, x=x, track_id=i + 1)]
    one_left = [d for d in people if d.track_id == 1 or d.frame < 48]
    assert check(interaction_checks(one_left, FRAMES, Expectations(classes={"person": 2})), "vanish:person").passed


def test_a_subject_the_camera_panned_away_from_did_not_vanish():
    # Last seen mid-frame at frame 44; by the clip's end the picture has moved 500 px left (a pan
    # to the right), which carries the person's place beyond the left side of a 640-wide frame.
    person = dets("person", FRAMES[:12], x=300)
    pan = {f: (0.0, 0.0) if f <= 44 else (-25.0 * (f - 44), 0.0) for f in FRAMES}
    expect = Expectations(classes={"person": 1})
    panned = check(interaction_checks(person, FRAMES, expect, frame_size=(360, 640), camera_path=pan), "vanish:person")
    assert panned.passed and "camera moved it out of view past the left edge" in panned.reason
    # the same detections with a still camera, or a pan too short to take it out of view: a vanish
    assert not check(interaction_checks(person, FRAMES, expect, frame_size=(360, 640)), "vanish:person").passed
    short_pan = {f: (x / 5, y) for f, (x, y) in pan.items()}
    assert not check(interaction_checks(person, FRAMES, expect, frame_size=(360, 640), camera_path=short_pan),
                     "vanish:person").passed
