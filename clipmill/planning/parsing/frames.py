"""Frame handlers: for one rule matched in one clause, who takes part (agent aside) and in
what role. `FRAMES` maps a rule's frame name (`interaction_rules`) to its handler.

A handler gets the match (`FrameMatch`) and returns the event, or None where the words
around the verb do not fit the frame (a Chinese "给" with nobody after it).
The agent is filled in later by the clause reader: it is who stands before the verb.
"""
from __future__ import annotations

import re

from clipmill.planning.lexicon import VERB_FORMS_EN
from collections.abc import Callable
from dataclasses import dataclass, field

from clipmill.planning.parsing.records import Clause, Event, Mention


@dataclass
class FrameMatch:
    kind: str
    priority: int
    match: re.Match
    clause: Clause
    text: str  # the whole prompt; offsets are into it
    inside: list[Mention]  # the clause's mentions
    pronoun_after: Callable[[int, int], Mention | None]
    earlier: list[Mention] = field(default_factory=list)  # the mentions before the clause

    @property
    def verb_end(self) -> int:
        return self.clause.start + self.match.end()

    def start_of(self, group: str) -> int:
        return self.clause.start + self.match.start(group)

    def end_of(self, group: str) -> int:
        return self.clause.start + self.match.end(group)

    def first_in(self, start: int, end: int | None = None, skip: int = 0) -> Mention | None:
        """The (skip+1)-th mention in [start, end) of the clause; failing the first, a pronoun there."""
        end = self.clause.end if end is None else end
        found = [m for m in self.inside if start <= m.start and m.end <= end]
        if len(found) > skip:
            return found[skip]
        return self.pronoun_after(start, end) if skip == 0 else None

    def in_group(self, group: str) -> Mention | None:
        return self.first_in(self.start_of(group), self.end_of(group))

    def event(self, kind: str, patient: Mention | None = None, obj: Mention | None = None) -> Event:
        return Event(kind, self.priority, [], patient, obj)


def _give(f: FrameMatch) -> Event:
    """"throws a frisbee to a dog", "hands the woman a cup", "passes the ball"."""
    to = re.search(r"\bto\b", f.text[f.verb_end : f.clause.end], re.I)
    if to:
        obj = f.first_in(f.verb_end, f.verb_end + to.start())
        return f.event("handover", f.first_in(f.verb_end + to.end()), obj)
    first, second = f.first_in(f.verb_end), f.first_in(f.verb_end, skip=1)
    if first is not None and first.animate:
        gesture = _GESTURE_EN.match(f.text[first.end : f.clause.end])
        if gesture:  # "gives her puppy a bath", "gives him a hug": a touch, or nothing handed at all
            return f.event("contact", first) if gesture.group("touch") else f.event("give", None, None)
    # "hands the woman a cup" names both; "passes a man", "throws a snowball at his sister" hand nothing over
    giving = bool(_GIVING_VERBS.match(f.match.group(0)))
    if first is not None and second is not None and first.animate and giving:
        return f.event("handover", first, second)
    if first is not None and first.animate and not first.pronoun:
        return f.event("handover", first, None) if giving else f.event("give", None, None)
    return f.event("give", None, first)


_GESTURE_EN = re.compile(r"\s+(?:a|an|one)\s+(?:\w+\s+)?(?:(?P<touch>hug|kiss|high-five|bath|massage|pat|cuddle|squeeze|"
                         r"nudge|peck|wash|scratch|belly\s+rub)|look|smile|wave|nod|wink|call|ride|lift|chance|try)\b",
                         re.I)
_GIVING_VERBS = re.compile(r"(?:hand|give|gave|offer|bring|brought|deliver|serve)", re.I)


def _receive_from(f: FrameMatch) -> Event | None:
    """"takes a book from a boy": the giver after "from", the object before it."""
    giver = f.first_in(f.verb_end)
    obj = f.in_group("mid")
    return f.event("received", giver, obj) if giver else None


def _receive_from_zh(f: FrameMatch) -> Event | None:
    """"从男孩手中接过书"."""
    giver = f.in_group("giver")
    return f.event("received", giver, f.first_in(f.verb_end)) if giver else None


def _taken(f: FrameMatch) -> Event:
    """"女主人开门接过包裹": what is taken follows; the giver may be the last person named before."""
    givers = [m for m in f.earlier if m.animate and not m.pronoun]
    return Event("taken", f.priority, [], givers[-1] if givers else None, f.first_in(f.verb_end))


def _catch(f: FrameMatch) -> Event:
    return f.event("catch", None, f.first_in(f.verb_end))


def _ba_zh(f: FrameMatch) -> Event:
    """"把飞盘扔给小狗": the object after 把, the recipient after the verb."""
    obj = f.in_group("obj")
    return f.event("handover", f.first_in(f.start_of("rest")), obj)


def _give_to_zh(f: FrameMatch) -> Event:
    """"递给妈妈一杯咖啡": the recipient, then the object."""
    rest = f.start_of("rest")
    return f.event("handover", f.first_in(rest), f.first_in(rest, skip=1))


def _gei_zh(f: FrameMatch) -> Event | None:
    """"给儿子递了一个苹果"."""
    recipient = f.in_group("recipient")
    if recipient is None:
        return None
    return f.event("handover", recipient, f.first_in(f.start_of("rest")))


def _give_pending_zh(f: FrameMatch) -> Event:
    """"一只递罐子": a throw waiting for its catch ("另一只接过")."""
    return f.event("give", None, f.first_in(f.start_of("rest")))


def _mutual_zh(f: FrameMatch) -> Event:
    """"互相传递一个排球": the group passes it among itself; the thing follows the verb."""
    return f.event("handover", None, f.first_in(f.start_of("rest")))


_VEHICLES = {"car", "bus", "truck", "train", "boat", "airplane"}


def _vehicle_zh(f: FrameMatch) -> Event:
    """"一位女士下车": the vehicle is the latest one named, in this clause or before it."""
    vehicles = [m for m in f.earlier + f.inside if m.coco in _VEHICLES and m.start < f.verb_end]
    return f.event(f.kind, vehicles[-1] if vehicles else None)


def _with_zh(f: FrameMatch) -> Event | None:
    """"和小狗一起玩"."""
    partner = f.in_group("partner")
    return f.event(f.kind, partner) if partner else None


def _toward_zh(f: FrameMatch) -> Event | None:
    """"朝主人跑"."""
    target = f.in_group("target")
    return f.event(f.kind, target) if target else None


def _after(f: FrameMatch) -> Event | None:
    """The patient is whoever follows the verb, and there must be one ("runs to the dog"). In
    Chinese the object follows the verb at once: "举着小旗带领游客" holds the flag, not the tourists
    (another verb between them ends the object)."""
    patient = f.first_in(f.verb_end)
    if patient is not None and _another_verb_between_zh(f.text[f.verb_end : patient.start]):
        return None
    return f.event(f.kind, patient) if patient is not None else None


def _another_verb_between_zh(gap: str) -> bool:
    """Two or more Chinese characters between the verb and the noun: an object of its own ("小旗")
    stands there, so the noun is not what the verb takes."""
    return len(re.findall(r"[\u4e00-\u9fff]", gap)) >= 2 or "，" in gap


_RIDDEN_THING_EN = re.compile(r"\s+(?:the|a|an|his|her|their|its)\s+(?:[a-z-]+\s+)?(?P<noun>[a-z-]+)", re.I)
# What a rider rides over with the gear the word brings ("a surfer rides a big wave").
_TERRAIN_EN = {"wave", "waves", "slope", "slopes", "trail", "trails", "road", "path", "street", "streets", "rapids",
               "ramp", "halfpipe", "half-pipe", "powder", "snow", "surf", "track", "course", "hill", "hills",
               "mountain", "river", "lake", "sea", "ocean", "swell", "break", "dunes", "dune", "bowl", "rail",
               "rails", "pipe", "line", "route", "lane", "boardwalk", "coast", "coastline", "beach"}


def _ride(f: FrameMatch) -> Event | None:
    """"rides a horse"; with nothing after the verb, what the rider's own word brings ("a cyclist
    rides down a trail": the bicycle it implies)."""
    patient = f.first_in(f.verb_end)
    if patient is not None and not patient.pronoun:
        return f.event(f.kind, patient)
    riders = [m for m in f.inside + f.earlier if m.implies and m.start < f.verb_end and not m.negated]
    if not riders:
        return f.event(f.kind, patient) if patient is not None else None
    ridden_thing = _RIDDEN_THING_EN.match(f.text[f.verb_end : f.clause.end])
    if ridden_thing and ridden_thing.group("noun").lower() not in _TERRAIN_EN:
        return None  # "skiers ride the chairlift": they ride something else, not their gear
    rider = riders[0]
    ridden = rider.implies[0]
    return f.event(f.kind, Mention(rider.start, rider.end, rider.phrase, ridden, ridden, rider.count))


def _with_or_group(f: FrameMatch) -> Event:
    """"shakes hands with the coach", or with each other ("two boys shake hands on a bench")."""
    partner = re.match(r"\s+with\s+", f.text[f.verb_end : f.clause.end], re.I)
    return f.event(f.kind, f.first_in(f.verb_end + partner.end()) if partner else None)


_NOUN_LEAVES_BEFORE = {"the", "of", "some", "many", "few", "fallen", "autumn", "dry", "green", "red", "yellow",
                       "golden", "tea", "palm", "maple", "oak", "bay", "mint", "lettuce", "cabbage", "with", "and",
                       "on", "in", "into", "through", "among", "under", "from"}
_NOT_ENTERED_EN = re.compile(
    r"\s*(?:the|a|an|his|her|their|its)?\s*(?:\w+\s+)?(?:puddles?|pool|water|lake|river|sea|ocean|waves?|snow|snowbank|"
    r"leaves|pile|mud|sand|arms|hay|fountain|air|sky|bath|bathtub|tub|lap|hug|splits?|pose|position)\b", re.I)


def _after_optional(f: FrameMatch) -> Event | None:
    """The patient follows the verb if anyone does ("enters the room", "walks away"); "gets off"
    with nothing after it leaves the vehicle named before ("The bus stops ... commuters get off").
    Jumping into a puddle, a pool or someone's arms is no entering of the shot; "eat leaves" is no
    leaving."""
    if f.kind == "leave" and f.match.group(0).lower().startswith("leaves"):
        before = re.findall(r"[a-z']+", f.text[: f.clause.start + f.match.start()].lower())[-1:]
        if before and (before[0] in VERB_FORMS_EN or before[0] in _NOUN_LEAVES_BEFORE):
            return None
    if f.kind == "enter" and re.search(r"\binto$", f.match.group(0), re.I) and \
            _NOT_ENTERED_EN.match(f.text[f.verb_end : f.clause.end]):
        return None
    patient = f.first_in(f.verb_end, _subordinate_clause_start(f))
    if f.kind in ("enter", "leave") and patient is not None and not patient.pronoun and patient.coco not in _VEHICLES \
            and not patient.animate:
        patient = None  # "walk out of a boutique carrying shopping bags": the bags are not what they leave
    if patient is None and f.kind in ("enter", "leave") and _VEHICLE_PARTICLE.search(f.match.group(0)):
        vehicles = [m for m in f.earlier if m.coco in _VEHICLES]
        patient = vehicles[-1] if vehicles else None
    return f.event(f.kind, patient)


def _subordinate_clause_start(f: FrameMatch) -> int:
    """Where "as", "while", "when" or "and" opens another clause after the verb ("walk out of the
    church as guests throw petals": the guests are not what they walk out of)."""
    found = _SUBORDINATE_EN.search(f.text, f.verb_end, f.clause.end)
    return found.start() if found else f.clause.end


_SUBORDINATE_EN = re.compile(r"\b(?:as|while|when|whilst|and|but|before|after|until)\b|[，,]", re.I)
_VEHICLE_PARTICLE = re.compile(r"\b(?:gets?|got|getting|steps?|stepped|stepping|climbs?|climbed|hops?|hopped)\s+"
                               r"(?:off|out|on|in|into|out\s+of)\b", re.I)


FRAMES: dict[str, Callable[[FrameMatch], Event | None]] = {
    "give": _give,
    "receive_from": _receive_from,
    "receive_from_zh": _receive_from_zh,
    "catch": _catch,
    "zh_ba": _ba_zh,
    "zh_give_to": _give_to_zh,
    "zh_gei": _gei_zh,
    "give_pending_zh": _give_pending_zh,
    "zh_with": _with_zh,
    "zh_mutual": _mutual_zh,
    "taken": _taken,
    "zh_vehicle": _vehicle_zh,
    "zh_toward": _toward_zh,
    "after": _after,
    "after_optional": _after_optional,
    "with_or_group": _with_or_group,
    "ride": _ride,
    # with nobody after the verb, `resolve_interaction` takes the agents' own group as the other
    # party ("two dogs play together")
    "after_or_group": _after_optional,
}
