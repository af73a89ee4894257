"""Nouns that name no single, countable, checkable thing: pairs, vague groups and generic kinds."""
from __future__ import annotations

# Named in the plan but not specific: the generator picks anything and QA cannot check it.
GENERIC_SUBJECTS = {"animal", "creature", "pet", "thing", "动物", "小动物", "宠物", "东西"}
# Counted as a group of two ("a couple", "情侣").
PAIR_NOUNS = {"couple", "twins", "情侣", "夫妻", "双胞胎", "父子", "母女", "母子", "父女", "兄妹", "姐弟", "祖孙",
              "他们俩", "她们俩", "他俩", "她俩", "俩人", "两人"}
VAGUE_GROUP_NOUNS = {"crowd", "family", "group", "team", "人们", "人群"}


def group_count(head: str, count: int | None) -> int | None:
    """The count a noun stands for: "two couples" are four people, "a crowd" has no number."""
    if head in PAIR_NOUNS:
        return 2 * (count or 1)
    if head in VAGUE_GROUP_NOUNS:
        return None
    return count
