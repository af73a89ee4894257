"""What parsing returns: plain records holding character offsets into the prompt text."""
from __future__ import annotations

from dataclasses import dataclass

_ANIMATE = {"person", "bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"}


@dataclass
class Mention:
    """A noun phrase the lexicon knows ("two brown puppies"), or a pronoun standing for one."""

    start: int
    end: int
    phrase: str
    head: str
    coco: str | None
    count: int | None  # None: a plural or a group with no number given
    definite: bool = False
    another: bool = False
    pronoun: bool = False
    member: bool = False  # "the other one", "另一只": one of a group named earlier
    stated: bool = False  # a number or article was written with it ("两只", "a")
    negated: bool = False  # "without a dog", "没有狗": said to be absent
    implies: tuple[str, ...] = ()  # other COCO classes the word brings ("a cyclist": a bicycle)
    name: str = ""  # English name of a subject outside COCO, for an open-vocabulary detector
    counted_only: bool = False  # "两杯" in "两杯红酒": counted (two wine glasses), named with its content
    count_from_group: bool = False  # "three friends toast with glasses": one each, read from the group's number
    guessed: bool = False  # a person read from the shape of a word the lexicon does not list ("学员")

    @property
    def animate(self) -> bool:
        return self.coco in _ANIMATE or self.pronoun and self.head == "person"


@dataclass
class Clause:
    start: int
    end: int
    text: str
    outcome_marker: bool = False
    label: str = ""  # "Setting", "场景": a labelled sentence, kept whole
    after_then: bool = False  # not the first step of its sentence
    sequence: bool = False  # after "then", "然后", "接着": a step of the action sequence
    time_clause: bool = False  # "Before leaving, ...", "After the guests leave, ...", "客人离开后": perhaps only a time
    later_event: bool = False  # "before he goes to bed": an event after the shot's action, perhaps never shown


@dataclass
class Event:
    """Who does what to whom in one clause."""

    kind: str  # an interaction, or "give" / "catch" waiting to be paired into a handover
    priority: int
    agents: list[Mention]
    patient: Mention | None = None
    obj: Mention | None = None
    clause: int = 0
