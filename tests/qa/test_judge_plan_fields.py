"""The shot plan's absent classes and its subjects outside COCO reach the clip's verdict."""
import numpy as np

from clipmill.planning import plan_shot
from clipmill.spec import QASettings
from clipmill.qa.judge import judge_frames
from clipmill.qa.types import Detection

FRAMES = np.full((24, 32, 48, 3), 128, dtype=np.uint8)


class ScriptedDetector:
    """A stand-in for `models.detector.Detector` that reports the boxes a test gives it."""

    random_weights = False

    def __init__(self, labels_per_frame, names=("person", "car", "dog")):
        self.labels_per_frame = labels_per_frame
        self.class_names = dict(enumerate(names))
        self.asked: list[list[str]] = []

    def _detections(self, frames, stride):
        indices = list(range(0, len(frames), stride))
        found = [Detection(frame=i, label=label, confidence=0.9, box=(2 + 10 * k, 2, 10 + 10 * k, 20), track_id=k + 1)
                 for i in indices for k, label in enumerate(self.labels_per_frame(i))]
        return indices, found

    def detect(self, frames, *, stride=1, conf=0.25):
        return self._detections(frames, stride)

    def detect_names(self, frames, names, *, stride=1, conf=0.25):
        self.asked.append(list(names))
        return self._detections(frames, stride)


def judge(plan, detector, **options):
    return judge_frames(FRAMES, qa=QASettings(), expectations=plan.expectations, text=None, detector=detector,
                        scorer=None, expects_motion=False, **options)


def test_a_person_in_a_no_people_clip_fails_qa():
    plan = plan_shot("No people, just a red sports car parked on a wet street at night")
    assert plan.expectations.forbidden == ("person",)
    judgement = judge(plan, ScriptedDetector(lambda i: ["car", "person"]))
    assert not judgement.verdict.passed
    assert "but the prompt says there is no person" in " ".join(judgement.verdict.reasons)
    clean = judge(plan, ScriptedDetector(lambda i: ["car"]))
    assert [c.metric for c in clean.verdict.failures if c.stage == "interaction"] == []


def test_a_dog_in_a_without_a_dog_clip_fails_even_when_qa_expects_nothing_else():
    plan = plan_shot("两个孩子在客厅下棋，没有狗")
    judgement = judge(plan, ScriptedDetector(lambda i: ["person", "person", "dog"]))
    assert [c.metric for c in judgement.verdict.failures if c.stage == "interaction"] == ["forbidden:dog"]


def test_subject_outside_coco_is_recorded_as_not_checkable_without_an_open_vocabulary_detector():
    plan = plan_shot("A woman sprays perfume on her neck and closes her eyes")
    judgement = judge(plan, ScriptedDetector(lambda i: ["person"]))
    assert not [c for c in judgement.verdict.failures if c.stage == "interaction"]
    assert judgement.not_checkable == ["perfume: not checkable by the detector (its classes are COCO's; no "
                                       "open-vocabulary detector (models.open_vocab_detector) is configured)"]
    assert judgement.to_dict()["not_checkable"] == judgement.not_checkable
    missing = judge(plan, ScriptedDetector(lambda i: ["person"]), open_vocab_missing="no text encoder")
    assert "the open-vocabulary detector is unusable: no text encoder" in missing.not_checkable[0]


def test_open_vocabulary_detector_is_asked_for_the_plan_nouns_and_judged():
    plan = plan_shot("A woman sprays perfume on her neck and closes her eyes")
    open_vocab = ScriptedDetector(lambda i: ["perfume"] if i < 8 else [], names=())
    judgement = judge(plan, ScriptedDetector(lambda i: ["person"]), open_vocab_detector=open_vocab)
    assert open_vocab.asked == [["perfume"]]
    assert judgement.not_checkable == []
    assert [c.metric for c in judgement.verdict.failures if c.stage == "interaction"] == ["presence:perfume", "vanish:perfume"]
    assert judgement.detected.get("perfume", 0) > 0
    assert set(judgement.to_dict()["seconds"]) == {"pixels", "text", "detections", "clip"}  # where QA's time went
