"""Clauses: the prompt cut into steps ("..., then ...", "，然后"), and whether a clause has a verb
(an action) or not (a state: "a dog on a sofa")."""
from __future__ import annotations

import re

from clipmill.planning.language import WORD_RE, Language
from clipmill.planning.lexicon import DEFINITE_EN, NUMBERS_EN, VERB_CHARS_ZH, VERB_FORMS_EN, lexicon_words
from clipmill.planning.parsing.records import Clause

_CLAUSE_SPLIT_EN = re.compile(
    r"(?:[.!?;]+(?:\s+|$)|\n+|\s*,?\s*\b(?:and then|then|after that|afterwards|next|finally|eventually|"
    r"in the end|at last|until|so that|before)\b,?\s*|,\s*)",
    re.IGNORECASE,
)
_OUTCOME_MARKERS_EN = re.compile(r"\b(finally|eventually|in the end|at last|until|so that)\b", re.IGNORECASE)
_CLAUSE_SPLIT_ZH = re.compile(r"(?:[，,。！？!?；;\n]+|然后|接着|随后|之后|最后|最终|直到|并且|于是)")
_OUTCOME_MARKERS_ZH = re.compile(r"(最后|最终|直到|于是)")
_AND_RE = re.compile(r"\s+and\s+(?=([A-Za-z]+))")
_SUBJECT_STARTS_EN = DEFINITE_EN | {"a", "an", "he", "she", "they", "it"} | set(NUMBERS_EN)


def split_clauses(text: str, language: Language) -> list[Clause]:
    splitter = _CLAUSE_SPLIT_EN if language == "en" else _CLAUSE_SPLIT_ZH
    markers = _OUTCOME_MARKERS_EN if language == "en" else _OUTCOME_MARKERS_ZH
    clauses: list[Clause] = []
    position, outcome_next = 0, False
    for separator in list(splitter.finditer(text)) + [None]:
        end = separator.start() if separator else len(text)
        piece = text[position:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            clauses.append(Clause(position + lead, position + len(piece.rstrip()), piece.strip(), outcome_next))
        if separator is None:
            break
        outcome_next = bool(markers.search(separator.group(0)))
        position = separator.end()
    if language == "en":
        clauses = _split_on_and_verb(clauses)
    return clauses


def _split_on_and_verb(clauses: list[Clause]) -> list[Clause]:
    """"runs to a dog and hugs it" is two actions; "a man and a woman" is one subject."""
    result = []
    for clause in clauses:
        result.extend(_split_clause_on_and_verb(clause))
    return result


def _split_clause_on_and_verb(clause: Clause) -> list[Clause]:
    for match in _AND_RE.finditer(clause.text):
        if not _and_starts_action(clause.text, match):
            continue
        head, tail = clause.text[: match.start()], clause.text[match.end() :]
        if not _has_verb_en(head):
            continue
        cut = clause.start + match.start()
        first = Clause(clause.start, cut, head, clause.outcome_marker)
        rest = Clause(clause.start + match.end(), clause.end, tail, clause.outcome_marker)
        return [first] + _split_on_and_verb([rest])
    return [clause]


def _and_starts_action(text: str, match: re.Match) -> bool:
    """"and hugs it" (a verb) or "and the dog catches it" (a new subject with its verb)."""
    following = match.group(1).lower()
    new_subject = following in _SUBJECT_STARTS_EN and _has_verb_en(text[match.end():])
    return following in VERB_FORMS_EN and following not in lexicon_words() or new_subject


def _has_verb_en(text: str) -> bool:
    words = [w.lower() for w in WORD_RE.findall(text)]
    if any(w in VERB_FORMS_EN or (len(w) > 4 and w.endswith("ing")) for w in words):
        return True
    # Verbs outside the list still show by position: "it wakes", "the cat yawns".
    nouns = lexicon_words()
    return any(
        previous in ("he", "she", "it", "they") or (previous in nouns and word.endswith("s") and word not in nouns)
        for previous, word in zip(words, words[1:])
    )


def first_verb_position(text: str, language: Language) -> int:
    if language == "zh":
        found = VERB_CHARS_ZH.search(text)
        return found.start() if found else len(text)
    for word in WORD_RE.finditer(text):
        if word.group(0).lower() in VERB_FORMS_EN and word.group(0).lower() not in lexicon_words():
            return word.start()
    return len(text)


def has_verb(text: str, language: Language) -> bool:
    return _has_verb_en(text) if language == "en" else bool(VERB_CHARS_ZH.search(text))
