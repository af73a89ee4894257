"""Counting: how many of each COCO class a prompt asks for, which mentions introduce them, and
which classes it says are absent."""
from __future__ import annotations

import re

from clipmill.planning.lexicon.places import PLACES_EN
from clipmill.planning.parsing import Mention

# "a hand places a watch", "a smartwatch on a wrist": a person, unless someone is already in the
# shot ("his hand").
_BODY_PARTS = {"hand", "手", "wrist", "arm", "finger", "手腕", "手臂"}


def count_entities(mentions: list[Mention],
                   language: str = "en") -> tuple[dict[str, int], list[Mention], list[Mention]]:
    """Class counts, the mentions that introduce an entity, and those whose number was unstated.

    A word seen before refers back ("a man ... the man"); a definite new word for a class
    already present does too ("a dog ... the puppy"), except for people, where "the woman"
    after "a man" is somebody new; in Chinese, which has no articles, a bare noun of a class
    already present refers back ("一辆面包车……车"). An unstated number ("dogs") counts as 2.
    Negated mentions ("without a dog") count for nothing; a word that implies a second thing
    ("a cyclist": a bicycle) counts it too.
    """
    counts_by_head: dict[str, int] = {}
    introducing: list[Mention] = []
    unstated: list[Mention] = []
    classes_seen: set[str] = set()
    present = [m for m in mentions if not m.negated]
    has_person = any(m.coco == "person" and m.head not in _BODY_PARTS and not m.pronoun for m in present)
    body_part_seen = False
    for mention in present:
        if mention.pronoun or (mention.head in _BODY_PARTS and (has_person or mention.definite or body_part_seen)):
            continue  # "a hand sprays perfume onto a wrist": one person's hand and wrist
        body_part_seen = body_part_seen or mention.head in _BODY_PARTS
        if mention.head in _GROUP_WORDS and _class_count(introducing, counts_by_head, mention.coco) >= 2:
            continue  # "……，然后两人拥抱": the two already named
        if mention.head in counts_by_head:
            _refer_back(mention, counts_by_head)
            continue
        if _refers_to_class_seen(mention, classes_seen, language):
            continue
        stated = 1 if mention.head in _BODY_PARTS else mention.count  # "hands open a box": one person
        if stated is None:
            unstated.append(mention)
            stated = 2
        counts_by_head[mention.head] = stated
        introducing.append(mention)
        if mention.coco:
            classes_seen.add(mention.coco)
        classes_seen.update(mention.implies)  # "a truck driver ... his cab": the truck
    classes: dict[str, int] = {}
    for mention in introducing:
        if mention.coco:
            classes[mention.coco] = classes.get(mention.coco, 0) + counts_by_head[mention.head]
    implied: dict[str, int] = {}
    for mention in introducing:
        for coco in mention.implies:
            implied[coco] = implied.get(coco, 0) + counts_by_head[mention.head]
    for coco, count in implied.items():
        classes[coco] = max(classes.get(coco, 0), count)
    return classes, introducing, unstated


# An owner named to say whose a thing or place is need not be in view ("a child's bed", "a
# customer's front door", "爸爸的自行车"); one whose body, or what it wears, is named is there ("a
# man's hand", "the dog's collar", "妈妈的手"; "a puppy's heartbeat" names no thing, so it stays too).
_POSSESSIVE_EN = re.compile(r"(?:'s|’s|s'|s’)$", re.I)
_ON_THE_OWNER = {
    "hand", "hands", "arm", "arms", "finger", "fingers", "wrist", "face", "hair", "head", "eyes", "eye", "lips",
    "mouth", "nose", "ear", "ears", "cheek", "neck", "shoulder", "shoulders", "back", "lap", "leg", "legs", "knee",
    "foot", "feet", "toes", "palm", "skin", "smile", "paw", "paws", "tail", "fur", "coat", "mane", "whiskers", "belly",
    "shirt", "dress", "jacket", "hat", "cap", "scarf", "shoes", "boots", "gloves", "glasses", "sunglasses", "collar",
    "leash", "harness", "backpack", "tie", "sleeve", "sleeves", "pocket", "reflection", "shadow", "silhouette",
    "body", "side", "nails", "beard", "hug", "kiss", "voice"}
_ON_THE_OWNER_ZH = {"手", "手腕", "手臂", "手指", "脸", "头", "头发", "肩膀", "腿", "脚", "背", "怀里", "衣服", "帽子", "领带",
                    "围巾", "眼镜", "项链", "背包", "书包", "尾巴", "项圈", "牵引绳"}
_PLACE_WORDS_EN = frozenset(PLACES_EN.replace("_", " ").split())
# "的" right after the owner, perhaps with a word or two of description ("爸爸的旧自行车")
_OWNED_AFTER_ZH = re.compile(r"的[^\s，。,、的]{0,2}")
# "骑自行车的女孩", "抱着小狗的女孩": X的Y after a verb says who Y is by what Y does, not whose Y is ...
_DOING_BEFORE_ZH = re.compile(r"(?:着|了|过|[骑抱牵拿推拉背抓带养喂遛逗看])(?:一[只个条位头匹辆])?$")
# ... except after waiting: "等着爸爸的车", where neither is in view yet
_AWAITING_BEFORE_ZH = re.compile(r"(?:等着|等待|等候|盼着)$")
# "two pizza boxes", "a dog costume": the first noun only says what kind the next one is
_KIND_OF_NEXT_EN = re.compile(r"\s+(?:box|boxes|bag|bags|carton|cartons|wrapper|wrappers|packaging|costume|costumes|"
                              r"poster|posters|logo|print|pattern|sticker|stickers|slicer|cutter|flavou?red|shaped|toy|toys)\b",
                              re.I)


def without_attributes(mentions: list[Mention], text: str) -> list[Mention]:
    """The mentions less those that only describe another noun: an owner named to say whose a
    thing is ("a teddy bear on a child's bed" has no child in view; "快递员把纸箱交给前台的小姐姐" has
    one receptionist, not two people), a noun naming a kind of the next ("two pizza boxes"), and
    "the cab of" a truck, which is no taxi."""
    kept = []
    for index, mention in enumerate(mentions):
        following = mentions[index + 1] if index + 1 < len(mentions) else None
        chinese = re.search(r"[\u4e00-\u9fff]", mention.phrase) is not None
        owner = _owner_zh(mention, following, text) if chinese else _owner_en(mention, following, text)
        kind_of_next = (not chinese and mention.coco != "person" and not mention.phrase.endswith("s")
                        and _KIND_OF_NEXT_EN.match(text, mention.end) is not None)
        part = mention.head == "cab" and re.match(r"\s+of\b", text[mention.end :]) is not None
        if not (owner or kind_of_next or part):
            kept.append(mention)
    return kept


def _owner_en(mention: Mention, following: Mention | None, text: str) -> bool:
    """"a child's bed", "a customer's front door": the thing or place owned is named within the next two words."""
    if not _POSSESSIVE_EN.search(mention.phrase) or mention.pronoun or mention.head in _BODY_PARTS:
        return False
    owned = {word.lower() for word in re.findall(r"\w+", text[mention.end :])[:2]}
    if owned & _ON_THE_OWNER:
        return False
    thing_next = (following is not None and following.head not in _BODY_PARTS
                  and len(re.findall(r"\w+", text[mention.end : following.start])) <= 1)
    return thing_next or bool(owned & _PLACE_WORDS_EN)


def _owner_zh(mention: Mention, following: Mention | None, text: str) -> bool:
    """"爸爸的自行车", "前台的小姐姐": someone (or an animal) 的 a person or a thing of another class."""
    if following is None or not mention.animate or following.head in _BODY_PARTS | _ON_THE_OWNER_ZH:
        return False
    if not _OWNED_AFTER_ZH.fullmatch(text[mention.end : following.start]):
        return False
    if following.coco != "person" and following.coco == mention.coco:
        return False
    doing = _DOING_BEFORE_ZH.search(text[max(0, mention.start - 3) : mention.start])
    return doing is None or _AWAITING_BEFORE_ZH.search(text[: mention.start]) is not None


# Between an apposition's members: "two women and a bald man", "一男一女、两个孩子".
_LIST_JOINER = re.compile(r"\s*(?:,|and|&|和|与|、)?\s*(?:and\s+)?", re.I)
# How a group's detail opens, and what must close it: "Three people, A and B, walk" (a comma,
# not the clause's end: "Two men, a woman and a child." lists four people); "Three people: A and B."
_DETAIL_CLOSERS = {",": r"\s*[,—)]", "，": r"\s*[，,—）]", "(": r"\s*\)", "（": r"\s*）",
                   ":": r"\s*(?:[.;。；]|$)", "：": r"\s*(?:[.;。；]|$)", "—": r"\s*[—,]"}
# A group named by sex is not detailed by members of the other one ("Two men, a woman and a child").
_SEXED_GROUPS = {"men", "women", "boys", "girls", "ladies", "gentlemen", "males", "females", "guys"}


def without_group_details(mentions: list[Mention], text: str) -> list[Mention]:
    """The mentions less those that only say who is in a numbered group just named: "Three people,
    two women and a bald man, walk up" has three people, not six. Members count as a group's
    detail only when set off by punctuation that opens right after the group and closes right
    after them, all of its class, every number stated, and adding up to exactly the group's
    number; anything less sure counts as written."""
    dropped: set[int] = set()
    for i, group in enumerate(mentions[:-1]):
        opening = text[group.end:mentions[i + 1].start].strip()
        if group.negated or not group.count or group.count < 2 or group.head.lower() in _SEXED_GROUPS \
                or opening not in _DETAIL_CLOSERS:
            continue
        total, j = 0, i + 1
        while j < len(mentions) and total < group.count:
            member = mentions[j]
            joined = j == i + 1 or _LIST_JOINER.fullmatch(text[mentions[j - 1].end:member.start])
            if not joined or member.coco != group.coco or member.count is None or member.negated:
                break
            total, j = total + member.count, j + 1
        if j > i + 1 and total == group.count and re.match(_DETAIL_CLOSERS[opening], text[mentions[j - 1].end:]):
            dropped.update(range(i + 1, j))
    return [m for k, m in enumerate(mentions) if k not in dropped]


_GROUP_WORDS = {"两人", "俩人", "二人", "他们俩", "她们俩", "他俩", "她俩", "both", "the two", "the pair", "全家人",
                "一家人"}


def _class_count(introducing: list[Mention], counts_by_head: dict[str, int], coco: str | None) -> int:
    return sum(counts_by_head[m.head] for m in introducing if m.coco == coco and m.head in counts_by_head)


_PRONOUN_SUBJECT = {"en": re.compile(r"(?:^|[.;,!?]\s*)\W*(?:he|she)\s+(?!is\b|was\b)[a-z]+", re.I),
                    "zh": re.compile(r"(?:^|[，,。；;！？!?])\W*[他她](?![们俩])")}


def with_pronoun_subject(classes: dict[str, int], text: str, language: str) -> dict[str, int]:
    """"She unlocks her bike and rides off", "在把蛋糕放进冰箱之前，她在上面撒了一层糖粉": a clause that
    opens on he or she shows a person, though the prompt never names one (its vague-prompt warning
    stays)."""
    if "person" in classes or not _PRONOUN_SUBJECT[language].search(text):
        return classes
    return {"person": 1, **classes}


def absent_classes(mentions: list[Mention], classes: dict[str, int], nobody: bool) -> list[str]:
    """COCO classes the text says are not in the shot, less those it also puts in ("不要出现
    其他人" beside "一个男人": one person, and QA cannot forbid people)."""
    absent = [m.coco for m in mentions if m.negated and m.coco] + (["person"] if nobody else [])
    # "no animals" names no class: it goes to the negative prompt, and QA forbids nothing it
    # would have to guess (a bird over an empty playground is not what the text ruled out)
    return sorted({c for c in absent if c not in classes})


def _refer_back(mention: Mention, counts_by_head: dict[str, int]) -> None:
    """A word seen before: "another dog" after one dog makes two; "three dogs" raises the count."""
    head = mention.head
    if mention.another and counts_by_head[head] < 2:
        counts_by_head[head] += 1
    elif mention.count is not None:
        counts_by_head[head] = max(counts_by_head[head], mention.count)


# A vehicle named again by a generic word ("把车靠在树旁" after a bicycle) or as someone's own
# ("a truck driver climbs into his cab") is the vehicle already there, whatever its class.
_VEHICLES = {"bicycle", "car", "motorcycle", "bus", "truck", "train", "boat", "airplane"}
_GENERIC_VEHICLE_WORDS = {"车", "车子", "爱车", "vehicle", "ride", "wheels"}
_POSSESSIVES_EN = ("his ", "her ", "their ", "its ", "my ", "our ", "your ")


def _same_vehicle(mention: Mention, classes_seen: set[str]) -> bool:
    if mention.coco not in _VEHICLES or not classes_seen & _VEHICLES or mention.another:
        return False
    return mention.head in _GENERIC_VEHICLE_WORDS or mention.phrase.lower().startswith(_POSSESSIVES_EN)


def _refers_to_class_seen(mention: Mention, classes_seen: set[str], language: str) -> bool:
    if _same_vehicle(mention, classes_seen):
        return True
    if mention.coco not in classes_seen:
        return False
    generic_person = mention.head in ("person", "people", "人", "人们") and mention.definite
    if mention.coco == "person":
        return generic_person
    bare_zh = language == "zh" and not mention.stated and not mention.another \
        and not mention.head.endswith(("妈妈", "爸爸", "宝宝"))  # "鸭妈妈" after "五只小鸭" is one more
    return mention.definite or bare_zh
