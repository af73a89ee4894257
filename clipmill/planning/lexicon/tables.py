"""The lookup tables planning matches against, built once from the noun lists: English
word tuples and Chinese words, each to its `Entry` (singular head, COCO class, plural)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from clipmill.planning.lexicon.compounds import IMPLIED_EN, IMPLIED_ZH
from clipmill.planning.lexicon.nouns_en import COCO_WORDS_EN, IRREGULAR_PLURALS, OTHER_SUBJECTS_EN
from clipmill.planning.lexicon.nouns_zh import COCO_WORDS_ZH, COLLECTIVE_NOUNS_ZH, NOT_SUBJECTS_ZH, OTHER_SUBJECTS_ZH
from clipmill.planning.lexicon.objects import OBJECTS_EN, OBJECTS_ZH, OTHER_NAMES_ZH


@dataclass(frozen=True)
class Entry:
    head: str  # the singular form, the key for "same word mentioned again"
    coco: str | None
    plural: bool
    implies: tuple[str, ...] = ()  # other COCO classes the word brings ("cyclist": a bicycle)
    name: str = ""  # English name, for an open-vocabulary detector, of a subject outside COCO


def plural(word: str) -> str:
    if word in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[word]
    if word.endswith("man") and not word.endswith("human"):
        return word[:-3] + "men"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


@cache
def lexicon_en() -> dict[tuple[str, ...], Entry]:
    lexicon: dict[tuple[str, ...], Entry] = {}

    def add(word: str, coco: str | None) -> None:
        words = tuple(word.split("_"))
        singular = " ".join(words)
        implies = IMPLIED_EN.get(word, ())
        lexicon.setdefault(words, Entry(singular, coco, plural=False, implies=implies, name=singular))
        plural_words = words[:-1] + (plural(words[-1]),)
        if plural_words != words:
            lexicon.setdefault(plural_words, Entry(singular, coco, plural=True, implies=implies,
                                                   name=" ".join(plural_words)))

    for coco, words in COCO_WORDS_EN.items():
        for word in words.split():
            add(word, coco)
    for word in (OTHER_SUBJECTS_EN + " " + OBJECTS_EN).split():
        add(word, None)
    lexicon[("people",)] = Entry("people", "person", plural=True)
    lexicon[("persons",)] = Entry("person", "person", plural=True)
    lexicon[("cattle",)] = Entry("cattle", "cow", plural=True)
    for word in ("couple", "crowd", "family", "twins"):
        lexicon[(word,)] = Entry(word, "person", plural=word != "couple" and word != "family")
    for word in ("newlywed", "elderly", "married", "retired", "engaged"):  # "a newlywed pair dances": two people
        lexicon[(word, "pair")] = Entry("couple", "person", plural=False)
    for word in ("couples", "families", "crowds"):  # "two couples": four people
        lexicon[(word,)] = Entry(word[:-1] if word != "families" else "family", "person", plural=True)
    for word in ("duos", "trios", "quartets"):
        lexicon[(word,)] = Entry(word[:-1], "person", plural=True)
    return lexicon


@cache
def lexicon_zh() -> dict[str, Entry | None]:
    lexicon: dict[str, Entry | None] = {}
    for coco, words in COCO_WORDS_ZH.items():
        for word in words.split():
            lexicon[word.lower()] = Entry(word, coco, plural=False, implies=IMPLIED_ZH.get(word, ()))
    for word in OTHER_SUBJECTS_ZH.split():
        lexicon.setdefault(word, Entry(word, None, plural=False, name=OTHER_NAMES_ZH.get(word, "")))
    for word, name in OBJECTS_ZH.items():
        lexicon.setdefault(word.lower(), Entry(word, None, plural=False, name=name))
    for word in NOT_SUBJECTS_ZH.split():
        if word in OBJECTS_ZH:  # a product word wins over the noun it contains ("牛排": a steak)
            continue
        lexicon[word] = None  # matched first (longest match) so its parts are never read as nouns
    lexicon["人群"] = Entry("人群", "person", plural=True)
    for word, coco in COLLECTIVE_NOUNS_ZH.items():
        lexicon[word] = Entry(word, coco, plural=True)
    for word in ("一家人", "全家人", "家人", "一家子"):  # a family with no number: more than one (QA's unstated count)
        lexicon[word] = Entry(word, "person", plural=True)
    return lexicon


@cache
def lexicon_words() -> frozenset[str]:
    return frozenset(w for key in lexicon_en() for w in key)
