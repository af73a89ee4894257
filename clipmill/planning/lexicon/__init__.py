"""Word lists the prompt structurer (`clipmill.planning`) reads, English and Chinese.

What is here, a file each: the nouns that name a COCO class (the classes QA's detector can
check) and the subjects worth naming that it cannot (`nouns_en`, `nouns_zh`), nouns for pairs,
groups and generic kinds (`groups`), place words (`places`), numerals, determiners and
classifiers (`quantities`), adjectives (`adjectives`) and verbs (`verbs`). `tables` turns the
noun lists into the lookup tables planning matches against (`lexicon_en()`, `lexicon_zh()`).

To extend:
- a noun for a COCO class: add it to the class's string in `nouns_en.COCO_WORDS_EN` or
  `nouns_zh.COCO_WORDS_ZH` (space-separated; English multi-word nouns use "_", e.g. "fire_truck").
  English plurals are derived; an irregular one goes in `nouns_en.IRREGULAR_PLURALS`. An English
  noun that is also a common verb or adjective goes in `nouns_en.NEEDS_DETERMINER_EN` too.
- a subject the detector cannot check (it is named in the plan, never expected by QA):
  `nouns_en.OTHER_SUBJECTS_EN` / `nouns_zh.OTHER_SUBJECTS_ZH`.
- a Chinese word that contains a noun but means something else ("牛奶"): `nouns_zh.NOT_SUBJECTS_ZH`.
- a place: `places.PLACES_EN` / `places.PLACES_ZH`.
- a product, food or prop outside COCO (planned, named for an open-vocabulary detector):
  `objects.OBJECTS_EN`, or `objects.OBJECTS_ZH` with its English name.
- a noun that brings a second thing ("cyclist": a bicycle): `compounds.IMPLIED_EN` / `IMPLIED_ZH`.
- a word saying something is absent: `negation`; a camera or look word: `shot_words`.
"""
from clipmill.planning.lexicon.adjectives import ADJECTIVE_SUFFIXES, ADJECTIVES_EN
from clipmill.planning.lexicon.groups import GENERIC_SUBJECTS, PAIR_NOUNS, VAGUE_GROUP_NOUNS, group_count
from clipmill.planning.lexicon.nouns_en import NEEDS_DETERMINER_EN
from clipmill.planning.lexicon.places import NOT_PLACES_EN, PLACES_EN, PLACES_ZH
from clipmill.planning.lexicon.quantities import (
    DEFINITE_EN,
    NUMBERS_EN,
    VAGUE_QUANTITIES_EN,
    ZH_CLASSIFIERS,
    ZH_DIGITS,
    ZH_VAGUE,
)
from clipmill.planning.lexicon.tables import Entry, lexicon_en, lexicon_words, lexicon_zh
from clipmill.planning.lexicon.verbs import VERB_CHARS_ZH, VERB_FORMS_EN

__all__ = [
    "ADJECTIVES_EN", "ADJECTIVE_SUFFIXES", "DEFINITE_EN", "Entry", "GENERIC_SUBJECTS", "NEEDS_DETERMINER_EN",
    "NOT_PLACES_EN", "NUMBERS_EN", "PAIR_NOUNS", "PLACES_EN", "PLACES_ZH", "VAGUE_GROUP_NOUNS",
    "VAGUE_QUANTITIES_EN", "VERB_CHARS_ZH", "VERB_FORMS_EN", "ZH_CLASSIFIERS", "ZH_DIGITS", "ZH_VAGUE",
    "group_count", "lexicon_en", "lexicon_words", "lexicon_zh",
]
