"""Prompt parsing for `clipmill.planning`: reads free text (English or Chinese) with the
word lists in `clipmill.lexicon`.

It finds the subjects (`find_mentions`: noun phrases with their COCO class and stated
count), the clauses (`split_clauses`), the location (`find_location`) and, clause by
clause, who does what to whom (`ClauseReader`, then `resolve_interaction` picks the
interaction QA checks). It returns plain records (`Mention`, `Clause`, `Event`) holding
character offsets into the text; wording the plan from them is `clipmill.planning`'s job.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from clipmill.lexicon import (
    ADJECTIVES_EN,
    ADJECTIVE_SUFFIXES,
    DEFINITE_EN,
    NEEDS_DETERMINER_EN,
    NOT_PLACES_EN,
    NUMBERS_EN,
    PAIR_NOUNS,
    PLACES_EN,
    PLACES_ZH,
    VAGUE_GROUP_NOUNS,
    VAGUE_QUANTITIES_EN,
    VERB_FORMS_EN,
    ZH_CLASSIFIERS,
    ZH_DIGITS,
    ZH_VAGUE,
    lexicon_en,
    lexicon_words,
    lexicon_zh,
)

Language = Literal["en", "zh"]


# --- mentions -----------------------------------------------------------------------------


@dataclass
class Mention:
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

    @property
    def animate(self) -> bool:
        return self.coco in _ANIMATE or self.pronoun and self.head == "person"


_ANIMATE = {"person", "bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"}
_WORD_RE = re.compile(r"[A-Za-z]+(?:[-'][A-Za-z]+)*|\d+")
_ZH_NUMERAL_RE = re.compile(
    rf"(?P<other>另一|另外一|其中一)?(?P<demonstrative>[这那该])?(?P<number>[一二两三四五六七八九十\d]+|几|数|俩|仨)?"
    rf"(?P<classifier>[{ZH_CLASSIFIERS}])"
)


def find_mentions(text: str, language: Language) -> list[Mention]:
    """Every noun phrase the lexicon knows, in text order, with its class and stated count."""
    return _mentions_en(text) if language == "en" else _mentions_zh(text)


def _mentions_en(text: str) -> list[Mention]:
    lexicon = lexicon_en()
    tokens = [(m.group(0), m.group(0).lower(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]
    lowered = [t[1].removesuffix("'s") for t in tokens]
    mentions: list[Mention] = []
    i = 0
    while i < len(tokens):
        match_len, entry = 0, None
        for length in (3, 2, 1):
            key = tuple(lowered[i : i + length])
            if len(key) == length and key in lexicon:
                match_len, entry = length, lexicon[key]
                break
        if entry is None:
            i += 1
            continue
        after = i + match_len
        # "dog bed", "orange cat", "a couple of dogs": the first word modifies what follows.
        next_is_noun = after < len(tokens) and any(
            tuple(lowered[after : after + n]) in lexicon for n in (1, 2, 3)
        ) and lowered[after] not in NEEDS_DETERMINER_EN | {"bear"}
        if next_is_noun or (after < len(tokens) and lowered[after] == "of" and entry.head in ("couple", "group")):
            i = after
            continue
        start = i
        while start > 0 and start > i - 4 and _is_adjective(lowered[start - 1]):
            start -= 1
        determiner = lowered[start - 1] if start > 0 else ""
        count: int | None = 1
        definite = another = False
        if determiner in NUMBERS_EN or determiner.isdigit() or determiner in DEFINITE_EN \
                or determiner in VAGUE_QUANTITIES_EN or determiner in ("another", "other", "each", "every"):
            start -= 1
        else:
            determiner = ""
        if entry.head.split()[-1] in NEEDS_DETERMINER_EN and not determiner:
            i = after
            continue
        preceding = lowered[max(0, start - 2) : start]
        if determiner.isdigit():
            count = int(determiner)
        elif determiner in NUMBERS_EN:
            count = NUMBERS_EN[determiner]
        elif determiner in VAGUE_QUANTITIES_EN:
            count = None
        elif determiner in DEFINITE_EN:
            definite = True
        elif determiner in ("another", "other"):
            another = True
        if preceding[-1:] == ["of"] and len(preceding) == 2:
            if preceding[0] in ("pair", "couple"):
                count = 2
            elif preceding[0] in ("group", "crowd", "bunch", "herd", "flock", "pack", "team", "family", "lot"):
                count = None
        if entry.plural and count == 1 and determiner in ("a", "an", ""):
            count = None
        if entry.plural and definite:
            count = None
        if entry.head in PAIR_NOUNS:
            count = 2 * (count or 1)
        elif entry.head in VAGUE_GROUP_NOUNS:
            count = None
        phrase_start, phrase_end = tokens[start][2], tokens[after - 1][3]
        mentions.append(Mention(phrase_start, phrase_end, text[phrase_start:phrase_end], entry.head,
                                 entry.coco, count, definite, another))
        i = after
    return mentions


def _is_adjective(word: str) -> bool:
    if word in ADJECTIVES_EN:
        return True
    return len(word) > 4 and word.endswith(ADJECTIVE_SUFFIXES) and word not in VERB_FORMS_EN \
        and word not in DEFINITE_EN and not word.endswith("ly")


def _mentions_zh(text: str) -> list[Mention]:
    lexicon = lexicon_zh()
    longest = max(len(word) for word in lexicon)
    mentions: list[Mention] = []
    i = 0
    while i < len(text):
        for length in range(min(longest, len(text) - i), 0, -1):
            word = text[i : i + length]
            if word in lexicon:
                break
        else:
            i += 1
            continue
        entry = lexicon[word]
        end = i + length
        if entry is None:
            i = end
            continue
        plural = text[end : end + 1] == "们"
        if plural:
            end += 1
        boundary = max([m.end for m in mentions] + [_last_break(text, i)])
        start, count, definite, another = i, (None if plural or entry.plural else 1), False, False
        before = text[boundary:i]
        numeral = None
        for numeral in _ZH_NUMERAL_RE.finditer(before):
            pass
        if numeral is not None and (numeral.group("number") or numeral.group("demonstrative")
                                    or numeral.group("other")) and _adjective_gap_zh(before[numeral.end():]):
            start = boundary + numeral.start()
            number = numeral.group("number")
            if numeral.group("other"):
                another, count = True, 1
            elif numeral.group("demonstrative"):
                definite = True
            elif number:
                count = _zh_number(number)
            if numeral.group("classifier") in "对双" and entry.head not in PAIR_NOUNS and count:
                count *= 2
            if numeral.group("classifier") == "群":
                count = None
        elif re.search(r"[这那该]$", before):
            start, definite = i - 1, True
        elif (adjective := re.search(r"[^，。！？、；,.!?\s把被给向在和与跟同到从对朝往了着过是递扔抛接]{1,6}的$", before)):
            start = boundary + adjective.start()
        elif re.search(r"(?:[一二两三四五六七八九十]|俩|仨)$", before) and entry.head in ("人",):
            start, count = i - 1, _zh_number(before[-1])
        if any(before.endswith(v) for v in ZH_VAGUE) or (numeral is not None and start < i
                                                          and numeral.group("number") in ("几", "数")):
            count = None
        if entry.head in PAIR_NOUNS:
            count = 2 * (count or 1)
        elif entry.head in VAGUE_GROUP_NOUNS:
            count = None
        mentions.append(Mention(start, end, text[start:end], entry.head, entry.coco, count, definite, another))
        i = end
    return mentions


def _last_break(text: str, position: int) -> int:
    found = max(text.rfind(mark, 0, position) for mark in "，,。！？!?；;、")
    return found + 1


def _adjective_gap_zh(gap: str) -> bool:
    # Between "两只" and "小熊" only describing words fit: "棕色的", "可爱".
    if re.search(r"[把被给向在和与跟同到从对朝往了着过是递扔抛接]", gap):
        return False
    return len(gap) <= 3 or (gap.endswith("的") and len(gap) <= 8)


def _zh_number(number: str) -> int | None:
    if number.isdigit():
        return int(number)
    if number in ZH_DIGITS:
        return ZH_DIGITS[number]
    if len(number) == 2 and number[0] == "十":
        return 10 + ZH_DIGITS.get(number[1], 0)
    if len(number) == 2 and number[1] == "十":
        return ZH_DIGITS.get(number[0], 1) * 10
    return None


# --- clauses and location -----------------------------------------------------------------


@dataclass
class Clause:
    start: int
    end: int
    text: str
    outcome_marker: bool = False


_CLAUSE_SPLIT_EN = re.compile(
    r"(?:[.!?;]+(?:\s+|$)|\n+|\s*,?\s*\b(?:and then|then|after that|afterwards|next|finally|eventually|"
    r"in the end|at last|until|so that|before)\b,?\s*|,\s*)",
    re.IGNORECASE,
)
_OUTCOME_MARKERS_EN = re.compile(r"\b(finally|eventually|in the end|at last|until|so that)\b", re.IGNORECASE)
_CLAUSE_SPLIT_ZH = re.compile(r"(?:[，,。！？!?；;\n]+|然后|接着|随后|之后|最后|最终|直到|并且|于是)")
_OUTCOME_MARKERS_ZH = re.compile(r"(最后|最终|直到|于是)")


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
        pieces = [clause]
        for match in re.finditer(r"\s+and\s+(?=([A-Za-z]+))", clause.text):
            following = match.group(1).lower()
            new_subject = following in DEFINITE_EN | {"a", "an", "he", "she", "they", "it"} | set(NUMBERS_EN) \
                and _has_verb_en(clause.text[match.end():])
            if following in VERB_FORMS_EN and following not in lexicon_words() or new_subject:
                head, tail = clause.text[: match.start()], clause.text[match.end() :]
                if _has_verb_en(head):
                    cut = clause.start + match.start()
                    pieces = [Clause(clause.start, cut, head, clause.outcome_marker),
                              Clause(clause.start + match.end(), clause.end, tail, clause.outcome_marker)]
                    pieces = pieces[:1] + _split_on_and_verb(pieces[1:])
                    break
        result.extend(pieces)
    return result


def _has_verb_en(text: str) -> bool:
    words = [w.lower() for w in _WORD_RE.findall(text)]
    if any(w in VERB_FORMS_EN or (len(w) > 4 and w.endswith("ing")) for w in words):
        return True
    # Verbs outside the list still show by position: "it wakes", "the cat yawns".
    nouns = lexicon_words()
    return any(
        previous in ("he", "she", "it", "they") or (previous in nouns and word.endswith("s") and word not in nouns)
        for previous, word in zip(words, words[1:])
    )


_ZH_VERB_CHARS = re.compile(
    r"[跑走跳飞游爬坐站躺睡吃喝看望笑哭唱玩扔抛接递给拿抱亲摸推拉骑开关打踢追转摇挥拍切倒煮做画写读洗刷梳吹闻舔咬"
    r"分享展示旋滑冲奔落升降飘浮出现消失进离靠拥握举放捧啃叼挖动舞弹端送交传捡抓跃奔驶划]"
)


def _first_verb_position(text: str, language: Language) -> int:
    if language == "zh":
        found = _ZH_VERB_CHARS.search(text)
        return found.start() if found else len(text)
    for word in _WORD_RE.finditer(text):
        if word.group(0).lower() in VERB_FORMS_EN and word.group(0).lower() not in lexicon_words():
            return word.start()
    return len(text)


def has_verb(text: str, language: Language) -> bool:
    return _has_verb_en(text) if language == "en" else bool(_ZH_VERB_CHARS.search(text))


_STATIC_PREPOSITIONS_EN = "in|at|inside|on|near|by|beside|under|outside|around|within|across|through|along"


@cache
def _place_pattern_en() -> re.Pattern:
    places = sorted({p.replace("_", " ") for p in PLACES_EN.split()}, key=len, reverse=True)
    alternation = "|".join(re.escape(p) for p in places)
    # Describing words may stand before the place ("a sunny park"), but not another
    # preposition: "to a woman in the office" is a person, then a place.
    describing = rf"(?:(?!(?:{_STATIC_PREPOSITIONS_EN}|into|to|onto|over)\b)[\w'-]+\s+)"
    return re.compile(
        rf"\b(?P<prep>{_STATIC_PREPOSITIONS_EN}|into|toward|towards|to|out of|onto|over)\s+"
        rf"(?P<place>(?:(?:the|a|an|his|her|their|its|our|my)\s+)?{describing}{{0,3}}?(?:{alternation})s?"
        rf"(?:\s+(?:{alternation})s?)?)\b",  # "a restaurant kitchen", "the hotel lobby"
        re.IGNORECASE,
    )


def find_location(text: str, language: Language) -> tuple[str, list[tuple[int, int]]]:
    """The location phrase and the spans of static ("in a park") phrases safe to cut from actions."""
    return _find_location_en(text) if language == "en" else _find_location_zh(text)


_SETTING_RE = re.compile(r"\b(?:setting|scene|location|background)\s*:\s*(?P<place>[^.;\n]+)", re.IGNORECASE)
_SETTING_RE_ZH = re.compile(r"(?:场景|地点|背景)[:：](?P<place>[^。；\n]+)")


def _find_location_en(text: str) -> tuple[str, list[tuple[int, int]]]:
    setting = _SETTING_RE.search(text)
    if setting:
        return setting.group("place").strip().rstrip(","), [setting.span()]
    match = _place_pattern_en().search(text)
    if match:
        static = match.group("prep").lower() in _STATIC_PREPOSITIONS_EN.split("|")
        return match.group("place"), [match.span()] if static else []
    fallback = re.search(
        r"\b(?:in|at)\s+(?P<place>(?:the|a|an)\s+(?:[\w'-]+\s+){0,3}?(?P<head>[\w'-]+))(?=\s*(?:[,.;!?]|$))",
        text, re.IGNORECASE,
    )
    if fallback and fallback.group("head").lower() not in NOT_PLACES_EN \
            and tuple([fallback.group("head").lower()]) not in lexicon_en():
        return fallback.group("place"), [fallback.span()]
    return "", []


@cache
def _place_pattern_zh() -> re.Pattern:
    alternation = "|".join(sorted(PLACES_ZH.split(), key=len, reverse=True))
    return re.compile(rf"(?P<place>(?:[^，。！？、；,.!?\s把被给向在和与跟同到从对朝往了着过是进出入]{{1,6}}的)?(?:{alternation}))")


def _find_location_zh(text: str) -> tuple[str, list[tuple[int, int]]]:
    setting = _SETTING_RE_ZH.search(text)
    if setting:
        return setting.group("place").strip(), [setting.span()]
    for at in re.finditer(
        r"(?<![正还现实])在(?P<place>[^，。！？、；,.!?\s在]{1,12}?)(?:里面|里|中|上|下|边|旁|内|外|附近|之中|当中)",
        text,
    ):
        # "坐在床上": a bed is something QA looks for, not the scene; keep it in the action.
        entry = lexicon_zh().get(re.sub(r"^.*的", "", at.group("place")))
        if entry is None or entry.coco is None:
            # "在海边", "在街上": the place word itself ends in what reads as a locative suffix.
            whole = text[at.start("place") : at.end()]
            named = _place_pattern_zh().fullmatch(whole)
            return (whole if named else at.group("place")), [at.span()]
    at_place = re.search(rf"(?<![正还现实])在{_place_pattern_zh().pattern}", text)
    if at_place:
        return at_place.group("place"), [at_place.span()]
    anywhere = _place_pattern_zh().search(text)
    if anywhere:
        return anywhere.group("place"), []
    return "", []


# --- interactions -------------------------------------------------------------------------


@dataclass
class Event:
    kind: str  # an interaction, or "give" / "catch" waiting to be paired into a handover
    priority: int
    agents: list[Mention]
    patient: Mention | None = None
    obj: Mention | None = None
    clause: int = 0


def _alternation(*verbs: str) -> str:
    return "|".join(sorted({v for verb in verbs for v in verb.split()}, key=len, reverse=True))


_MOTION_EN = _alternation(
    "walk walks walked walking run runs ran running move moves moved moving go goes went going head heads headed "
    "heading rush rushes rushed rushing dash dashes dashed dashing hurry hurries hurried hurrying jog jogs jogged "
    "jogging sprint sprints sprinted sprinting stroll strolls strolled strolling crawl crawls crawled crawling "
    "fly flies flew flying swim swims swam swimming trot trots trotted trotting gallop gallops galloped galloping "
    "drive drives drove driving come comes came coming step steps stepped stepping waddle waddles waddled "
    "waddling bound bounds bounded bounding leap leaps leaped leapt hop hops hopped hopping climb climbs climbed "
    "climbing jump jumps jumped jumping get gets got getting sneak sneaks sneaked snuck wander wanders wandered "
    "race races raced racing"
)
_GIVE_EN = _alternation(
    "hand hands handed handing give gives gave giving pass passes passed passing throw throws threw throwing "
    "toss tosses tossed tossing offer offers offered offering deliver delivers delivered delivering kick kicks "
    "kicked kicking roll rolls rolled rolling slide slides slid sliding bring brings brought bringing feed "
    "feeds fed feeding lob lobs lobbed lobbing"
)
_RECEIVE_EN = _alternation(
    "receive receives received receiving take takes took taking accept accepts accepted accepting grab grabs "
    "grabbed grabbing catch catches caught catching get gets got getting"
)
_CONTACT_ACTIVE_EN = _alternation(
    "hug hugs hugged hugging embrace embraces embraced embracing kiss kisses kissed kissing touch touches "
    "touched touching pet pets petted petting stroke strokes stroked stroking pat pats patted patting cuddle "
    "cuddles cuddled cuddling lick licks licked licking nuzzle nuzzles nuzzled nuzzling high-five high-fives "
    "high-fived tickle tickles tickled tackle tackles tackled lift lifts lifted lifting push pushes pushed "
    "pushing pull pulls pulled pulling"
)
_CONTACT_STATE_EN = _alternation("hold holds held holding carry carries carried carrying ride rides rode riding")

# priority: the most specific interaction a prompt names is what QA should check
_RULES_EN: list[tuple[str, int, re.Pattern, str]] = [
    ("handover", 0, re.compile(rf"\b(?:{_GIVE_EN})\b(?:\s+over)?", re.I), "give"),
    ("handover", 0, re.compile(rf"\b(?:{_RECEIVE_EN})\b(?P<mid>.*?)\bfrom\b", re.I), "receive_from"),
    ("catch", 0, re.compile(r"\b(?:catch|catches|caught|catching|receive|receives|received|receiving)\b", re.I),
     "catch"),
    ("contact", 1, re.compile(
        r"\b(?:shakes?|shook|shaking|holds?|held|holding)\s+hands\b|\b(?:plays?|played|playing|dances?|danced|"
        r"dancing|wrestles?|wrestled|wrestling)\s+(?:together|with)\b", re.I), "after_or_group"),
    ("contact", 1, re.compile(rf"\b(?:{_CONTACT_ACTIVE_EN}|picks?\s+up|picked\s+up|picking\s+up)\b", re.I),
     "after_or_group"),
    ("approach", 2, re.compile(
        rf"\b(?:{_MOTION_EN})\s+(?:\w+ly\s+)?(?:over\s+|up\s+|straight\s+|back\s+)?(?:towards?|to|up\s+to|"
        rf"over\s+to)\b", re.I), "after"),
    ("approach", 2, re.compile(
        r"\b(?:approach(?:es|ed|ing)?|chases?|chased|chasing|follows?|followed|following|(?:comes?|came|coming|"
        r"gets?|got|getting|moves?|moved|moving)\s+closer\s+to|reaches|reached|reaching|joins?|joined|joining)\b",
        re.I), "after"),
    ("enter", 3, re.compile(rf"\b(?:enters?|entered|entering|(?:{_MOTION_EN})\s+(?:into|in)\b)", re.I),
     "after_optional"),
    ("leave", 4, re.compile(
        rf"\b(?:leaves|leaving|left\s+(?=the|a|an|his|her)|exits?|exited|exiting|(?:{_MOTION_EN})\s+"
        rf"(?:out\s+of|out|away\s+from|away|off))\b", re.I), "after_optional"),
    ("contact", 5, re.compile(rf"\b(?:{_CONTACT_STATE_EN})\b", re.I), "after"),
]

_RULES_ZH: list[tuple[str, int, re.Pattern, str]] = [
    ("handover", 0, re.compile(r"[把将](?P<obj>[^，。]{1,12}?)(?:递给|交给|传给|扔给|抛给|送给|丢给|踢给|拿给|递到|给)(?P<rest>.*)"),
     "zh_ba"),
    ("handover", 0, re.compile(r"从(?P<giver>[^，。]{1,12}?)(?:手中|手里|那里|那儿|处)?(?:接过|拿过|拿走|接住|收下)"),
     "receive_from_zh"),
    ("handover", 0, re.compile(r"(?:递给|交给|传给|扔给|抛给|送给|丢给|踢给|拿给)(?P<rest>.*)"), "zh_give_to"),
    ("handover", 0, re.compile(r"给(?P<recipient>[^，。]{1,10}?)(?:递|送|拿|端)(?:了|过去|过来|上)?(?P<rest>.*)"),
     "zh_gei"),
    ("give", 0, re.compile(r"(?:递出|递过|递|扔出|扔|抛出|抛|丢|踢|传)(?P<rest>.*)"), "give_pending_zh"),
    ("catch", 0, re.compile(r"(?:接过|接住|接到|收下|接下|收到|拿到|接)"), "catch"),
    ("contact", 1, re.compile(r"(?:和|与|跟|同)(?P<partner>[^，。在]{1,10}?)(?:一起)?(?:玩耍|玩|拥抱|握手|击掌|牵手|贴贴|依偎)"),
     "zh_with"),
    ("contact", 1, re.compile(r"(?:拥抱|抱住|抱起|抱了抱|搂住|亲吻|亲了亲|亲|触碰|触摸|碰了碰|碰|抚摸|摸了摸|摸|握手|击掌|"
                              r"牵手|依偎|蹭|舔|拍了拍|拍拍|轻拍|挠|抱)"), "after_or_group"),
    ("approach", 2, re.compile(r"(?:朝|向|往)(?P<target>[^，。]{1,10}?)(?:走|跑|飞|游|爬|奔|冲)"), "zh_toward"),
    ("approach", 2, re.compile(r"(?:走向|跑向|奔向|冲向|飞向|游向|扑向|爬向|靠近|接近|走近|凑近|追赶|追逐|追着|追|走到|跑到|"
                               r"来到|飞到|游到)"), "after"),
    ("enter", 3, re.compile(r"(?:走进|跑进|冲进|飞进|钻进|跳进|游进|进入|走入|进了|坐进|爬进|开进|上车|上了车|进门|进屋|入画)"),
     "after_optional"),
    ("leave", 4, re.compile(r"(?:离开|走出|跑出|飞出|冲出|爬出|钻出|走开|跑开|飞走|跑走|走掉|开走|下车|下了车|出门|出画)"),
     "after_optional"),
    ("contact", 5, re.compile(r"(?:抱着|骑着|骑上|骑|牵着|举着|拿着|捧着)"), "after"),
]
_CONTAINERS = {"car", "bus", "train", "truck", "boat", "airplane"}
PRONOUN_RE = {
    "en": re.compile(r"\b(it|him|her|them|each other|one another|together)\b", re.I),
    "zh": re.compile(r"(它们|他们|她们|它|他|她|对方|彼此)"),
}
_GROUP_PRONOUNS = {"them", "each other", "one another", "together", "它们", "他们", "她们", "对方", "彼此"}
GROUP_MEMBER_RE = {
    "en": re.compile(r"^(?:the\s+other(?:\s+one)?|another(?:\s+one)?|one(?:\s+of\s+them)?)\b", re.I),
    "zh": re.compile(rf"^(?:另一|另外一|其中一|一)[{ZH_CLASSIFIERS}]"),
}


class ClauseReader:
    """Finds who does what to whom in each clause, carrying the subject across clauses
    ("runs to the dog and hugs it": the boy hugs)."""

    def __init__(self, text: str, language: Language, mentions: list[Mention]):
        self.text, self.language, self.mentions = text, language, mentions
        self.rules = _RULES_EN if language == "en" else _RULES_ZH
        self.previous_agents: list[Mention] = []

    def read(self, index: int, clause: Clause) -> tuple[list[Event], list[Mention]]:
        inside = [m for m in self.mentions if clause.start <= m.start and m.end <= clause.end]
        events: list[Event] = []
        taken: list[tuple[int, int]] = []
        for kind, priority, pattern, frame in self.rules:
            for match in pattern.finditer(clause.text):
                span = (clause.start + match.start(), clause.start + match.end())
                if any(s < span[1] and span[0] < e for s, e in taken):
                    continue
                event = self._frame(kind, priority, frame, match, clause, inside)
                if event is not None:
                    event.clause = index
                    events.append(event)
                    taken.append(span)
        agents = self._agents(clause, inside, min((s for s, _ in taken), default=clause.end))
        for event in events:
            if not event.agents:
                event.agents = agents
        if agents:
            self.previous_agents = agents
        return events, agents

    def _agents(self, clause: Clause, inside: list[Mention], verb_start: int) -> list[Mention]:
        verb_start = min(verb_start, clause.start + _first_verb_position(clause.text, self.language))
        before = [m for m in inside if m.end <= verb_start]
        if before and not before[0].pronoun:
            group = [before[0]]
            for mention in before[1:]:
                joiner = self.text[group[-1].end : mention.start].strip().lower()
                if joiner in ("and", "&", "和", "与", "跟", "同", "以及"):
                    group.append(mention)
            return group
        member = GROUP_MEMBER_RE[self.language].match(clause.text)
        plural_before = [m for m in self.mentions if m.end <= clause.start and (m.count or 2) >= 2]
        if member and plural_before:
            group = plural_before[-1]
            written = member.group(0)
            phrase = written + group.head if self.language == "zh" else f"{written} {group.head}"
            return [Mention(clause.start, clause.start + member.end(), phrase, group.head, group.coco,
                             1, another=True, member=True)]
        return list(self.previous_agents)

    def _frame(self, kind, priority, frame, match, clause: Clause, inside: list[Mention]) -> Event | None:
        offset = clause.start

        def first_in(start: int, end: int | None = None, skip: int = 0) -> Mention | None:
            end = clause.end if end is None else end
            found = [m for m in inside if start <= m.start and m.end <= end]
            if len(found) > skip:
                return found[skip]
            return self._pronoun_after(clause, start, end) if skip == 0 else None

        verb_end = offset + match.end()
        if frame == "give":
            to = re.search(r"\bto\b", self.text[verb_end : clause.end], re.I)
            if to:
                obj = first_in(verb_end, verb_end + to.start())
                recipient = first_in(verb_end + to.end())
                return Event("handover", priority, [], recipient, obj)
            first, second = first_in(verb_end), first_in(verb_end, skip=1)
            if first is not None and second is not None and first.animate:
                return Event("handover", priority, [], first, second)
            if first is not None and first.animate and not first.pronoun:
                return Event("handover", priority, [], first, None)
            return Event("give", priority, [], None, first)
        if frame == "receive_from":
            giver = first_in(verb_end)
            obj = first_in(offset + match.start("mid"), offset + match.end("mid"))
            return Event("received", priority, [], giver, obj) if giver else None
        if frame == "receive_from_zh":
            giver = first_in(offset + match.start("giver"), offset + match.end("giver"))
            return Event("received", priority, [], giver, first_in(verb_end)) if giver else None
        if frame == "catch":
            return Event("catch", priority, [], None, first_in(verb_end))
        if frame == "zh_ba":
            obj = first_in(offset + match.start("obj"), offset + match.end("obj"))
            return Event("handover", priority, [], first_in(offset + match.start("rest")), obj)
        if frame == "zh_give_to":
            rest = offset + match.start("rest")
            return Event("handover", priority, [], first_in(rest), first_in(rest, skip=1))
        if frame == "zh_gei":
            recipient = first_in(offset + match.start("recipient"), offset + match.end("recipient"))
            if recipient is None:
                return None
            return Event("handover", priority, [], recipient, first_in(offset + match.start("rest")))
        if frame == "give_pending_zh":
            return Event("give", priority, [], None, first_in(offset + match.start("rest")))
        if frame == "zh_with":
            partner = first_in(offset + match.start("partner"), offset + match.end("partner"))
            return Event(kind, priority, [], partner) if partner else None
        if frame == "zh_toward":
            target = first_in(offset + match.start("target"), offset + match.end("target"))
            return Event(kind, priority, [], target) if target else None
        patient = first_in(verb_end)
        if frame == "after" and patient is None:
            return None
        return Event(kind, priority, [], patient)

    def _pronoun_after(self, clause: Clause, start: int, end: int) -> Mention | None:
        found = PRONOUN_RE[self.language].search(self.text, start, end)
        if not found:
            return None
        word = found.group(0).lower()
        if word in _GROUP_PRONOUNS:
            return Mention(found.start(), found.end(), word, "group", None, None, pronoun=True)
        agents = {id(a) for a in self.previous_agents}
        earlier = [m for m in self.mentions if m.end <= start and id(m) not in agents and not m.pronoun]
        wants_person = word in ("him", "her", "他", "她")
        for mention in reversed(earlier):
            if (mention.coco == "person") == wants_person:
                return mention
        return earlier[-1] if earlier else None


def resolve_interaction(events: list[Event]) -> tuple[Event | None, Event | None, tuple[str, ...], list[str]]:
    """Pair pending throws with catches, then pick the most specific checkable interaction
    (what QA checks, and what the clip ends on) and the earliest (what the clip opens on)."""
    candidates: list[Event] = []
    for index, event in enumerate(events):
        if event.kind == "give":
            catch = next((e for e in events[index + 1 :] if e.kind in ("catch",) and e.agents
                          and (not event.agents or e.agents[0] is not event.agents[0])), None)
            if catch is not None:
                candidates.append(Event("handover", 0, event.agents, catch.agents[0], event.obj or catch.obj,
                                         event.clause))
        elif event.kind == "received":
            candidates.append(Event("handover", 0, [event.patient], event.agents[0] if event.agents else None,
                                     event.obj, event.clause))
        elif event.kind not in ("catch", "give"):
            candidates.append(event)

    notes: list[str] = []
    checkable = [e for e in candidates if _subject_classes(e) is not None]
    first = min(checkable, key=lambda e: e.clause, default=None)
    for event in sorted(candidates, key=lambda e: (e.priority, e.clause)):
        subjects = _subject_classes(event)
        if subjects is None:
            unknown = [m.phrase for m in event.agents[:1] + [event.patient] if m is not None and m.coco is None
                       and not m.pronoun]
            if unknown:
                notes.append(
                    f"the {event.kind} involves {', '.join(repr(u) for u in unknown)}, which the detector cannot "
                    f"recognise, so QA will not check it; name a person, animal or object it knows to have it checked"
                )
            continue
        return event, first, subjects, notes
    return None, None, (), notes


def _subject_classes(event: Event) -> tuple[str, ...] | None:
    agent = event.agents[0] if event.agents else None
    if agent is None or agent.coco is None:
        return None
    if event.kind in ("enter", "leave"):
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
