"""Warnings a person can act on: what is vague, missing or uncheckable in a prompt, each with
an example of how to say it better."""
from __future__ import annotations

import re

from clipmill.planning.language import Language
from clipmill.planning.lexicon import GENERIC_SUBJECTS, lexicon_en
from clipmill.planning.lexicon.objects import OBJECTS_ZH
from clipmill.planning.lexicon.places import SCENERY_EN, SCENERY_ZH
from clipmill.planning.parsing import PRONOUN_RE, Mention

_VAGUE_WORDS = {
    "en": re.compile(r"\b(something|somehow|stuff|things?|anything|whatever|funny|cool|interesting|nice|random|"
                     r"awesome|some kind of|animate)\b(?!\s+(?:blue|white|tones?|light|lighting|"
                     r"colou?rs?|palette|grey|gray|green|toned|shadows?|breeze|air|water|morning|evening))", re.I),
    "zh": re.compile(r"(什么|某种|一些|东西|有趣|好玩|随便|动起来|动一动|搞笑|点什么|有意思)"),
}
EXAMPLES = {
    "en": "'A brown dog runs across a sunny park and catches a red ball'",
    "zh": "“一只棕色的小狗在阳光明媚的公园里奔跑，跳起来接住红色的球”",
}


def prompt_warnings(text: str, language: Language, introducing: list[Mention], unstated: list[Mention],
                    actions: list[str], location: str, segments: int) -> list[str]:
    warnings = _subject_warnings(text, language, introducing)
    if not actions:
        warnings.append(f"no action found: say what the subject does, e.g. {EXAMPLES[language]}")
    warnings += [_count_warning(mention, language) for mention in unstated if mention.coco is not None]
    if not location:
        place = "'in a sunny park'" if language == "en" else "“在阳光明媚的公园里”"
        warnings.append(f"no location: the generator will invent one; add a place, e.g. {place}")
    if segments > 1 and len(actions) < segments:
        warnings.append(f"{segments} segments but {len(actions)} action(s): later segments repeat an action; "
                        f"describe one step per segment for a livelier timeline")
    return warnings


def _subject_warnings(text: str, language: Language, introducing: list[Mention]) -> list[str]:
    """No subject, vague words, or a subject too generic to generate or check."""
    warnings: list[str] = []
    example = EXAMPLES[language]
    vague = sorted({m.group(0).lower() for m in _VAGUE_WORDS[language].finditer(text)})
    pronoun = PRONOUN_RE[language].search(text) or re.search(r"\b(he|she|they)\b", text, re.I)
    acting_pronoun = pronoun is not None and re.match(r"(?:he|she|they|it|他|她|它)", pronoun.group(0), re.I)
    # a scene is a subject ("an empty road at dusk"), but not when only "he" or "she" acts in it
    if not introducing and (not _scenery(text, language) or acting_pronoun):
        who = f" (only {pronoun.group(0)!r})" if pronoun else ""
        warnings.append(f"vague prompt: no recognisable subject{who}; say who or what is in the shot, e.g. {example}")
    if vague:
        warnings.append(
            f"vague prompt: {', '.join(repr(v) for v in vague)} does not say what to show; name the subject, "
            f"the concrete action and the place, e.g. {example}"
        )
    generic = [m.phrase for m in introducing if m.head in GENERIC_SUBJECTS]
    if generic:
        suggestion = "'two puppies', 'a kitten'" if language == "en" else "“两只小狗”、“一只小猫”"
        warnings.append(f"{', '.join(repr(g) for g in generic)} is not specific: the generator picks anything and QA "
                        f"cannot check it; name the kind, e.g. {suggestion}")
    return warnings


def open_vocabulary(introducing: list[Mention]) -> list[str]:
    """English names of the subjects outside COCO, for an open-vocabulary detector's classes."""
    names = [m.name for m in introducing if m.coco is None and m.name and m.head not in GENERIC_SUBJECTS]
    for mention in introducing:  # "a perfume bottle", "香水瓶": a bottle, and the perfume it is sold as
        if mention.coco in _CONTAINERS:
            for word in re.findall(r"[a-z]+", mention.phrase.lower())[:-1]:
                entry = lexicon_en().get((word,))
                if entry is not None and entry.coco is None and entry.name:
                    names.append(entry.name)
            names += [name for word, name in OBJECTS_ZH.items() if len(word) > 1 and word in mention.phrase]
    return list(dict.fromkeys(names))


_CONTAINERS = {"bottle", "cup", "bowl", "wine glass", "vase", "handbag", "backpack", "suitcase"}


def unchecked_notes(introducing: list[Mention], language: Language) -> list[str]:
    """The record that a subject is outside what the COCO detector checks (not a warning: the
    prompt is fine; QA checks it by name only where an open-vocabulary detector is configured)."""
    names = open_vocabulary(introducing)
    if not names:
        return []
    return [f"not checkable by the COCO detector: {', '.join(names)}; an open-vocabulary detector "
            f"(YOLO-World / YOLOE with local weights) can be given these names"]


def _scenery(text: str, language: Language) -> bool:
    if language == "zh":
        return any(word in text for word in SCENERY_ZH.split())
    words = set(re.findall(r"[a-z]+", text.lower()))
    return bool(words & set(SCENERY_EN.split()))


def _count_warning(mention: Mention, language: Language) -> str:
    number = "two" if language == "en" else "两"
    if language == "en":
        return (f"{mention.phrase!r} gives no number; QA cannot check how many (left unchecked) — write the count, e.g. "
                f"'{number} {mention.phrase.split()[-1]}'")
    one = "个" if mention.coco == "person" else "只" if mention.coco in ("bird", "cat", "dog", "sheep", "bear") else "个"
    return f"“{mention.phrase}”没有写数量，QA 无法检查数量（记为未检查）；请写明数量，例如“{number}{one}{mention.head}”"
