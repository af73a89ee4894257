"""Event order: "before" and "after" clauses put where their events happen, not where the text
says them. "Before diving in, a swimmer adjusts her goggles" adjusts first; "a man checks his
watch after he parks his bike" parks first; "男人打开笔记本电脑之前，先喝了一口咖啡" drinks first.
"After X, Y", "Y before X", "X之后，Y" and "先X再Y" are already in order and stay."""
from __future__ import annotations

import re
from dataclasses import replace

from clipmill.planning.language import Language
from clipmill.planning.lexicon import VERB_CHARS_ZH, VERB_FORMS_EN
from clipmill.planning.parsing.records import Clause

_BEFORE_EN = re.compile(r"\bbefore\W*$", re.I)
_SENTENCE_START = re.compile(r"(?:^|[.!?;:\n])\s*$")
# "... after he parks", "... after parking", "... after reaching the top"
_AFTER_INSIDE_EN = re.compile(r"\s+after\s+(?=(?:he|she|they|it|we|i|you)\b|(?P<ing>[a-z]+ing)\b)", re.I)
_AFTER_START_EN = re.compile(r"^after\s+(?=(?:he|she|they|it|we|i|you)\b|[a-z]+ing\b)", re.I)
# "X之前", "在X以前", "出门前": a time clause; "在镜子前", "门前" are places.
_BEFORE_ZH = re.compile(r"(?:之前|以前|前)$")
_PLACE_BEFORE_ZH = re.compile(r"[门面身眼跟窗桌床镜台车店屋楼胸脚头子柜炉灶架板]前$")


def in_event_order(text: str, clauses: list[Clause], language: Language) -> list[Clause]:
    """The clauses in the order their events happen (see the module's docstring)."""
    clauses = _split_after_en(text, clauses) if language == "en" else list(clauses)
    out: list[Clause] = []
    i = 0
    while i < len(clauses):
        clause = clauses[i]
        following = clauses[i + 1] if i + 1 < len(clauses) else None
        same_sentence = following is not None and not re.search(r"[.!?;。！？；\n]", text[clause.end : following.start])
        if same_sentence and _opens_on_before(text, clause, language):
            # "Before X, Y" / "X之前，Y": Y happens first
            moved = _trimmed_zh(text, clause) if language == "zh" else clause
            out.append(replace(following, after_then=clause.after_then, sequence=False))
            out.append(replace(moved, after_then=True, sequence=False, time_clause=True, later_event=True))
            i += 2
            continue
        if language == "en" and out and _AFTER_START_EN.match(clause.text) and \
                not re.search(r"[.!?;\n]", text[out[-1].end : clause.start]):
            # "Y, after reaching the top": the after-clause happened first
            head = _AFTER_START_EN.match(clause.text).end()
            moved = replace(clause, start=clause.start + head, text=clause.text[head:])
            previous = out.pop()
            out.append(replace(moved, after_then=previous.after_then, sequence=False))
            out.append(replace(previous, after_then=True, sequence=False))
            i += 1
            continue
        if same_sentence and _opens_on_after(text, clause, language):
            clause = replace(clause, time_clause=True)  # "After the guests leave, ...": already in order
        elif language == "en" and out and (_BEFORE_EN.search(text[: clause.start]) or out[-1].later_event) and \
                not re.search(r"[.!?;\n]", text[out[-1].end : clause.start]):
            # "..., before he goes to bed", and what follows it in the sentence ("... and turns off the lamp")
            clause = replace(clause, time_clause=True, later_event=True)
        out.append(clause)
        i += 1
    return out


_AFTER_OPENING_EN = re.compile(r"^(?:after|once)\s", re.I)
_AFTER_ENDING_ZH = re.compile(r"(?:之后|以后|后)$")


def _opens_on_after(text: str, clause: Clause, language: Language) -> bool:
    """"After the guests leave, the waiter clears the table", "客人离开后，服务员……": the first clause of
    its sentence, saying what happened before the shot's action (perhaps off screen)."""
    if not _SENTENCE_START.search(text[: clause.start]) or clause.label:
        return False
    if language == "en":
        return bool(_AFTER_OPENING_EN.match(clause.text))
    return bool(_AFTER_ENDING_ZH.search(clause.text)) or text[clause.end : clause.end + 2] in ("之后", "以后")


def _opens_on_before(text: str, clause: Clause, language: Language) -> bool:
    if language == "en":
        found = _BEFORE_EN.search(text[: clause.start])
        return found is not None and bool(_SENTENCE_START.search(text[: found.start()]))
    if not _BEFORE_ZH.search(clause.text) or clause.label:
        return False
    if clause.text.endswith(("之前", "以前")):
        return True
    if "在" in clause.text[:-1] or len(clause.text) < 3:
        return False  # "在镜子前": where, not when
    # "门前" is a place, "出门前" a time: a verb before the place word makes it an event
    return not _PLACE_BEFORE_ZH.search(clause.text) or bool(VERB_CHARS_ZH.match(clause.text[-3]))


def _trimmed_zh(text: str, clause: Clause) -> Clause:
    """"在把蛋糕放进冰箱之前" -> "把蛋糕放进冰箱"."""
    start, end = clause.start, clause.end
    suffix = re.search(r"(?:之前|以前|前)$", clause.text)
    if suffix:
        end -= len(suffix.group(0))
    if text[start:end].startswith("在") and len(text[start:end]) > 2:
        start += 1
    return replace(clause, start=start, end=end, text=text[start:end])


def _split_after_en(text: str, clauses: list[Clause]) -> list[Clause]:
    """"A man checks his watch after he parks his bike" -> "he parks his bike", "A man checks his watch"."""
    out: list[Clause] = []
    for clause in clauses:
        found = _AFTER_INSIDE_EN.search(clause.text)
        if found is None or not found.start() or (found.group("ing") and found.group("ing").lower() not in VERB_FORMS_EN):
            out.append(clause)
            continue
        main = replace(clause, end=clause.start + found.start(), text=clause.text[: found.start()])
        earlier = replace(clause, start=clause.start + found.end(), text=clause.text[found.end():],
                          after_then=clause.after_then, sequence=False, outcome_marker=False)
        out.append(earlier)
        out.append(replace(main, after_then=True, sequence=False))
    return out
