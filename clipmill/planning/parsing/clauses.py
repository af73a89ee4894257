"""Clauses: the prompt cut into steps ("..., then ...", "，然后"), and whether a clause has a verb
(an action) or not (a state: "a dog on a sofa")."""
from __future__ import annotations

import re

from clipmill.planning.language import WORD_RE, Language
from clipmill.planning.lexicon import (
    ADJECTIVES_EN,
    NEEDS_DETERMINER_EN,
    DEFINITE_EN,
    NUMBERS_EN,
    VERB_CHARS_ZH,
    VERB_FORMS_EN,
    lexicon_en,
    lexicon_words,
    lexicon_zh,
)
from clipmill.planning.lexicon.shot_words import KNOWN_LABELS, LABEL_RE
from clipmill.planning.parsing.records import Clause

_CLAUSE_SPLIT_EN = re.compile(
    r"(?:[.!?;:]+(?:\s+|$)|\n+|\s*,?\s*\b(?:and then|then|after that|afterwards|next|finally|eventually|"
    r"in the end|at last|until|so that|before)\b,?\s*|,\s*)",
    re.IGNORECASE,
)
_OUTCOME_MARKERS_EN = re.compile(r"\b(finally|eventually|in the end|at last|until|so that)\b", re.IGNORECASE)
_CLAUSE_SPLIT_ZH = re.compile(r"(?:[，,。！？!?；;\n]+|然后|接着|随后|之后|最后|最终|直到|并且|于是)")
_OUTCOME_MARKERS_ZH = re.compile(r"(最后|最终|直到|于是)")
_AND_RE = re.compile(r"\s+and\s+(?=([A-Za-z]+))")
_OBJECT_STARTS_EN = DEFINITE_EN | {"a", "an", "it", "them", "him", "up", "down", "out", "off", "away", "in", "on",
                                   "into", "onto", "through", "over", "across", "around", "to", "toward", "towards",
                                   "at", "with", "from", "by", "for", "past", "along", "behind", "under", "back"}
_SUBJECT_STARTS_EN = DEFINITE_EN | {"a", "an", "he", "she", "they", "it"} | set(NUMBERS_EN)


_SEQUENCE_MARKERS = re.compile(r"\b(?:then|after that|afterwards|next|finally|eventually|in the end|at last)\b|"
                               r"然后|接着|随后|之后|最后|最终|于是", re.I)
_SHOT_OF_EN = re.compile(
    r"\s*(?P<shot>(?:(?:an?|the)\s+)?(?:[\w'-]+\s+){0,3}?(?:shot|close-?up|closeup|view|footage|macro|time-?lapse|"
    r"slow[- ]motion|video|clip|portrait|pov)s?)\s+of\s+(?=\S)", re.I)
_SENTENCE_END = {"en": re.compile(r"[.!?;]+(?=\s|$)|\n+"), "zh": re.compile(r"[。！？!?；;\n]+")}


def split_clauses(text: str, language: Language) -> list[Clause]:
    """The prompt's steps in order. A labelled sentence ("Setting: a clean, minimal studio",
    "开场钩子：...") stays one clause; an English clause that opens on a participle ("...,
    revealing its shape") belongs to the clause before it."""
    clauses: list[Clause] = []
    position, outcome_next = 0, False
    for end_mark in list(_SENTENCE_END[language].finditer(text)) + [None]:
        end = end_mark.start() if end_mark else len(text)
        sentence = text[position:end]
        label = LABEL_RE.match(sentence)
        name = label.group("label").strip().lower() if label else ""
        if label and name in KNOWN_LABELS:
            lead = len(sentence) - len(sentence.lstrip())
            clauses.append(Clause(position + lead, position + len(sentence.rstrip()), sentence.strip(), False,
                                  label=name))
        elif label:  # "Product shot: a matte bottle ...": the framing, then the shot
            clauses.append(Clause(position + label.start("label"), position + label.end("label"),
                                  label.group("label").strip(), False, label="framing"))
            outcome_next = _split_sentence(text, position + label.end(), end, language, clauses, outcome_next)
        else:
            outcome_next = _split_sentence(text, position, end, language, clauses, outcome_next)
        if end_mark is None:
            break
        position = end_mark.end()
    if language == "en":
        clauses = _join_participles(text, _split_on_and_verb(clauses))
    return clauses


def _split_sentence(text: str, start: int, stop: int, language: Language, clauses: list[Clause],
                    outcome_next: bool) -> bool:
    splitter = _CLAUSE_SPLIT_EN if language == "en" else _CLAUSE_SPLIT_ZH
    markers = _OUTCOME_MARKERS_EN if language == "en" else _OUTCOME_MARKERS_ZH
    position, sequence_next = start, False
    for separator in list(splitter.finditer(text, start, stop)) + [None]:
        end = separator.start() if separator else stop
        piece = text[position:end]
        if language == "en":
            joiner = re.match(r"\s*(?:and|but|while)\s+", piece, re.I)  # ", and poses": the comma did the splitting
            if joiner and position > start:
                position, piece = position + joiner.end(), piece[joiner.end() :]
            shot = _SHOT_OF_EN.match(piece)
            if shot:  # "Close-up of a hand applying serum": the framing, then what it frames
                lead = len(piece) - len(piece.lstrip())
                clauses.append(Clause(position + lead, position + shot.end("shot"), shot.group("shot").strip(), False))
                position, piece = position + shot.end(), piece[shot.end() :]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            clauses.append(Clause(position + lead, position + len(piece.rstrip()), piece.strip(), outcome_next,
                                  after_then=position > start, sequence=sequence_next))
            outcome_next = False
        if separator is None:
            break
        outcome_next = outcome_next or bool(markers.search(separator.group(0)))
        sequence_next = bool(_SEQUENCE_MARKERS.search(separator.group(0)))
        position = separator.end()
    return outcome_next


def _join_participles(text: str, clauses: list[Clause]) -> list[Clause]:
    """"The camera orbits the bottle, revealing its label": one step, not two."""
    joined: list[Clause] = []
    for clause in clauses:
        first = clause.text.split()[0].lower() if clause.text.split() else ""
        separator = text[joined[-1].end : clause.start] if joined else ""
        participle = first.endswith("ing") and first not in lexicon_words() and _has_verb_en(joined[-1].text) \
            if joined else False
        # "revealing its shape, texture and finish": the end of a list, not a step
        list_end = bool(re.fullmatch(r"[\w'-]+(?:\s+[\w'-]+)?\s+(?:and|or)\s+[\w'-]+(?:\s+[\w'-]+)?", clause.text)) \
            and not _has_verb_en(clause.text)
        if joined and not joined[-1].label and (participle or list_end) and separator.strip() == ",":
            previous = joined[-1]
            joined[-1] = Clause(previous.start, clause.end, text[previous.start : clause.end], previous.outcome_marker,
                                after_then=previous.after_then)
        else:
            joined.append(clause)
    return joined


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
    rest = text[match.end():].split()
    looks_like_verb = following.endswith("s") and not following.endswith("ss") and (following,) not in lexicon_en() \
        and len(rest) > 1 and rest[1].lower() in _OBJECT_STARTS_EN | {"both", "his", "her", "their", "its"}
    entry = lexicon_en().get((following,))
    verb_noun = entry is not None and entry.head in NEEDS_DETERMINER_EN  # "and watches it swim"
    return following in VERB_FORMS_EN and (following not in lexicon_words() or verb_noun) or new_subject \
        or looks_like_verb


def _has_verb_en(text: str) -> bool:
    words = [w.lower() for w in WORD_RE.findall(text)]
    nouns = lexicon_words()
    for previous, word, following in zip([""] + words, words, words[1:] + [""]):
        if word in nouns and previous in set(NUMBERS_EN) or (word in nouns or word in VERB_FORMS_EN
                                                             or word.endswith("ing")) and (
                previous in DEFINITE_EN | {"a", "an"} or previous in ADJECTIVES_EN):
            continue  # "a skateboard", "a white display pedestal": nouns here, whatever else they can be
        if word in ADJECTIVES_EN and following not in _OBJECT_STARTS_EN:
            continue  # "slow 360 rotation", "clean reflections": describing words, not "clean the table"
        if _noun_phrase_head(words, word, previous, following):
            continue  # "on a concrete block": the end of a noun phrase, not a verb
        if word in VERB_FORMS_EN or (len(word) > 4 and word.endswith("ing") and word not in nouns):
            return True
    # Verbs outside the list still show by position: "it wakes", "the cat yawns".
    return any(
        previous in ("he", "she", "it", "they") or (previous in nouns and word.endswith("s") and not word.endswith("ss")
                                                    and (word,) not in lexicon_en())
        for previous, word in zip(words, words[1:])
    )


def _noun_phrase_head(words: list[str], word: str, previous: str, following: str) -> bool:
    if word not in VERB_FORMS_EN or word.endswith(("s", "ed", "ing")) or previous in ("he", "she", "it", "they", "i",
                                                                                     "we", "you") \
            or previous in lexicon_words() or following not in ("",) + tuple(_OBJECT_STARTS_EN - DEFINITE_EN):
        return False
    k = words.index(word)
    return any(w in ("a", "an", "the") for w in words[max(0, k - 3) : k])


def first_verb_position(text: str, language: Language) -> int:
    if language == "zh":
        found = VERB_CHARS_ZH.search(without_nouns_zh(text))
        return found.start() if found else len(text)
    for word in WORD_RE.finditer(text):
        if word.group(0).lower() in VERB_FORMS_EN and word.group(0).lower() not in lexicon_words():
            return word.start()
    return len(text)


# A Chinese verb shows by its shape where the word is not in the list: an aspect marker after a
# character ("趴着", "抢了"), or a character before a counted object ("抢一根木棍").
_VERB_SHAPE_ZH = re.compile(r"[上下](?:车|楼|山|船|飞机|棋|象棋|围棋|跳棋|五子棋|雨|雪|来|去|台)|[\u4e00-\u9fff](?:着|了|过)(?!来|去)|(?<![一两三四五六七八九十几的])[\u4e00-\u9fff]"
                            r"(?:[一两三四五六七八九十几][只个位名条头匹辆架艘把张本瓶杯台部颗根双对群块件盆棵枚支片座朵])")


def has_verb(text: str, language: Language) -> bool:
    if language == "en":
        return _has_verb_en(text)
    masked = without_nouns_zh(text)
    return bool(VERB_CHARS_ZH.search(masked) or _VERB_SHAPE_ZH.search(masked) or _GAME_VERBS_ZH.search(text))


# "下象棋", "打麻将": the verb is a game's own, and the game is a noun the masking blanks; and
# two-character verbs none of whose characters is a verb alone ("散步", "聊天", "发呆")
_GAME_VERBS_ZH = re.compile(r"下(?:象棋|围棋|跳棋|五子棋|国际象棋|军棋)|打(?:牌|麻将|扑克)|散步|聊天|逛街|购物|约会|野餐|"
                            r"露营|健身|学习|工作|休息|思考|发呆|等待|等候|排队|打扮|化妆|试穿|自拍|直播|起床|上班|"
                            r"下班|放学|比赛|表演|训练|练习|锻炼|合影|合照|庆祝|漫步|徘徊|眺望|凝视|沉思|冥想|祈祷|"
                            r"鼓掌|欢呼|招手|点头|摇头|打盹|遛狗|遛弯|兜风|赛跑|嬉戏|玩耍|打闹|奔跑|飞翔|觅食|"
                            r"揉面团|揉面|和面|包(?:饺子|粽子|花束|礼物|包装|馄饨)|等(?:着|待|候|人|车|主人|公交|他|她|你|妈妈|爸爸)")


def without_nouns_zh(text: str) -> str:
    """The text with the lexicon's nouns blanked out, so "拉面" (noodles) shows no verb 拉."""
    lexicon = lexicon_zh()
    longest = max(len(word) for word in lexicon)
    lowered, pieces, i = text.lower(), [], 0
    while i < len(text):
        for length in range(min(longest, len(text) - i), 0, -1):
            if lowered[i : i + length] in lexicon:
                # a noun is blanked; a word that only contains one ("上车", "干杯") stays as written
                pieces.append("□" * length if lexicon[lowered[i : i + length]] is not None else text[i : i + length])
                i += length
                break
        else:
            pieces.append(text[i])
            i += 1
    return "".join(pieces)


# Words that open a clause as its noun when a verb follows ("light sweeps", "water splashes").
_NOUN_OR_VERB_EN = {"light", "steam", "smoke", "water", "rain", "snow", "mist", "fog", "sunlight", "foam", "wind",
                    "dust", "sand", "fire", "ice", "milk", "coffee", "juice", "paint", "glitter", "petals", "bubbles"}


def starts_with_verb_en(text: str) -> bool:
    """"slides the cup to a customer": a clause that opens on its verb (the subject carried)."""
    words = [w.lower() for w in WORD_RE.findall(text)]
    while len(words) > 1 and (words[0].endswith("ly") and words[0] not in ("only", "family", "lily", "fly", "belly")
                              or words[0] in ("then", "again", "still", "also", "just", "finally", "soon")):
        words = words[1:]  # "suddenly jumps off": the adverb before the verb
    if not words:
        return False
    first = words[0]
    if first in ADJECTIVES_EN and (len(words) < 2 or words[1] not in _OBJECT_STARTS_EN):
        return False  # "slow 360 rotation"
    if len(words) > 1 and words[1].endswith("ing") and words[1] not in lexicon_words():
        return False  # "smoke pouring from its tires": a noun, then its verb
    if len(words) > 1 and first in _NOUN_OR_VERB_EN and words[1] not in _OBJECT_STARTS_EN:
        return False  # "light sweeps across them", "water droplets bounce": a noun, not "water the plants"
    entry = lexicon_en().get((first,))
    if first in VERB_FORMS_EN and (entry is None or entry.head in NEEDS_DETERMINER_EN
                                   and not (len(words) > 1 and words[1] in VERB_FORMS_EN
                                            and words[1] not in _OBJECT_STARTS_EN)):
        return True  # "slides the cup", "hands a cup to a woman" (but "hands open a box": hands are the subject)
    # "slides the cup", "gasps": an unknown -s/-ed word before an object or alone; "marshmallows
    # melting" is a noun before its own verb
    if len(words) == 1:
        return False  # "reflections", "gasps": one unknown word is too little to call it a verb
    follows_object = words[1] in _OBJECT_STARTS_EN or words[1].endswith("ly")
    return first.endswith(("s", "ed")) and not first.endswith("ss") and (first,) not in lexicon_en() \
        and first not in _SUBJECT_STARTS_EN and follows_object
