"""The shot plan: what the generator is asked for and what QA will hold the clip to."""
from __future__ import annotations

from dataclasses import dataclass, field

from clipmill.planning.language import Language
from clipmill.qa.types import Expectations


@dataclass
class ShotPlan:
    source_text: str
    language: Language
    prompt: str
    subjects: list[str]
    initial_state: str
    actions: list[str]
    location: str
    outcome: str
    segment_prompts: list[str]
    negative_prompt: str
    expectations: Expectations
    warnings: list[str] = field(default_factory=list)
    # COCO classes the text says are not in the shot ("without a dog", "无人"): QA must not expect
    # them, and a detection of one is worth reporting.
    absent: list[str] = field(default_factory=list)
    # Subjects outside COCO, by English name ("perfume", "earbuds"): the classes to give an
    # open-vocabulary detector (YOLO-World, YOLOE); a COCO detector cannot check them.
    open_vocabulary: list[str] = field(default_factory=list)
    camera: list[str] = field(default_factory=list)  # camera directions, as written
    look: list[str] = field(default_factory=list)  # light, style and finish, as written
    planner: str = "rules"  # "rules", or "model" when a prompt extender's plan was used
    notes: list[str] = field(default_factory=list)  # what was recorded on the way (fallbacks, unchecked subjects)
    # Texts the encoders do not read to the end (clipmill.prompt_limits.PromptCut.to_dict), set
    # by the clip flow: a cut prompt is recorded with the job, not only said on the console.
    prompt_cuts: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "source_text": self.source_text,
            "language": self.language,
            "prompt": self.prompt,
            "subjects": list(self.subjects),
            "initial_state": self.initial_state,
            "actions": list(self.actions),
            "location": self.location,
            "outcome": self.outcome,
            "segment_prompts": list(self.segment_prompts),
            "negative_prompt": self.negative_prompt,
            "expectations": self.expectations.to_dict(),
            "warnings": list(self.warnings),
            "absent": list(self.absent),
            "open_vocabulary": list(self.open_vocabulary),
            "camera": list(self.camera),
            "look": list(self.look),
            "planner": self.planner,
            "notes": list(self.notes),
            "prompt_cuts": [dict(cut) for cut in self.prompt_cuts],
        }
