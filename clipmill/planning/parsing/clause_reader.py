"""Reading a clause: which rules match, who does what to whom, and who the agent is, carrying
the subject across clauses ("runs to the dog and hugs it": the boy hugs)."""
from __future__ import annotations

import re

from clipmill.planning.language import Language
from clipmill.planning.parsing.clause_roles import opens_with, starts_with_verb
from clipmill.planning.parsing.clauses import first_verb_position, has_verb
from clipmill.planning.parsing.frames import FRAMES, FrameMatch
from clipmill.planning.parsing.interaction_rules import GROUP_MEMBER_RE, GROUP_PRONOUNS, PRONOUN_RE, RULES_EN, RULES_ZH
from clipmill.planning.parsing.records import Clause, Event, Mention

_PASSIVE_EN = re.compile(r"\b(?:is|are|was|were|being|been|gets|get|got)\s+(?:\w+ly\s+)?\w+(?:ed|en|wn|ried|ght|ld)\b",
                         re.I)
_AND_WORDS = ("and", "&", "和", "与", "跟", "同", "以及")


class ClauseReader:
    """Finds who does what to whom in each clause, carrying the subject across clauses
    ("runs to the dog and hugs it": the boy hugs)."""

    def __init__(self, text: str, language: Language, mentions: list[Mention]):
        self.text, self.language, self.mentions = text, language, mentions
        self.rules = RULES_EN if language == "en" else RULES_ZH
        self.previous_agents: list[Mention] = []

    def read(self, index: int, clause: Clause) -> tuple[list[Event], list[Mention]]:
        inside = [m for m in self.mentions if clause.start <= m.start and m.end <= clause.end and not m.negated]
        events, taken = self._events(clause, inside)
        for event in events:
            event.clause = index
        # "一瓶香槟被打开": the champagne is the subject; its bottle is counted, not named
        named = [m for m in inside if not m.counted_only]
        agents = self._agents(clause, named, min((s for s, _ in taken), default=clause.end))
        by = self._passive_agent(clause, inside)
        for event in events:
            if by is not None and agents:
                # "a puppy is carried out of a car by a little girl": the girl carries the puppy
                event.agents, event.patient = [by], agents[0]
            elif not event.agents:
                event.agents = agents
        if agents:
            self.previous_agents = agents
        return events, agents

    def _events(self, clause: Clause, inside: list[Mention]) -> tuple[list[Event], list[tuple[int, int]]]:
        """Every rule match that fits its frame, a span of text read by one rule only."""
        events: list[Event] = []
        taken: list[tuple[int, int]] = []
        for kind, priority, pattern, frame in self.rules:
            for match in pattern.finditer(clause.text):
                span = (clause.start + match.start(), clause.start + match.end())
                if any(s < span[1] and span[0] < e for s, e in taken):
                    continue
                if any(m.start <= span[0] < m.end for m in inside):
                    continue  # the "递" in "快递员" is part of a noun
                earlier = [m for m in self.mentions if m.end <= clause.start and not m.negated]
                found = FrameMatch(kind, priority, match, clause, self.text, inside, self._pronoun_after, earlier)
                event = FRAMES[frame](found)
                if event is not None:
                    events.append(event)
                    taken.append(span)
        return events, taken

    def _agents(self, clause: Clause, inside: list[Mention], verb_start: int) -> list[Mention]:
        described = self._described_head_zh(clause, inside) if self.language == "zh" else None
        if described is not None:
            return [described]
        masked = list(clause.text)
        for m in inside:  # a verb-looking character inside a noun ("外卖小哥") is no verb
            for k in range(max(0, m.start - clause.start), min(len(masked), m.end - clause.start)):
                masked[k] = "□" if self.language == "zh" else masked[k]
        verb_start = min(verb_start, clause.start + first_verb_position("".join(masked), self.language))
        before = [m for m in inside if m.end <= verb_start]
        verb_first = starts_with_verb(clause.text, self.language)
        if before and not before[0].pronoun and opens_with(clause, before[0], self.language) and not verb_first:
            group = [before[0]]
            for mention in before[1:]:
                if self.text[group[-1].end : mention.start].strip().lower() in _AND_WORDS:
                    group.append(mention)
            return group
        member = GROUP_MEMBER_RE[self.language].match(clause.text)
        plural_before = [m for m in self.mentions if m.end <= clause.start and (m.count or 2) >= 2 and not m.negated]
        if member and plural_before:
            group = plural_before[-1]
            written = member.group(0)
            phrase = written + group.head if self.language == "zh" else f"{written} {group.head}"
            return [Mention(clause.start, clause.start + member.end(), phrase, group.head, group.coco,
                            1, another=True, member=True)]
        return list(self.previous_agents)

    def _described_head_zh(self, clause: Clause, inside: list[Mention]) -> Mention | None:
        """"一个背着书包的小男孩跑进学校": the boy, described by a clause ending in 的, is the subject."""
        for mark in re.finditer("的", clause.text[:16]):
            head = next((m for m in inside if m.start == clause.start + mark.end()), None)
            if head is None:
                continue
            prefix = clause.text[: mark.start()]
            opening = [m for m in inside if m.end <= clause.start + mark.start() and m.head not in ("手", "hand")]
            if opening and opens_with(clause, opening[0], self.language):
                return None  # "一位厨师把刚出炉的面包…": the chef is the subject
            if has_verb(prefix, "zh") and not re.search(r"[把被给在，]", prefix):
                return head
        return None

    def _passive_agent(self, clause: Clause, inside: list[Mention]) -> Mention | None:
        """Who does it in a passive clause ("... is carried ... by a girl", "被主人抱在怀里")."""
        if self.language == "en":
            if not _PASSIVE_EN.search(clause.text):
                return None
            by = re.search(r"\bby\s+", clause.text)
        else:
            by = re.search(r"被", clause.text)
        if by is None:
            return None
        start = clause.start + by.end()
        return next((m for m in inside if start <= m.start <= start + 4 and not m.pronoun), None)

    def _pronoun_after(self, start: int, end: int) -> Mention | None:
        """What a pronoun in [start, end) stands for: a group, or the latest fitting mention
        that is not the current agent ("hugs her": the mother, not the girl)."""
        found = PRONOUN_RE[self.language].search(self.text, start, end)
        if not found:
            return None
        word = found.group(0).lower()
        if word in GROUP_PRONOUNS:
            return Mention(found.start(), found.end(), word, "group", None, None, pronoun=True)
        agents = {id(a) for a in self.previous_agents}
        earlier = [m for m in self.mentions if m.end <= start and id(m) not in agents and not m.pronoun
                   and not m.negated]
        wants_person = word in ("him", "her", "他", "她")
        for mention in reversed(earlier):
            if (mention.coco == "person") == wants_person:
                return mention
        return earlier[-1] if earlier else None
