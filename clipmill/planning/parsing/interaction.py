"""Choosing the interaction QA checks: pending throws are paired with their catches, then the
most specific checkable interaction wins (what the clip ends on) and the earliest checkable one
is what the clip opens on."""
from __future__ import annotations

from clipmill.planning.lexicon.objects import OBJECTS_EN, OBJECTS_ZH
from clipmill.planning.parsing.records import Event, Mention

_OBJECT_HEADS = frozenset(w.replace("_", " ") for w in OBJECTS_EN.split()) | frozenset(OBJECTS_ZH)


def is_object(mention: Mention) -> bool:
    """A product, food or prop outside COCO (not a creature or figure)."""
    return mention.head in _OBJECT_HEADS

# What a subject enters or leaves that QA can see it inside of ("gets out of a taxi").
_CONTAINERS = {"car", "bus", "train", "truck", "boat", "airplane"}


def resolve_interaction(events: list[Event]) -> tuple[Event | None, Event | None, tuple[str, ...], list[str]]:
    """Pair pending throws with catches, then pick the most specific checkable interaction
    (what QA checks, and what the clip ends on) and the earliest (what the clip opens on)."""
    candidates = _paired(events)
    notes: list[str] = []
    checkable = [e for e in candidates if _subject_classes(e) is not None]
    first = min(checkable, key=lambda e: e.clause, default=None)
    for event in sorted(candidates, key=lambda e: (e.priority, e.clause)):
        subjects = _subject_classes(event)
        if subjects is not None:
            return event, first, subjects, notes
        note = _unchecked_note(event)
        if note:
            notes.append(note)
    return None, None, (), notes


def _paired(events: list[Event]) -> list[Event]:
    """Interactions: a "give" with a later catch by someone else, and a "received from", become
    handovers; a lone throw or catch is no interaction."""
    candidates: list[Event] = []
    for index, event in enumerate(events):
        if event.kind == "give":
            catch = next((e for e in events[index + 1 :] if e.kind in ("catch", "taken") and e.agents
                          and (not event.agents or e.agents[0] is not event.agents[0])), None)
            if catch is not None:
                candidates.append(Event("handover", 0, event.agents, catch.agents[0], event.obj or catch.obj,
                                        event.clause))
        elif event.kind == "taken":
            thrown = any(e.kind == "give" for e in events[:index])
            giver = event.patient
            if not thrown and giver is not None and event.agents and giver.head != event.agents[0].head:
                candidates.append(Event("handover", 0, [giver], event.agents[0], event.obj, event.clause))
        elif event.kind == "received":
            candidates.append(Event("handover", 0, [event.patient], event.agents[0] if event.agents else None,
                                    event.obj, event.clause))
        elif event.kind not in ("catch", "give", "taken"):
            candidates.append(event)
    return candidates


def _unchecked_note(event: Event) -> str:
    """A warning where a subject the detector cannot see takes part; a product or prop ("拿起
    口红") is no warning: the plan records it for an open-vocabulary detector instead."""
    unknown = [m.phrase for m in event.agents[:1] + [event.patient] if m is not None and m.coco is None
               and not m.pronoun and not is_object(m)]
    if not unknown:
        return ""
    return (f"the {event.kind} involves {', '.join(repr(u) for u in unknown)}, which the detector cannot "
            f"recognise, so QA will not check it; name a person, animal or object it knows to have it checked")


def _subject_classes(event: Event) -> tuple[str, ...] | None:
    """The COCO classes taking part, agent first, or None where QA could not check them."""
    agent = event.agents[0] if event.agents else None
    if agent is None or agent.coco is None:
        return None
    if event.kind in ("enter", "leave"):
        if not (agent.animate or agent.coco in _CONTAINERS):
            return None  # "leaves falling", "a bench ... leaves": nothing walks in or out
        if event.patient is not None and event.patient.coco in _CONTAINERS:
            return (agent.coco, event.patient.coco)
        return (agent.coco,)
    other = event.patient
    if other is None or (other.pronoun and other.head == "group"):
        if len(event.agents) > 1:
            other = event.agents[1]
        elif agent.count is None or agent.count >= 2 or agent.another:
            other = agent
        else:
            return None
    if other.coco is None:
        return None
    subjects = (agent.coco, other.coco)
    if event.kind == "handover" and event.obj is not None and event.obj.coco is not None:
        subjects += (event.obj.coco,)
    return subjects
