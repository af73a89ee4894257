"""The clip's first and last moments: the initial state (who is where, holding what, before
the action) and the outcome (how the interaction ends), worded from the chosen events."""
from __future__ import annotations

from clipmill.planning.language import Language
from clipmill.planning.parsing import Event, Mention
from clipmill.planning.wording import bare_phrase, definite_phrase, join_phrases, sentence


def participants(event: Event) -> tuple[Mention, Mention | None, Mention | None]:
    """Agent, the other party (patient, or the second of "a man and a woman") and the object."""
    agent = event.agents[0]
    other = event.patient if event.patient is not None and not event.patient.pronoun else None
    if event.kind in ("enter", "leave"):
        # what they walk into or out of is a place or a vehicle; a second agent ("a bride and
        # groom walk out") goes with the first, not inside
        return agent, other if other is not None and not other.animate else None, None
    if other is None and len(event.agents) > 1:
        other = event.agents[1]
    obj = event.obj if event.obj is not None and not event.obj.pronoun else None
    return agent, other, obj


def describe_initial_state(event: Event | None, introducing: list[Mention], state_parts: list[str],
                  language: Language, actions: list[str] | None = None, location: str = "") -> str:
    """The state the text gives, or the one its interaction implies (a hand-over starts with
    the thing in the giver's hands); failing both, the subjects no action names yet."""
    introducing = [m for m in introducing if not m.counted_only]
    if state_parts:
        return "，".join(state_parts) if language == "zh" else sentence(", ".join(state_parts))
    phrases = [m.phrase for m in introducing]
    if event is None or not event.agents:
        named = " ".join((actions or []) + [location]).lower()
        phrases = [p for p in phrases if p.lower() not in named and bare_phrase(p, language).lower() not in named]
        if not phrases:
            return ""
        return join_phrases(phrases, language) if language == "zh" else sentence(join_phrases(phrases, language))
    agent, other, obj_mention = participants(event)
    same_group = agent.member and (other is None or other.head == agent.head)
    group_phrase = next((m.phrase for m in introducing if m.head == agent.head), agent.phrase)
    # the thing as first named ("a cup", not the later "the cup")
    obj = next((m.phrase for m in introducing if obj_mention is not None and m.head == obj_mention.head),
               obj_mention.phrase if obj_mention is not None else "")
    a = group_phrase if agent.member else agent.phrase
    if event.kind in ("enter", "leave") and len(event.agents) > 1:
        a = join_phrases([m.phrase for m in event.agents], language)
    b = other.phrase if other is not None and not same_group else ""
    if event.kind == "contact" or (event.kind == "handover" and same_group and not obj):
        # "hug", "pass to each other": how close they start is not said; name who is there
        # (whoever the actions do not name already)
        named = " ".join(actions or []).lower()
        phrases = [p for p in phrases if p.lower() not in named and bare_phrase(p, language).lower() not in named]
        if not phrases:
            return ""
        return join_phrases(phrases, language) if language == "zh" else sentence(join_phrases(phrases, language))
    if language == "en":  # inside a sentence: "a man inside a yellow taxi", not "... A yellow taxi"
        b, obj = _inline(b), _inline(obj)
    openings = _openings_en if language == "en" else _openings_zh
    one = "个" if agent.coco == "person" else "只"
    state = openings(a, b, obj, same_group, one)[event.kind] if language == "zh" else \
        openings(a, b, obj, same_group)[event.kind]
    taken = {agent.head, other.head if other is not None else "", obj_mention.head if obj_mention is not None else "",
             *(m.head for m in event.agents)}
    others = [_inline(m.phrase) if language == "en" else m.phrase for m in introducing
              if m.head not in taken and m.coco is not None]
    if others:
        state += (", with " + join_phrases(others, "en")) if language == "en" else ("，旁边有" + join_phrases(others, "zh"))
    return sentence(state) if language == "en" else state


def _inline(phrase: str) -> str:
    first, _, rest = phrase.partition(" ")
    acronym = first.isupper() and len(first) > 1  # "SUV" stays; "A yellow taxi" inside a sentence is "a yellow taxi"
    return first.lower() + (" " + rest if rest else "") if first[:1].isupper() and not acronym else phrase


def _openings_en(a: str, b: str, obj: str, same_group: bool) -> dict[str, str]:
    return {
        "handover": (f"{a}, one of them holding {obj}" if same_group and obj else
                     f"{a} holding {obj}, {b} nearby" if obj and b else f"{a} and {b} facing each other"),
        "approach": f"{a} and {b} some distance apart",
        "contact": f"{a} and {b} close to each other" if b else f"{a} close to each other",
        "enter": f"{a} just outside {b or 'the frame'}",
        "leave": f"{a} inside {b or 'the frame'}",
    }


def _openings_zh(a: str, b: str, obj: str, same_group: bool, one: str = "只") -> dict[str, str]:
    return {
        "handover": (f"{a}，其中一{one}拿着{obj}" if same_group and obj else
                     f"{a}拿着{obj}，{b}在旁边" if obj and b else f"{a}和{b}面对面"),
        "approach": f"{a}和{b}相隔一段距离",
        "contact": f"{a}和{b}挨得很近" if b else f"{a}挨得很近",
        "enter": f"{a}在{b or '画面'}外",
        "leave": f"{a}在{b or '画面'}中",
    }


def describe_outcome(event: Event | None, actions: list[str], language: Language) -> str:
    """How the interaction ends, where the interaction itself says it (a hand-over ends with
    the other holding the thing; an approach next to them); otherwise the last action, so no
    outcome is invented ("两个女孩贴在一起" after a volleyball pass)."""
    if event is None or not event.agents or event.kind == "contact":
        return actions[-1] if actions else ""
    agent_mention, other_mention, obj_mention = participants(event)
    if event.kind == "handover" and (other_mention is None or other_mention.head == agent_mention.head
                                     and agent_mention.member is False):
        return actions[-1] if actions else ""  # passed back and forth: no one ends up with it
    agent = agent_mention.phrase
    other = other_mention.phrase if other_mention is not None else ""
    obj = obj_mention.phrase if obj_mention is not None else ""
    together = event.kind in ("enter", "leave") and len(event.agents) > 1  # "a bride and groom walk out"
    if together and language == "zh":
        agent = join_phrases([m.phrase for m in event.agents], "zh")
    if language == "en":
        agent, other, obj = definite_phrase(agent, "en"), definite_phrase(other, "en") if other else "", \
            definite_phrase(obj, "en") if obj else ""
        if together:
            agent = join_phrases([definite_phrase(m.phrase, "en") for m in event.agents], "en")
        plural = agent_mention.count != 1 or len(event.agents) > 1
        endings = _endings_en(agent, other, obj)
        ending = endings[event.kind]
        if plural:
            ending = ending.replace(" is ", " are ", 1).replace(" has left", " have left", 1)
        if other_mention is not None and other_mention.count != 1 and event.kind == "handover":
            ending = ending.replace(" has ", " have ", 1)
        return sentence(ending)
    return _endings_zh(agent, other, obj)[event.kind]


def _endings_en(agent: str, other: str, obj: str) -> dict[str, str]:
    return {
        "handover": f"{other} has {obj}" if other and obj else f"{other or 'the other'} has received it",
        "approach": f"{agent} is right next to {other}",
        "contact": f"{agent} and {other} are touching" if other else f"{agent} are touching",
        "enter": f"{agent} is inside {other or 'the frame'}",
        "leave": f"{agent} has left {other or 'the frame'}",
    }


def _endings_zh(agent: str, other: str, obj: str) -> dict[str, str]:
    return {
        "handover": f"{other or '另一方'}拿到了{obj or '东西'}",
        "approach": f"{agent}来到{other}身边",
        "contact": f"{agent}和{other}贴在一起" if other else f"{agent}贴在一起",
        "enter": f"{agent}进入了{other or '画面'}",
        "leave": f"{agent}离开了{other or '画面'}",
    }
