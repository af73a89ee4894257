"""The shot plan as JSON, the form a prompt extender's model answers in: its schema, its
validation (COCO classes QA knows, counts, interaction kinds) and the `ShotPlan` built from it.

    plan = plan_from_json(answer_text, source_text=prompt, segments=2)   # raises InvalidPlan

The schema is the `ShotPlan`'s own fields; the segment prompts and the negative prompt are
derived here exactly as the rules planner derives them, so both planners hand the same thing on.
"""
from __future__ import annotations

import json
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from clipmill.planning.assembly import describe_environment, segment_prompts
from clipmill.planning.language import detect_language
from clipmill.planning.lexicon.nouns_en import COCO_WORDS_EN
from clipmill.planning.negative_prompts import default_negative_prompt, with_absent
from clipmill.planning.shot_plan import ShotPlan
from clipmill.qa.types import Expectations

COCO_CLASSES: frozenset[str] = frozenset(COCO_WORDS_EN)


class InvalidPlan(ValueError):
    """The model's answer is not a shot plan (no JSON, wrong fields, classes QA does not know)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ModelExpectations(_Strict):
    classes: dict[str, int] = Field(default_factory=dict)
    interaction: Optional[Literal["approach", "contact", "handover", "enter", "leave"]] = None
    subjects: list[str] = Field(default_factory=list)

    @field_validator("classes")
    @classmethod
    def _known_classes(cls, classes: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(classes) - COCO_CLASSES)
        if unknown:
            raise ValueError(f"not COCO classes: {', '.join(unknown)}")
        bad = {name: n for name, n in classes.items() if not isinstance(n, int) or not 1 <= n <= 50}
        if bad:
            raise ValueError(f"counts must be 1..50: {bad}")
        return classes

    @model_validator(mode="after")
    def _subjects_are_expected(self) -> "ModelExpectations":
        if self.interaction is None and self.subjects:
            raise ValueError("subjects given with no interaction")
        missing = [s for s in self.subjects if s not in self.classes]
        if missing:
            raise ValueError(f"interaction subjects not among the classes: {', '.join(missing)}")
        if self.interaction is not None and not self.subjects:
            raise ValueError(f"interaction {self.interaction!r} names no subjects")
        return self


class ModelShotPlan(_Strict):
    """What the model must answer: the plan's fields, segment prompts left to the planner."""

    prompt: str = Field(min_length=1)  # the rewritten, detailed prompt for the generator
    subjects: list[str] = Field(default_factory=list)
    initial_state: str = ""
    actions: list[str] = Field(min_length=1)
    location: str = ""
    outcome: str = ""
    camera: list[str] = Field(default_factory=list)
    look: list[str] = Field(default_factory=list)
    expectations: ModelExpectations = Field(default_factory=ModelExpectations)
    absent: list[str] = Field(default_factory=list)
    open_vocabulary: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _absent_is_coco_and_not_expected(self) -> "ModelShotPlan":
        unknown = sorted(set(self.absent) - COCO_CLASSES)
        if unknown:
            raise ValueError(f"absent classes not in COCO: {', '.join(unknown)}")
        both = sorted(set(self.absent) & set(self.expectations.classes))
        if both:
            raise ValueError(f"classes both expected and absent: {', '.join(both)}")
        if any(not a.strip() for a in self.actions):
            raise ValueError("an action is empty")
        return self


def plan_schema() -> dict:
    """The JSON schema the model is asked to follow (shown to it in the instructions)."""
    return ModelShotPlan.model_json_schema()


def extract_json(answer: str) -> dict:
    """The first JSON object in the model's answer (models wrap it in prose or ``` fences)."""
    start = answer.find("{")
    while start >= 0:
        depth, in_string, escaped = 0, False, False
        for end in range(start, len(answer)):
            char = answer[end]
            if in_string:
                escaped = char == "\\" and not escaped
                if char == '"' and not escaped:
                    in_string = False
                elif char != "\\":
                    escaped = False
                continue
            if char == '"':
                in_string = True
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    try:
                        value = json.loads(answer[start : end + 1])
                    except json.JSONDecodeError:
                        break
                    if isinstance(value, dict):
                        return value
                    break
        start = answer.find("{", start + 1)
    raise InvalidPlan("no JSON object in the answer")


def plan_from_json(answer: str, *, source_text: str, segments: int = 1,
                   negative_prompt: str | None = None) -> ShotPlan:
    """Validate the model's answer against the schema and build the `ShotPlan` from it."""
    try:
        parsed = ModelShotPlan.model_validate(extract_json(answer))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "plan"
        raise InvalidPlan(f"{where}: {first.get('msg')}") from None
    language = detect_language(source_text)
    environment = describe_environment(parsed.location, language, parsed.look, parsed.camera)
    segment_texts = segment_prompts(parsed.initial_state, parsed.actions, parsed.outcome, environment,
                                    parsed.subjects, segments, language, parsed.prompt)
    negative = negative_prompt if negative_prompt is not None else default_negative_prompt(language)
    expectations = parsed.expectations
    return ShotPlan(
        source_text=source_text,
        language=language,
        prompt=parsed.prompt,
        subjects=parsed.subjects,
        initial_state=parsed.initial_state,
        actions=parsed.actions,
        location=parsed.location,
        outcome=parsed.outcome,
        segment_prompts=segment_texts,
        negative_prompt=with_absent(negative, parsed.absent, language),
        expectations=Expectations(classes=dict(expectations.classes), interaction=expectations.interaction,
                                  subjects=tuple(expectations.subjects), forbidden=tuple(sorted(parsed.absent)),
                                  open_vocabulary=tuple(parsed.open_vocabulary)),
        absent=sorted(parsed.absent),
        open_vocabulary=parsed.open_vocabulary,
        camera=parsed.camera,
        look=parsed.look,
        planner="model",
    )
