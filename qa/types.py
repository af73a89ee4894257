"""Small value types shared by the judgement code, the model adapters and the database.

They are plain dataclasses so that they cross layer boundaries (models/ produces
detections, planning produces expectations, qa/ turns both into checks, storage/
records the checks) without pulling any framework along.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Literal

Interaction = Literal["approach", "contact", "handover", "enter", "leave"]
INTERACTIONS: tuple[str, ...] = ("approach", "contact", "handover", "enter", "leave")


class CheckKind(StrEnum):
    """What a check measures. The value is the metric's stored name; a check about one subject
    stores "<kind>:<subject>" ("count:person"), a name for people and old readers, never
    parsed back: code reads `Check.kind` and `Check.subject`."""

    # Detections against the shot plan, each about one subject: a COCO class, an
    # open-vocabulary name, or (INTERACTION) the interaction itself.
    PRESENCE = "presence"
    COUNT = "count"
    VANISH = "vanish"
    FORBIDDEN = "forbidden"
    UNCHECKED = "unchecked"  # a subject no detector here can check: recorded, never passed in silence
    INTERACTION = "interaction"
    # Temporal health and joins
    BLACK = "black_fraction"
    FROZEN = "frozen_fraction"
    MOTION = "motion"
    FLICKER = "flicker"
    CUT = "cut"
    SEAM = "seam_ratio"
    # Blur and damage
    BLUR = "blur"
    BLUR_LEVEL = "blur_level"
    BLUR_REFERENCE = "blur_reference"
    NOISE = "blur_noise"
    BLOCKING = "blur_blocking"
    # Text in the frame
    TEXT_CHANGE = "text_change"
    TEXT_CAPTION = "text_caption"
    TEXT_WATERMARK = "text_watermark"
    TEXT_GARBLED = "text_garbled"
    # CLIP: the input gate, subject drift, text-video similarity
    GATE = "clip_cosine"
    SUBJECT_DRIFT = "subject_similarity"
    TEXT_VIDEO = "text_video_clip_cosine"


@dataclass(frozen=True)
class Check:
    """One measured quantity compared with its threshold.

    `kind` says what was measured and `subject` what about (the class, name or interaction of
    a detection check; None for a check of the whole clip).
    `reason` is a sentence a person can read; it explains a failure ("dog vanished at
    frame 37") and is also filled in for a pass so reports can show what was measured.
    `threshold` is None for informational metrics that never fail a clip.
    """

    stage: str  # "gate", "temporal", "interaction", "seam", ...
    kind: CheckKind
    value: float
    threshold: float | None
    passed: bool
    reason: str
    subject: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", CheckKind(self.kind))  # an unknown kind fails here, not in a report

    @property
    def metric(self) -> str:
        """The stored name: "flicker", "count:person"."""
        return f"{self.kind}:{self.subject}" if self.subject else str(self.kind)

    def to_dict(self) -> dict:
        return {"stage": self.stage, "metric": self.metric, **asdict(self)}


@dataclass(frozen=True)
class Verdict:
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)

    @property
    def reasons(self) -> list[str]:
        return [c.reason for c in self.failures]

    def to_dict(self) -> dict:
        return {"passed": self.passed, "checks": [c.to_dict() for c in self.checks]}


@dataclass(frozen=True)
class Detection:
    """One object detected in one frame. `box` is (x1, y1, x2, y2) in pixels."""

    frame: int
    label: str  # COCO class name, e.g. "person", "dog"
    confidence: float
    box: tuple[float, float, float, float]
    track_id: int | None = None


UNCHECKED_KINDS: tuple[str, ...] = ("presence", "count", "absent", "interaction", "order")


@dataclass(frozen=True)
class UncheckedExpectation:
    """Something the prompt seems to ask for that QA does not enforce: the planner was not sure
    enough of it (a count read from "a family", a person inferred from a role) or QA cannot
    check it. `kind` is one of `UNCHECKED_KINDS`; `subject` the class (or "person -> dog" for
    an interaction); `value` what would have been checked ("4", "approach", "first ... then ...");
    `confidence` the planner's, 0..1; `why` a sentence naming the words it came from."""

    kind: str
    subject: str
    value: str
    confidence: float
    why: str

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "UncheckedExpectation":
        return cls(kind=str(data.get("kind", "")), subject=str(data.get("subject", "")),
                   value=str(data.get("value", "")), confidence=float(data.get("confidence", 0.0)),
                   why=str(data.get("why", "")))


@dataclass(frozen=True)
class Expectations:
    """What the shot plan says a correct clip shows; QA checks the clip against it.

    `classes` maps COCO class names to the number of instances expected: more or fewer fails.
    `at_least` maps COCO classes to the fewest instances a correct clip shows, more being fine:
    1 where the prompt is sure they are there but gives no number ("shoppers browse",
    "孩子们踢足球"); the number named where others of the class are normally in view too ("a
    chef tosses noodles": cooks behind him; "a barber cuts a man's hair": customers waiting).
    QA checks that they are seen, all of them together, and stay; never that there are no more.
    `subjects` names the two classes taking part in `interaction` (for handover the
    third item, when present, is the object handed over).
    `forbidden` names the classes the prompt says are not in the shot ("no people",
    "without a dog"): one seen for longer than a detector's blink fails the clip.
    `open_vocabulary` names subjects outside the COCO classes ("perfume", "earbuds"): an
    open-vocabulary detector checks that they are there; without one they are recorded as
    not checkable, never passed in silence.
    Those fields hold only the rules QA enforces. `unchecked` holds what the planner read but
    was not sure enough of to enforce, each with its confidence and why; `confidence` gives the
    planner's confidence in each enforced rule, keyed "presence:person", "count:person",
    "absent:dog", "interaction:approach".
    """

    classes: dict[str, int] = field(default_factory=dict)
    at_least: dict[str, int] = field(default_factory=dict)
    interaction: Interaction | None = None
    subjects: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    open_vocabulary: tuple[str, ...] = ()
    unchecked: tuple[UncheckedExpectation, ...] = ()
    confidence: dict[str, float] = field(default_factory=dict, compare=False)  # about the rules, not a rule

    def to_dict(self) -> dict:
        return {"classes": dict(self.classes), "at_least": dict(self.at_least), "interaction": self.interaction, "subjects": list(self.subjects),
                "forbidden": list(self.forbidden), "open_vocabulary": list(self.open_vocabulary),
                "unchecked": [u.to_dict() for u in self.unchecked], "confidence": dict(self.confidence)}

    @classmethod
    def from_dict(cls, data: dict) -> "Expectations":
        """Also reads dicts stored before `at_least`, `unchecked` and `confidence` existed (and the
        older `present` list, which was `at_least` 1)."""
        return cls(
            classes=dict(data.get("classes", {})),
            at_least={**{str(name): 1 for name in data.get("present", None) or ()},
                      **{str(k): int(v) for k, v in (data.get("at_least", None) or {}).items()}},
            interaction=data.get("interaction"),
            subjects=tuple(data.get("subjects", ())),
            forbidden=tuple(data.get("forbidden", ())),
            open_vocabulary=tuple(data.get("open_vocabulary", ())),
            unchecked=tuple(u if isinstance(u, UncheckedExpectation) else UncheckedExpectation.from_dict(u)
                            for u in data.get("unchecked", None) or ()),
            confidence={str(k): float(v) for k, v in (data.get("confidence", None) or {}).items()},
        )
