"""Small value types shared by the judgement code, the model adapters and the database.

They are plain dataclasses so that they cross layer boundaries (models/ produces
detections, planning produces expectations, qa/ turns both into checks, storage/
records the checks) without pulling any framework along.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Interaction = Literal["approach", "contact", "handover", "enter", "leave"]
INTERACTIONS: tuple[str, ...] = ("approach", "contact", "handover", "enter", "leave")


@dataclass(frozen=True)
class Check:
    """One measured quantity compared with its threshold.

    `reason` is a sentence a person can read; it explains a failure ("dog vanished at
    frame 37") and is also filled in for a pass so reports can show what was measured.
    `threshold` is None for informational metrics that never fail a clip.
    """

    stage: str  # "gate", "temporal", "interaction", "seam", ...
    metric: str
    value: float
    threshold: float | None
    passed: bool
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


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


@dataclass(frozen=True)
class Expectations:
    """What the shot plan says a correct clip shows; QA checks the clip against it.

    `classes` maps COCO class names to the number of instances expected.
    `subjects` names the two classes taking part in `interaction` (for handover the
    third item, when present, is the object handed over).
    `forbidden` names the classes the prompt says are not in the shot ("no people",
    "without a dog"): one seen for longer than a detector's blink fails the clip.
    `open_vocabulary` names subjects outside the COCO classes ("perfume", "earbuds"): an
    open-vocabulary detector checks that they are there; without one they are recorded as
    not checkable, never passed in silence.
    """

    classes: dict[str, int] = field(default_factory=dict)
    interaction: Interaction | None = None
    subjects: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    open_vocabulary: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"classes": dict(self.classes), "interaction": self.interaction, "subjects": list(self.subjects),
                "forbidden": list(self.forbidden), "open_vocabulary": list(self.open_vocabulary)}

    @classmethod
    def from_dict(cls, data: dict) -> "Expectations":
        return cls(
            classes=dict(data.get("classes", {})),
            interaction=data.get("interaction"),
            subjects=tuple(data.get("subjects", ())),
            forbidden=tuple(data.get("forbidden", ())),
            open_vocabulary=tuple(data.get("open_vocabulary", ())),
        )
