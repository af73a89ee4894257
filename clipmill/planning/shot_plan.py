"""The shot plan: what the generator is asked for and what QA will hold the clip to."""
from __future__ import annotations

from dataclasses import dataclass, field

from clipmill.planning.language import Language
from qa.types import Expectations


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
        }
