"""Wording helpers: articles, sentence case, lists, and actions cut to stand on their own."""
from __future__ import annotations

import re

from clipmill.planning.language import Language
from clipmill.planning.lexicon import DEFINITE_EN, NUMBERS_EN
from clipmill.planning.parsing import GROUP_MEMBER_RE, Clause, Mention

_SUBJECT_WORDS_EN = ("he", "she", "it", "they", "the", "a", "an", "one", "another")


def definite_phrase(phrase: str, language: Language) -> str:
    """"A brown dog" -> "the brown dog" (English; Chinese is left as written)."""
    if language == "zh":
        return phrase
    words = phrase.split()
    if words and words[0][:1].isupper() and not words[0].isupper():
        words[0] = words[0].lower()
    if words and words[0].lower() in ("a", "an", "one", "another", "some"):
        words = words[1:]
    if words and words[0].lower() in DEFINITE_EN:
        return " ".join(words)
    return "the " + " ".join(words)


def bare_phrase(phrase: str, language: Language) -> str:
    return definite_phrase(phrase, language).removeprefix("the ") if language == "en" else phrase


def sentence(text: str) -> str:
    text = text.strip().strip(",;，；").strip()
    return text[:1].upper() + text[1:] if text else text


def join_phrases(phrases: list[str], language: Language) -> str:
    if language == "zh":
        return "和".join(phrases[:2]) + ("、" + "、".join(phrases[2:]) if phrases[2:] else "")
    if len(phrases) <= 2:
        return " and ".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def clean_action(clause: Clause, cut_spans: list[tuple[int, int]], language: Language) -> str:
    """The clause with the static place phrases inside it cut out ("runs in the park" -> "runs")."""
    pieces, position = [], clause.start
    for start, end in sorted(cut_spans):
        if clause.start <= start and end <= clause.end:
            pieces.append(_text_of(clause, position, start))
            position = end
    pieces.append(_text_of(clause, position, clause.end))
    text = "".join(pieces)
    text = re.sub(r"\s+", " ", text).strip(" ,;，；") if language == "en" else text.replace(" ", "").strip("，；")
    if language == "en":  # "a room full of balloons but [no people]"
        text = re.sub(r"(?:\s+(?:but|and|or|with|yet))+$", "", text, flags=re.I)
    return text


def _text_of(clause: Clause, start: int, end: int) -> str:
    return clause.text[start - clause.start : end - clause.start]


def with_subject(action: str, agents: list[Mention], clause_has_subject: bool, language: Language) -> str:
    """Give a verb-first action its subject back, so a segment prompt stands on its own."""
    if not agents or not action:
        return action
    agent = agents[0]
    member = GROUP_MEMBER_RE[language].match(action)
    if member and agent.member:
        return _with_group_member(action, member, agent, language)
    if clause_has_subject:
        return action
    if language == "en":
        first = action.split()[0].lower()
        if first in _SUBJECT_WORDS_EN:
            return action
        if agent.pronoun:  # "then it knocks a cup over and runs away": it runs away
            return f"{agent.phrase.lower()} {action}" if agent.phrase.lower() in ("it", "he", "she", "they") else action
        return f"{definite_phrase(' and '.join(a.phrase for a in agents), 'en')} {action}"
    if re.match(r"^[它他她]", action):
        return action
    if len(agents) > 1 and all(not a.pronoun for a in agents):
        return "和".join(a.head for a in agents) + action  # "主持人和嘉宾坐下聊天"
    return agent.head + action


def _with_group_member(action: str, member: re.Match, agent: Mention, language: Language) -> str:
    """"one throws" -> "one bear throws", "另一只接过" -> "另一只小熊接过"."""
    rest = action[member.end() :]
    if language == "zh" and not rest.startswith(agent.head):
        return member.group(0) + agent.head + rest
    if language == "en" and not rest.strip().lower().startswith(agent.head):
        return f"{member.group(0)} {agent.head}{rest}"
    return action


def starts_with_subject(clause_text: str, language: Language) -> bool:
    if language == "en":
        first = clause_text.split()[0].lower() if clause_text.split() else ""
        return first in ("he", "she", "it", "they", "we", "i", "you", "the", "a", "an", "one", "another") \
            or first in NUMBERS_EN
    return bool(re.match(r"^(?:[它他她我你]|另一|其中一)", clause_text))
