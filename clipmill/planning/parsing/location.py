"""Location: the place a prompt names ("in a sunny park", "在森林里", "Setting: ..."), and the
spans of static place phrases that can be cut from the actions without changing them."""
from __future__ import annotations

import re
from functools import cache

from clipmill.planning.language import Language
from clipmill.planning.lexicon import (
    NOT_PLACES_EN,
    PLACES_EN,
    PLACES_ZH,
    VERB_CHARS_ZH,
    VERB_FORMS_EN,
    lexicon_en,
    lexicon_zh,
)

Spans = list[tuple[int, int]]


_STATIC_PREPOSITIONS_EN = "in|at|inside|on|near|by|beside|under|outside|around|within|across|through|along"


@cache
def _place_pattern_en() -> re.Pattern:
    places = sorted({p.replace("_", " ") for p in PLACES_EN.split()}, key=len, reverse=True)
    alternation = "|".join(re.escape(p) for p in places)
    # Describing words may stand before the place ("a sunny park"), but not another
    # preposition: "to a woman in the office" is a person, then a place.
    describing = rf"(?:(?!(?:{_STATIC_PREPOSITIONS_EN}|into|to|onto|over)\b)[\w'-]+\s+)"
    return re.compile(
        rf"\b(?P<prep>{_STATIC_PREPOSITIONS_EN}|into|toward|towards|to|out of|onto|over|past)\s+"
        rf"(?P<place>(?:(?:the|a|an|his|her|their|its|our|my)\s+)?{describing}{{0,3}}?(?:{alternation})s?"
        rf"(?:\s+(?:{alternation})s?)?)\b",  # "a restaurant kitchen", "the hotel lobby"
        re.IGNORECASE,
    )


def find_location(text: str, language: Language) -> tuple[str, Spans]:
    """The location phrase and the spans of static ("in a park") phrases safe to cut from actions."""
    return _find_location_en(text) if language == "en" else _find_location_zh(text)


_SETTING_RE = re.compile(r"\b(?:setting|scene|location|background)\s*:\s*(?P<place>[^.;\n]+)", re.IGNORECASE)
_SETTING_RE_ZH = re.compile(r"(?:场景|地点|背景)[:：](?P<place>[^。；\n]+)")


def _noun_follows(text: str, position: int) -> bool:
    """"at a cafe table", "through city traffic": the place word describes the noun after it."""
    following = re.match(r"\s+([A-Za-z]+)", text[position:])
    if not following:
        return False
    word = following.group(1).lower()
    if (word,) in lexicon_en():
        return True
    return word not in _AFTER_PLACE_EN and word not in VERB_FORMS_EN and not word.endswith(("ly", "ing"))


_AFTER_PLACE_EN = {
    "and", "or", "but", "with", "at", "in", "on", "by", "near", "under", "while", "as", "when", "then", "to", "for",
    "from", "of", "into", "onto", "toward", "towards", "during", "after", "before", "until", "today", "tonight",
    "now", "again", "together", "alone", "where", "which", "who", "that", "is", "are", "was", "were", "full",
    "filled", "covered", "lit", "bathed", "behind", "beside", "across", "through", "around", "past", "over",
}


def _find_location_en(text: str) -> tuple[str, Spans]:
    setting = _SETTING_RE.search(text)
    if setting:
        return setting.group("place").strip().rstrip(","), [setting.span()]
    match = next((m for m in _place_pattern_en().finditer(text) if not _noun_follows(text, m.end())), None)
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


def _find_location_zh(text: str) -> tuple[str, Spans]:
    setting = _SETTING_RE_ZH.search(text)
    if setting:
        return setting.group("place").strip(), [setting.span()]
    for at in re.finditer(
        r"(?<![正还现实])在(?P<place>[^，。！？、；,.!?\s在]{1,12}?)(?:里面|里|中|上|下(?![棋车来去]|象棋|围棋|跳棋|五子棋)|边|旁|内|外|附近|之中|当中)",
        text,
    ):
        if at.start() > 0 and VERB_CHARS_ZH.match(text[at.start() - 1]):
            # "落在男人的肩膀上", "放在桌上": where the action ends, part of the action; kept in it
            continue
        # "坐在床上": a bed is something QA looks for, not the scene; keep it in the action.
        entry = lexicon_zh().get(re.sub(r"^.*的", "", at.group("place")))
        if len(at.group("place")) == 1 and not _place_pattern_zh().fullmatch(at.group("place")):
            continue  # "在脚边", "在手上": a body part, not the scene
        if entry is None or entry.coco is None:
            # "在海边", "在街上": the place word itself ends in what reads as a locative suffix.
            whole = text[at.start("place") : at.end()]
            named = _place_pattern_zh().fullmatch(whole)
            return (whole if named else at.group("place")), [at.span()]
    at_place = re.search(rf"(?<![正还现实])在{_place_pattern_zh().pattern}", text)
    if at_place:
        complement = at_place.start() > 0 and VERB_CHARS_ZH.match(text[at_place.start() - 1])
        return at_place.group("place"), [] if complement else [at_place.span()]
    anywhere = _place_pattern_zh().search(text)
    if anywhere:
        place = re.sub(r"^.*[一两三四五六七八九十几][片个座条间家只张块]", "", anywhere.group("place"))
        return place, []
    return "", []
