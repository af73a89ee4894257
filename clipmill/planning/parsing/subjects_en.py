"""English subjects: every noun phrase the lexicon knows, with its class and stated count.

"two brown dogs" is one mention (count 2); "the dog" is definite (it may refer back);
"a dog bed" is a bed, the first noun only describing the second.
"""
from __future__ import annotations

from clipmill.planning.language import WORD_RE
from clipmill.planning.lexicon import (
    ADJECTIVE_SUFFIXES,
    ADJECTIVES_EN,
    DEFINITE_EN,
    NEEDS_DETERMINER_EN,
    NUMBERS_EN,
    VAGUE_QUANTITIES_EN,
    VERB_FORMS_EN,
    Entry,
    group_count,
    lexicon_en,
)
from clipmill.planning.parsing.records import Mention

Token = tuple[str, str, int, int]  # as written, lower case, start, end

_OTHER_DETERMINERS = ("another", "other", "each", "every")
_GROUP_OF = ("group", "crowd", "bunch", "herd", "flock", "pack", "team", "family", "lot")


def mentions_en(text: str) -> list[Mention]:
    lexicon = lexicon_en()
    tokens: list[Token] = [(m.group(0), m.group(0).lower(), m.start(), m.end()) for m in WORD_RE.finditer(text)]
    lowered = [t[1].removesuffix("'s") for t in tokens]
    mentions: list[Mention] = []
    i = 0
    while i < len(tokens):
        match_len, entry = _longest_entry(lowered, i, lexicon)
        if entry is None:
            i += 1
            continue
        after = i + match_len
        if not _modifies_next(lowered, after, entry, lexicon):
            mention = _mention_at(text, tokens, lowered, i, after, entry)
            if mention is not None:
                mentions.append(mention)
        i = after
    return mentions


def _longest_entry(lowered: list[str], i: int, lexicon: dict) -> tuple[int, Entry | None]:
    for length in (3, 2, 1):
        key = tuple(lowered[i : i + length])
        if len(key) == length and key in lexicon:
            return length, lexicon[key]
    return 0, None


def _modifies_next(lowered: list[str], after: int, entry: Entry, lexicon: dict) -> bool:
    """"dog bed", "orange cat", "a couple of dogs": the first word modifies what follows."""
    if after >= len(lowered):
        return False
    next_is_noun = any(tuple(lowered[after : after + n]) in lexicon for n in (1, 2, 3)) \
        and lowered[after] not in NEEDS_DETERMINER_EN | {"bear"}
    return next_is_noun or (lowered[after] == "of" and entry.head in ("couple", "group"))


def _mention_at(text: str, tokens: list[Token], lowered: list[str], i: int, after: int,
                entry: Entry) -> Mention | None:
    """The mention whose noun is tokens[i:after], widened left over adjectives and a determiner."""
    start = i
    while start > 0 and start > i - 4 and _is_adjective(lowered[start - 1]):
        start -= 1
    determiner = lowered[start - 1] if start > 0 else ""
    if _is_determiner(determiner):
        start -= 1
    else:
        determiner = ""
    if entry.head.split()[-1] in NEEDS_DETERMINER_EN and not determiner:
        return None
    count, definite, another = _count(determiner, lowered[max(0, start - 2) : start], entry)
    phrase_start, phrase_end = tokens[start][2], tokens[after - 1][3]
    return Mention(phrase_start, phrase_end, text[phrase_start:phrase_end], entry.head,
                   entry.coco, count, definite, another)


def _is_determiner(word: str) -> bool:
    return word in NUMBERS_EN or word.isdigit() or word in DEFINITE_EN \
        or word in VAGUE_QUANTITIES_EN or word in _OTHER_DETERMINERS


def _count(determiner: str, preceding: list[str], entry: Entry) -> tuple[int | None, bool, bool]:
    """Count, definite, another: from the determiner and a "pair of" / "group of" before it."""
    count: int | None = 1
    definite = another = False
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
        elif preceding[0] in _GROUP_OF:
            count = None
    if entry.plural and count == 1 and determiner in ("a", "an", ""):
        count = None
    if entry.plural and definite:
        count = None
    return group_count(entry.head, count), definite, another


def _is_adjective(word: str) -> bool:
    if word in ADJECTIVES_EN:
        return True
    return len(word) > 4 and word.endswith(ADJECTIVE_SUFFIXES) and word not in VERB_FORMS_EN \
        and word not in DEFINITE_EN and not word.endswith("ly")
