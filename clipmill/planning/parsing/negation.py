"""Absence: "without a dog", "no people", "没有狗", "空无一人". The mentions a negation reaches
are marked `negated` (QA must not expect them; the plan lists their classes as absent), and the
spans to cut from the generator prompt are returned, since "no dog" in a prompt tends to bring
a dog; the plan names them in the negative prompt instead."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from clipmill.planning.language import WORD_RE, Language
from clipmill.planning.lexicon import VERB_CHARS_ZH, VERB_FORMS_EN
from clipmill.planning.lexicon.negation import (
    AFTER_NEGATION_EN,
    AFTER_NEGATION_ZH,
    EMPTY_PLACE_EN,
    NEGATION_EN,
    NEGATION_ZH,
    NOBODY_EN,
    NOBODY_ZH,
    SCOPE_END_EN,
)
from clipmill.planning.parsing.records import Mention

_CLAUSE_END = re.compile(r"[,.;:!?，。；：！？\n]")


@dataclass
class Absence:
    cut_spans: list[tuple[int, int]] = field(default_factory=list)  # cut from the generator prompt
    negated_words: list[str] = field(default_factory=list)  # for the negative prompt, as written
    nobody: bool = False  # "nobody", "无人": no person, with no noun to mark
    nobody_words: list[str] = field(default_factory=list)  # the words that said so, as written


def find_absence(text: str, language: Language, mentions: list[Mention]) -> Absence:
    """Mark the mentions a negation reaches as negated; what to cut and what is absent."""
    absence = Absence()
    negation = NEGATION_EN if language == "en" else NEGATION_ZH
    action_starts = [start for start, _, _ in negated_action_spans(text, language, mentions)]
    for found in negation.finditer(text):
        if any(start <= found.start() < start + 4 for start in action_starts):
            continue  # "没有看手机", "without looking at his phone": an action not done, nothing absent
        end = _scope_end_en(text, found.end()) if language == "en" else _scope_end_zh(text, found.end(), mentions)
        # "not a single person": the mention may open inside the negation's own words
        reached = [m for m in mentions if found.start() <= m.start and found.end() < m.end <= end]
        for mention in reached:
            mention.negated = True
            absence.negated_words.append(_bare(mention, language))
        if not reached:
            if _starts_clause(text, found.start()) or _after_frame_words(text, found.start()):
                # "不要出现任何文字", "no text, no watermark": an instruction for the negative prompt
                clause_end = _scope_end_zh(text, found.end())
                said = text[found.end() : clause_end].strip()
                what = re.sub(r"^(?:任何|其他|any|other)\s*", "", said, flags=re.I)
                if what and len(what) <= 24:
                    if not _ELSE_RE.match(said):  # "没有其他人": nobody else; the negative prompt must not say 人
                        absence.negated_words.append(what)
                    absence.cut_spans.append((_frame_words_start(text, found.start()), clause_end))
            continue
        if language == "en" or not text[reached[-1].end : reached[-1].end + 1] == "的":
            # "空无一人的街道" describes the place: it stays; "没有狗" is cut
            start, stop = found.start(), max(m.end for m in reached) if language == "en" else end
            if language == "en" and _starts_clause(text, start):
                stop = _scope_end_zh(text, start)  # "..., no dogs around": the whole clause goes
            absence.cut_spans.append((start, stop))
    after = AFTER_NEGATION_EN if language == "en" else AFTER_NEGATION_ZH
    for found in after.finditer(text):
        before = [m for m in mentions if m.end <= found.start() and not _CLAUSE_END.search(text, m.end, found.start())]
        if before:
            before[-1].negated = True
            absence.negated_words.append(_bare(before[-1], language))
            absence.cut_spans.append((before[-1].start, found.end()))
    nobody = NOBODY_EN if language == "en" else NOBODY_ZH
    for found in nobody.finditer(text):
        absence.nobody = True
        absence.nobody_words.append(found.group(0))
        for mention in mentions:
            if found.start() <= mention.start and mention.end <= found.end() + 1:
                mention.negated = True
        if language == "en" or not text[found.end() : found.end() + 1] == "的":
            absence.cut_spans.append(found.span())
        absence.negated_words.append("people" if language == "en" else "人")
    if language == "en" and not any(m.coco == "person" and not m.negated for m in mentions) \
            and not _PERSON_PRONOUN_EN.search(text):
        for found in EMPTY_PLACE_EN.finditer(text):  # "an empty gym": the place stays in the prompt
            absence.nobody = True
            absence.nobody_words.append(found.group(0))
            absence.negated_words.append("people")
    return absence


_PERSON_PRONOUN_EN = re.compile(r"\b(?:he|she|they|him|her|his|hers|them|their|i|we|you|someone|somebody|anyone)\b", re.I)


def _scope_end_en(text: str, start: int) -> int:
    """A negation reaches over its noun phrases and "or"/"nor" lists, up to a verb, a
    preposition or the end of the clause."""
    clause_end = _CLAUSE_END.search(text, start)
    limit = clause_end.start() if clause_end else len(text)
    for word in WORD_RE.finditer(text, start, limit):
        lowered = word.group(0).lower()
        if lowered in ("or", "nor", "other", "any", "a", "an", "the"):
            continue
        if lowered in SCOPE_END_EN or (lowered in VERB_FORMS_EN and word.start() > start + 1
                                       and not lowered.endswith("ed")):
            return word.start()
    return limit


_ELSE_RE = re.compile(r"(?:其他|其余|别的|另外的)|(?:any\s*one|any\s*body|any)\s+else|other\s+(?:people|persons)", re.I)
_FRAME_WORDS_RE = re.compile(r"(?:画面|镜头|背景|周围|四周|旁边|身边)(?:里|中|内|上)?$")


def _after_frame_words(text: str, position: int) -> bool:
    """"画面里没有其他人": only a word for the frame stands before the negation in its clause."""
    found = _FRAME_WORDS_RE.search(text[:position])
    return found is not None and _starts_clause(text, found.start())


def _frame_words_start(text: str, position: int) -> int:
    found = _FRAME_WORDS_RE.search(text[:position])
    return found.start() if found is not None and _starts_clause(text, found.start()) else position


def _starts_clause(text: str, position: int) -> bool:
    before = text[:position].rstrip()
    return not before or before[-1] in ",.;:!?，。；：！？"


def _scope_end_zh(text: str, start: int, mentions: list[Mention] | None = None) -> int:
    """To the clause end; "没有人的地铁车厢": to the 的 after the first noun (the rest is what it describes)."""
    clause_end = _CLAUSE_END.search(text, start)
    end = clause_end.start() if clause_end else len(text)
    first = next((m for m in mentions or [] if start <= m.start < end), None)
    if first is not None and text[first.end : first.end + 1] == "的":
        return first.end
    return end


def _bare(mention: Mention, language: Language) -> str:
    if language == "zh":
        return re.sub(r"^(?:[一二两三四五六七八九十\d]+[只个位名条头匹辆架艘把张本瓶杯台部颗根双对群块件])", "", mention.phrase)
    words = mention.phrase.split()
    while words and words[0].lower() in ("a", "an", "the", "any", "other", "some", "single"):
        words = words[1:]
    return " ".join(words)


# A negation that governs an action, not a thing: "does not eat it", "without looking at his phone",
# "refuses to eat the banana", "没有吹蜡烛", "不说话", "一直没有弹琴". What the action is done to may
# well be in the shot ("the pizza he does not eat"), so it is neither absent nor surely present.
_NEG_ACTION_EN = re.compile(
    r"\b(?:(?:does|do|did|is|are|was|were|can|could|will|would)\s*n[o']t|cannot|can't|won't|never|without|"
    r"refuses?\s+to|refusing\s+to|fails?\s+to|no\s+longer|not)\s+(?:(?:even|yet|once|ever|really|quite)\s+)?"
    r"(?P<verb>[a-z]+)\b", re.IGNORECASE)
_NEG_ACTION_ZH = re.compile(r"(?:并没有|却没有|一直没有|从没有|还没有|没有|没能|没|不|别|未|并未|从未|不肯|不愿|不敢)"
                            r"(?:再|去|来|敢|肯|想|会|能|要)?(?P<verb>[\u4e00-\u9fff])")
# Verbs that, negated, say a thing is absent ("不要出现狗", "没有狗"): not negated actions.
_EXISTENCE_ZH = set("有出现见在含带")
_STOP_EN = {"but", "while", "and", "as", "when", "then", "instead"}


def negated_action_spans(text: str, language: Language,
                         mentions: list[Mention] = ()) -> list[tuple[int, int, str]]:
    """(start, end, words) of each negated action, to the end of its clause (English: to a "but",
    "while", "and" too). A noun where the verb would be ("没有骑手": no rider) is no action."""
    spans = []
    noun_starts = {m.start for m in mentions}
    if language == "en":
        for found in _NEG_ACTION_EN.finditer(text):
            verb = found.group("verb").lower()
            if verb not in VERB_FORMS_EN or verb in ("a", "an", "the", "any", "one"):
                continue
            if verb in ("show", "include", "add", "have", "has") or found.start("verb") in noun_starts:
                continue  # "do not show any dogs": a thing ruled out
            clause_end = _CLAUSE_END.search(text, found.end())
            end = clause_end.start() if clause_end else len(text)
            for word in WORD_RE.finditer(text, found.end(), end):
                if word.group(0).lower() in _STOP_EN:
                    end = word.start()
                    break
            spans.append((found.start(), end, text[found.start() : end].strip()))
    else:
        for found in _NEG_ACTION_ZH.finditer(text):
            verb = found.group("verb")
            going = verb == "出" and text[found.end() : found.end() + 1] in tuple("门去来发家")  # "没有出门": an action
            if verb in _EXISTENCE_ZH and not going or not VERB_CHARS_ZH.match(verb) and verb not in "说弹吹伸理碰下上进出回离走开":
                continue
            if found.start("verb") in noun_starts:
                continue
            if text[found.start("verb") : found.start("verb") + 2] in ("人物", "任何") or verb in "人要":
                continue
            clause_end = _CLAUSE_END.search(text, found.end())
            end = clause_end.start() if clause_end else len(text)
            spans.append((found.start(), end, text[found.start() : end]))
    return spans
