"""English subjects: every noun phrase the lexicon knows, with its class and stated count.

"two brown dogs" is one mention (count 2); "the dog" is definite (it may refer back);
"a dog bed" is a bed, the first noun only describing the second.
"""
from __future__ import annotations

import re

from clipmill.planning.language import WORD_RE
from clipmill.planning.lexicon import (
    ADJECTIVE_SUFFIXES,
    ADJECTIVES_EN,
    DEFINITE_EN,
    NEEDS_DETERMINER_EN,
    NUMBERS_EN,
    PLACES_EN,
    VAGUE_QUANTITIES_EN,
    VERB_FORMS_EN,
    Entry,
    group_count,
    lexicon_en,
    lexicon_words,
)
from clipmill.planning.lexicon.compounds import MEASURE_NOUNS_EN, WINE_WORDS_EN
from clipmill.planning.lexicon.groups import GROUP_NUMBERS
from clipmill.planning.parsing.records import Mention

Token = tuple[str, str, int, int]  # as written, lower case, start, end

# "a bike rider", "a bus driver", "a dog walker": the person brings the thing named before them
_AGENT_NOUNS = {"rider", "driver", "walker", "owner", "trainer", "pilot", "captain", "skater", "racer", "jockey",
                "groomer", "sitter"}
_PART_WORDS = {"door", "doors", "window", "windows", "seat", "seats", "trunk", "roof", "hood", "wheel", "wheels",
               "tire", "tires", "engine", "handlebars", "pedals", "saddle", "sail", "deck", "bumper", "headlights",
               "leash", "collar", "tail", "paw", "paws", "fur", "mane", "ears"}
_PLACE_WORDS = frozenset(w for w in PLACES_EN.split() if "_" not in w) | {"shop", "store", "stand", "stall", "counter",
                                                                         "stop", "lane", "depot", "shelter",
                                                                         "aisle", "section", "truck", "cart"} - {"snow"}
_OTHER_DETERMINERS = ("another", "other", "each", "every")
# Words that never stand inside a noun phrase as a describing noun ("an espresso cup").
_FUNCTION_WORDS = {
    "a", "an", "the", "and", "or", "but", "nor", "of", "to", "in", "on", "at", "by", "for", "from", "with",
    "into", "onto", "over", "under", "up", "down", "out", "off", "across", "through", "around", "along",
    "toward", "towards", "behind", "beside", "near", "past", "after", "before", "while", "as", "than", "then",
    "is", "are", "was", "were", "be", "been", "it", "its", "he", "she", "they", "them", "him", "her", "his",
    "their", "this", "that", "these", "those", "there", "here", "who", "which", "what", "where", "when",
    "not", "no", "without", "against", "between", "inside", "outside", "above", "below", "very", "so", "too",
    "just", "only", "also", "still", "again", "back", "away", "together", "each", "other", "another", "one",
    "slowly", "quickly", "gently", "all", "both", "some", "any", "every", "first", "last", "next", "new",
    "nowhere", "everywhere", "somewhere", "anywhere", "alone", "too", "now", "today", "tonight", "here", "there",
    "once", "twice", "nearby", "outside", "inside", "upstairs", "downstairs", "home", "ahead", "behind", "apart",
    "how", "why", "whose",
}
_GROUP_OF = ("group", "crowd", "bunch", "herd", "flock", "pack", "team", "family", "lot", "gang", "troop", "swarm",
             "school", "litter", "pair")


def mentions_en(text: str) -> list[Mention]:
    lexicon = lexicon_en()
    tokens: list[Token] = [(m.group(0), m.group(0).lower(), m.start(), m.end()) for m in WORD_RE.finditer(text)]
    lowered = [t[1].removesuffix("'s") for t in tokens]
    mentions: list[Mention] = []
    i = floor = 0
    implied_next: tuple[str, ...] = ()
    while i < len(tokens):
        match_len, entry = _longest_entry(lowered, i, lexicon)
        if entry is None:
            i += 1
            continue
        after = i + match_len
        if implied_next and entry.coco == "person" and entry.head in _AGENT_NOUNS:
            entry = Entry(entry.head, entry.coco, entry.plural, entry.implies + implied_next, entry.name)
        implied_next = ()
        possessive = tokens[after - 1][1].endswith("'s")  # "a man's shoulder": the man is there
        joined = after < len(tokens) and not text[tokens[after - 1][3] : tokens[after][2]].strip()  # no comma between
        # the word after the next one ends the phrase ("a glass desk, soft light")
        ends_phrase = after + 1 < len(tokens) and bool(text[tokens[after][3] : tokens[after + 1][2]].strip())
        if entry.head in _ALSO_PLACES and i >= 2 and lowered[i - 2] in _PLACE_PREPOSITIONS:
            i = after  # "in a diner": the place, not someone eating
            continue
        if entry.plural and mentions and mentions[-1].coco == "person" and i == floor > 0 and not possessive \
                and lowered[after : after + 1] and lowered[after] in _OBJECT_OPENERS:
            i = after  # "a busboy buses the tables", "she books a room": right after a person and before an object, a verb
            continue
        sport = _SPORT_VERBS.get(lowered[after]) if joined and entry.coco == "person" and after < len(lowered) \
            and not possessive else None
        if sport is None and joined and entry.coco is None and after < len(lowered) and lowered[after] in _SPORT_VERBS \
                and lowered[after].endswith("s") and mentions and mentions[-1].coco == "person" and not mentions[-1].implies \
                and _WEARING.fullmatch(text, mentions[-1].end, tokens[i][2]) is not None:
            # "a man in a hoodie skateboards past": the verb after what the person wears brings the gear
            mentions[-1].implies = (_SPORT_VERBS[lowered[after]],)
            mention = _mention_at(text, tokens, lowered, i, after, entry, floor)
            if mention is not None:
                mentions.append(mention)
            i = floor = after + 1
            continue
        if sport is None and entry.head in _GROUP_OF and lowered[after : after + 1] == ["of"] \
                and after + 2 < len(lowered) and lowered[after + 1] in NUMBERS_EN and lowered[after + 2] in _SPORT_VERBS:
            # "a family of three bikes along the lake": the number is the family's, the verb brings a bike each
            entry = Entry(entry.head, entry.coco, entry.plural, entry.implies + (_SPORT_VERBS[lowered[after + 2]],),
                          entry.name)
            mention = _mention_at(text, tokens, lowered, i, after, entry, floor)
            if mention is not None:
                mentions.append(mention)
            i = floor = after + 3
            continue
        if sport is not None:  # "two teenagers skateboard down a street": the verb brings a skateboard each
            entry = Entry(entry.head, entry.coco, entry.plural, entry.implies + (sport,), entry.name)
        if sport is not None or possessive or not joined or not _modifies_next(
                lowered, after, entry, lexicon, counted=_counted_before(lowered, i), ends_phrase=ends_phrase):
            mention = _mention_at(text, tokens, lowered, i, after, entry, floor)
            if mention is not None:
                mentions.append(mention)
                floor = after  # the next mention's words start after this one
            if sport is not None:
                i = after + 1  # the verb is no noun of its own
                continue
        elif entry.coco is not None and entry.coco != "person":
            implied_next = (entry.coco,)  # "a bike rider", "a taxi driver": the rider brings the bike
        i = after
    return _young_of_animals(text, _measures(text, _group_after_pair(text, mentions)))


# People nouns that also name a place, and the prepositions that make them one
_ALSO_PLACES = {"diner"}
_PLACE_PREPOSITIONS = {"in", "at", "into", "inside", "outside", "from", "to"}
# Words that open a verb's object ("buses [the] tables")
_OBJECT_OPENERS = {"the", "a", "an", "his", "her", "their", "its", "my", "our", "your", "every", "each", "some",
                   "this", "that", "these", "those"}
_AND_ONE_MORE = re.compile(r"\s+and\s+(?:(?:a|an|her|his|their|the)\s+)?(?:[\w-]+\s+)?")


def _group_after_pair(text: str, mentions: list[Mention]) -> list[Mention]:
    """"a mother and daughter duo": the duo is the two people named before it, not a third."""
    dropped = []
    for k, mention in enumerate(mentions):
        if k and mention.coco == "person" and mention.head in GROUP_NUMBERS and mentions[k - 1].coco == "person" \
                and _AND_ONE_MORE.fullmatch(text, mentions[k - 1].end, mention.start):
            dropped.append(mentions[k - 1])
    return [m for m in mentions if m not in dropped]


# Nouns that, before another noun, say what it is made of.
_MATERIAL_NOUNS = {"glass", "paper", "stone", "metal", "plastic", "marble", "crystal", "gold", "silver", "leather",
                   "wood", "brick", "steel", "concrete", "ceramic", "porcelain", "bamboo", "rubber", "wool", "silk"}
_ING_NOUNS = {"building", "ceiling", "painting", "railing", "clothing", "ring", "string", "wing", "sculpture",
              "carving", "fencing", "flooring", "roofing", "siding", "awning", "lining", "ornament", "meeting"}
# Sports whose verb is their gear's noun: right after a person, the word is the verb, and the
# person has the gear ("kids ski down the slope": skis each).
_SPORT_VERBS = {"skateboard": "skateboard", "skateboards": "skateboard", "ski": "skis", "skis": "skis",
                "snowboard": "snowboard", "snowboards": "snowboard", "surf": "surfboard", "surfs": "surfboard",
                "bike": "bicycle", "bikes": "bicycle", "cycle": "bicycle", "cycles": "bicycle", "kayak": "boat",
                "kayaks": "boat", "canoe": "boat", "canoes": "boat"}
_WEARING = re.compile(r"\s+(?:in|wearing|with)\s+(?:(?:a|an|the|his|her|their)\s+)?(?:[\w-]+\s+){0,3}")
_YOUNG = {"calf", "cub", "foal", "baby", "young", "pup", "joey", "chick", "kid"}


def _young_of_animals(text: str, mentions: list[Mention]) -> list[Mention]:
    """"an elephant sprays water over her calf": the calf is an elephant, not a cow."""
    body_parts = []
    for k, mention in enumerate(mentions):
        if mention.head not in _YOUNG or not re.match(r"(?:her|its|their|the|his)\s", mention.phrase, re.I):
            continue
        parent = next((m for m in reversed(mentions[:k]) if m.coco not in (None, "person") and m.animate), None)
        if parent is not None:
            mention.coco, mention.definite = parent.coco, False  # one more of that kind, not the parent again
        elif mention.head == "calf" and re.match(r"(?:her|his|their)\s", mention.phrase, re.I):
            body_parts.append(mention)  # "a runner stretches her calves": legs, not cows
    return [m for m in mentions if m not in body_parts]


def _longest_entry(lowered: list[str], i: int, lexicon: dict) -> tuple[int, Entry | None]:
    for length in (3, 2, 1):
        key = tuple(lowered[i : i + length])
        if len(key) == length and key in lexicon:
            return length, lexicon[key]
    role = _role_by_shape(lowered[i])
    return (1, role) if role is not None else (0, None)


# Trades the word list may not know, by the shape of the word: "zookeeper", "locksmith",
# "fishmonger", "repairman", "camerawoman" (plurals too). "snowman" and the like are no people.
_ROLE_SUFFIX_RE = re.compile(r"^[a-z]{2,}(?:keeper|smith|monger|man|woman|men|women|keepers|smiths|mongers)$")
_NOT_ROLES = {"snowman", "snowmen", "gingerbreadman", "superman", "pacman", "human", "humans", "german", "roman",
              "woman", "women", "ottoman", "talisman", "caiman", "shaman", "doberman", "dobermans", "walkman"}


def _role_by_shape(word: str) -> Entry | None:
    if word in _NOT_ROLES or not _ROLE_SUFFIX_RE.match(word):
        return None
    plural = word.endswith(("men", "s"))
    head = word[:-3] + "man" if word.endswith("men") else word.removesuffix("s") if plural else word
    return Entry(head, "person", plural=plural, name=head)


def _counted_before(lowered: list[str], i: int) -> bool:
    """"two sheep graze": a number above one before the noun makes it plural."""
    return any((NUMBERS_EN.get(w, 0) > 1 or w.isdigit() and int(w) > 1) for w in lowered[max(0, i - 3) : i])


def _modifies_next(lowered: list[str], after: int, entry: Entry, lexicon: dict, counted: bool = False,
                   ends_phrase: bool = False) -> bool:
    """"dog bed", "orange cat", "a couple of dogs": the first word modifies what follows."""
    if after >= len(lowered):
        return False
    following = [lexicon[key] for key in (tuple(lowered[after : after + n]) for n in (3, 2, 1)) if key in lexicon]
    next_is_noun = bool(following) and following[0].head.split()[-1] not in NEEDS_DETERMINER_EN | {"bear"} \
        and lowered[after] not in _PART_WORDS
    start = after - len(entry.head.split())
    if following and entry.coco == "person" and following[0].coco is None and start > 0 and lowered[start - 1] == "and" \
            and not entry.plural:
        return False  # "a father and son fish from a dock": the second of two people, then their verb
    if next_is_noun and (following[0].plural or lowered[after].endswith("s")) and not entry.plural \
            and lowered[after] in VERB_FORMS_EN:  # "a girl skates", though "skates" are a thing too
        next_is_noun = False  # "a teenager skateboards down a ramp": the plural-looking word is its verb
    if next_is_noun and following[0].plural and not entry.plural and entry.coco == "person" \
            and after + 1 < len(lowered) and (lowered[after + 1] not in _FUNCTION_WORDS or lowered[after + 1] in _OBJECT_OPENERS) \
            and lowered[after + 1] not in VERB_FORMS_EN:
        next_is_noun = False  # "a cashier bags groceries": a person's plural-looking word before an object is a verb
    number_noun = after + 1 < len(lowered) and lowered[after + 1] in NUMBERS_EN \
        and tuple(lowered[after + 2 : after + 3]) not in lexicon  # "a family of four"
    if entry.head in _MATERIAL_NOUNS and not entry.plural and following:
        return True  # "a glass bowl", "a glass jar of honey": the bowl, made of glass
    return next_is_noun or (lowered[after] == "of" and entry.head in _GROUP_OF + ("couple", "pair", "dozen")
                            + tuple(GROUP_NUMBERS) and not number_noun) \
        or (not counted and _compound_head_follows(lowered, after, entry, ends_phrase, _coordinated(lowered, start)))


def _coordinated(lowered: list[str], start: int) -> bool:
    """Is the noun at `start` the second of an "X and (a/her/two) Y" subject, whose verb is plural?"""
    before = lowered[max(0, start - 2):start]
    return before[-1:] == ["and"] or (len(before) == 2 and before[0] == "and" and _is_determiner(before[1]))


def _compound_head_follows(lowered: list[str], after: int, entry: Entry, ends_phrase: bool = False,
                           coordinated: bool = False) -> bool:
    """"a glass shelf", "a phone case": an unknown noun after a singular noun is the thing
    named; a verb after it ("a dog naps", "a cat ran") is not, nor the plural verb after the
    second noun of "X and Y" ("a woman and a dog stand")."""
    following = lowered[after]
    if following in _PART_WORDS:
        return False  # "the car door", "the dog's collar": the car is there
    if following in _VERBS_AFTER_PEOPLE and (entry.coco == "person" or coordinated):
        return False  # "a man and a woman stand", "a girl and her dog stop"
    if following in _PLACE_WORDS:
        return True  # "a flower shop", "the toy store", "a barber shop"
    if entry.head in _MATERIAL_NOUNS and not entry.plural and following not in _FUNCTION_WORDS \
            and (following not in VERB_FORMS_EN or following in _ING_NOUNS) and not following.endswith(("ed", "ly")):
        return True  # "a glass building", "a paper crane": the material of what follows
    if following in _COMPOUND_HEADS_EN and not entry.plural and not following.endswith("s") \
            and entry.coco != "person":
        return True  # "his cereal bowl", "a dog bowl": after a singular noun, a verb would take an s ("bowls")
    if entry.plural or following in _FUNCTION_WORDS or following in VERB_FORMS_EN or following in ADJECTIVES_EN:
        return False
    if following.endswith(("s", "ed", "ing", "ly")) or following.isdigit() or "-" in following:
        return False
    if following in _COMPOUND_HEADS_EN:
        return True  # "a cat tree", "a phone stand", "a bottle opener": the thing named is the last noun
    return after + 1 >= len(lowered) or lowered[after + 1] in _FUNCTION_WORDS or ends_phrase \
        or (lowered[after + 1] in VERB_FORMS_EN and lowered[after + 1].endswith("s")
            and not lowered[after + 1].endswith("ss"))  # "a cat tree stands", "a wine bottle opener pulls"


# Place words that, after a word for people or the second noun of "X and Y", are the verb of a
# plural subject ("a man and a woman stand", "a woman and a dog stop"), not a place ("a fruit
# stand", "a bus stop"). "shop" is not one of
# them: "a barber shop" is a place more often than "a man and a woman shop" is an action.
_VERBS_AFTER_PEOPLE = frozenset({"stand", "stop", "park", "set", "dock"})

# Nouns that, after a noun the detector knows, name an accessory or a product of their own ("a dog
# leash", "a cat toy", "a phone case"): the first noun only says what it is for.
_COMPOUND_HEADS_EN = {"stand", "case", "cover", "toy", "toys", "tree", "house", "food", "leash", "collar", "opener",
                      "holder", "helmet", "keychain", "charger", "mount", "rack", "print", "pattern", "crate",
                      "carrier", "cage", "ticket", "sticker", "costume", "figurine", "plush", "ornament", "magnet",
                      "strap", "sleeve", "pouch", "organizer", "accessory", "accessories", "treat", "treats",
                      "kennel", "bowl", "mat", "cushion", "pillow", "poster", "logo", "emoji", "icon", "shaped"}


def _mention_at(text: str, tokens: list[Token], lowered: list[str], i: int, after: int,
                entry: Entry, floor: int = 0) -> Mention | None:
    """The mention whose noun is tokens[i:after], widened left over adjectives and a determiner."""
    start = i
    while start > floor and start > i - 4 and not _punctuation_before(text, tokens, start) \
            and (_is_adjective(lowered[start - 1]) or _is_describing_noun(lowered, start - 1)):
        start -= 1
    determiner = lowered[start - 1] if start > floor and not _punctuation_before(text, tokens, start) else ""
    if _is_determiner(determiner):
        start -= 1
    else:
        determiner = ""
    followed_by_of = after < len(lowered) and lowered[after] == "of"  # "glasses of wine"
    before_verb = after < len(lowered) and lowered[after] in VERB_FORMS_EN and (lowered[after],) not in lexicon_en()
    sentence_start = not text[: tokens[i][2]].strip() or text[: tokens[i][2]].rstrip()[-1] in ".!?;:,"
    after_preposition = i > 0 and lowered[i - 1] in ("at", "with", "to", "for", "of", "on", "among", "between",
                                                     "toward", "towards", "behind", "near", "past", "like")
    described = entry.plural and (start < i or before_verb or after_preposition) \
        or sentence_start and before_verb  # "Kids play football", "Model walks in slow motion"
    if entry.plural and not determiner and start == floor and floor > 0 and lowered[i] in VERB_FORMS_EN:
        return None  # "a teenager skateboards down a ramp": right after its subject, the verb
    if entry.plural and not determiner and after - i == 1 and lowered[i] in VERB_FORMS_EN and start < i \
            and start > 0 and lowered[start - 1] in ("in", "all") and all(_is_adjective(w) for w in lowered[start:i]):
        return None  # "a man in black stands at a table": after what the subject wears ("in black"), the verb
    if entry.head.split()[-1] in NEEDS_DETERMINER_EN and after - i == 1 and not determiner and not followed_by_of \
            and not described:  # "smart watch" as two words is a noun whatever stands before it
        return None
    count, definite, another = _count(determiner, lowered[max(0, start - 2) : start], entry)
    if entry.head in _GROUP_OF and lowered[after : after + 1] == ["of"] and lowered[after + 1 : after + 2] \
            and lowered[after + 1] in NUMBERS_EN and (tuple(lowered[after + 2 : after + 3]) not in lexicon_en()
                                                      or lowered[after + 2 : after + 3][0] in _SPORT_VERBS):
        count = NUMBERS_EN[lowered[after + 1]]  # "a family of four", "a family of three bikes along"
        after += 2
    if count is None and entry.coco == "person" and any(w in ("twin", "twins") for w in lowered[start:i]):
        count = 2  # "twin sisters"
    if count is None:
        group = _group_number_before(text, tokens, lowered, start)
        count = group if group is not None else count  # "a trio of street musicians": three
    phrase_start, phrase_end = tokens[start][2], tokens[after - 1][3]
    return Mention(phrase_start, phrase_end, text[phrase_start:phrase_end], entry.head,
                   entry.coco, count, definite, another, stated=bool(determiner) and not definite,
                   implies=entry.implies, name=entry.name if entry.coco is None else "")


def _group_number_before(text: str, tokens: list[Token], lowered: list[str], start: int) -> int | None:
    """"a trio of street musicians", "a couple of young dancers": the number the group word names,
    with up to two describing words between "of" and the noun."""
    for j in range(start - 1, max(0, start - 4) - 1, -1):
        if _punctuation_before(text, tokens, j + 1):
            return None
        if lowered[j] == "of":
            return GROUP_NUMBERS.get(lowered[j - 1]) if j > 0 and lowered[j - 1] in GROUP_NUMBERS else None
        if lowered[j] in _FUNCTION_WORDS or lowered[j] in VERB_FORMS_EN:
            return None
    return None


def _punctuation_before(text: str, tokens: list[Token], k: int) -> bool:
    """"Product video: matte black earbuds": a phrase never reaches back over punctuation."""
    return k > 0 and bool(re.search(r"[.,:;!?()]", text[tokens[k - 1][3] : tokens[k][2]]))


def lexicon_words_set() -> frozenset[str]:
    return lexicon_words()


def _is_describing_noun(lowered: list[str], k: int) -> bool:
    """"espresso" in "an espresso cup", "wireless" in "wireless earbuds": a word that is no
    verb, article or preposition, between a determiner and the noun."""
    word = lowered[k]
    if word in _FUNCTION_WORDS or word in VERB_FORMS_EN or word.endswith("ly") or word.isdigit() \
            or word in NUMBERS_EN or word in VAGUE_QUANTITIES_EN:
        return False
    # only when a determiner stands right before it (or before the adjectives before it)
    j = k - 1
    while j >= 0 and (_is_adjective(lowered[j]) or (lowered[j] not in _FUNCTION_WORDS and lowered[j] not in VERB_FORMS_EN
                                                    and not _is_determiner(lowered[j]) and j >= k - 1)):
        j -= 1
        if j < k - 2:
            return False
    return j < 0 or _is_determiner(lowered[j])  # "Luxury perfume bottle" opens the text


def _measures(text: str, mentions: list[Mention]) -> list[Mention]:
    """"a ball of yarn" is no sports ball; "two glasses of wine" are two wine glasses."""
    kept = []
    for mention in mentions:
        after = text[mention.end : mention.end + 40].lower().split()
        if after[:1] == ["of"]:
            if mention.head in MEASURE_NOUNS_EN:
                continue
            if mention.head == "glass" and after[1:2] and after[1] in ("a", "an", "the", "his", "her", "their", "its",
                                                                     "this", "that"):
                continue  # "the glass of a tall building", "the glass of the door": a pane, no drinking glass
            if mention.head == "glass" and any(w.strip(",.;") in WINE_WORDS_EN for w in after[1:4]):
                mention.coco = "wine glass"
        if mention.head == "glass" and mention.phrase.lower().endswith("glasses") and not after[:1] == ["of"] \
                and mention.count is None:
            mention.coco, mention.name = None, "glasses"  # "a girl without glasses": spectacles
        if mention.head == "glass" and re.search(r"\b(?:martini|cocktail|champagne|wine|stemmed)\s+glass", mention.phrase,
                                                 re.I):
            mention.coco = "wine glass"
        if mention.head == "glass" and mention.coco == "cup":
            near = text[max(0, mention.start - 60) : mention.end + 60].lower()
            if any(re.search(rf"\b{w}\b", near) for w in WINE_WORDS_EN - {"port", "rose"}):
                mention.coco = "wine glass"  # "red wine is poured into two glasses"
        kept.append(mention)
    return kept


def _is_determiner(word: str) -> bool:
    return word in NUMBERS_EN or word.isdigit() or word in DEFINITE_EN \
        or word in VAGUE_QUANTITIES_EN or word in _OTHER_DETERMINERS


# Nouns whose plural is the singular: without "a" or a number, how many is not said
_SAME_IN_PLURAL = {"sheep", "fish", "deer", "cattle", "bison", "moose", "salmon", "swine", "aircraft", "livestock",
                   "poultry", "trout", "elk", "reindeer", "buffalo"}


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
    elif determiner in ("each", "every"):
        count = None  # "pours water into each glass": several, how many is not said
    if preceding[-1:] == ["of"] and len(preceding) == 2:
        if preceding[0] in GROUP_NUMBERS:  # "a pair of dancers", "a trio of musicians"
            count = GROUP_NUMBERS[preceding[0]]
        elif preceding[0] in _GROUP_OF and not (determiner in NUMBERS_EN or determiner.isdigit()):
            count = None  # "a group of friends"; "a group of five friends" are five
    if entry.plural and count == 1 and determiner in ("a", "an", ""):
        count = None
    if entry.plural and definite:
        count = None
    if entry.head in _SAME_IN_PLURAL and count == 1 and determiner not in ("a", "an", "one"):
        count = None  # "a farmer checks on his sheep", "the deer graze": one or a herd
    if entry.plural and count is None and entry.head not in ("twins",):
        return None, definite, another  # "couples dance": how many couples is not said
    return group_count(entry.head, count), definite, another


def _is_adjective(word: str) -> bool:
    if word in NUMBERS_EN:
        return False  # "twenty", "fifty": a number, though it ends like "pretty"
    if word in ADJECTIVES_EN:
        return True
    return len(word) > 4 and word.endswith(ADJECTIVE_SUFFIXES) and word not in VERB_FORMS_EN \
        and word not in DEFINITE_EN and not word.endswith("ly")
