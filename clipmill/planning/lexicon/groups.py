"""Nouns that name no single, countable, checkable thing: pairs, vague groups and generic kinds."""
from __future__ import annotations

# Named in the plan but not specific: the generator picks anything and QA cannot check it.
GENERIC_SUBJECTS = {"animal", "creature", "pet", "thing", "动物", "小动物", "宠物", "东西"}
# Counted as a group of two ("a couple", "情侣").
PAIR_NOUNS = {"couple", "twins", "情侣", "夫妻", "双胞胎", "父子", "母女", "母子", "父女", "兄妹", "姐弟", "祖孙",
              "他们俩", "她们俩", "他俩", "她俩", "俩人", "两人", "两口子", "老两口", "小两口", "夫妇", "新婚夫妇",
              "哥儿俩", "姐儿俩", "爷儿俩", "娘儿俩", "兄弟俩", "姐妹俩"}
VAGUE_GROUP_NOUNS = {"crowd", "family", "group", "team", "人们", "人群"}
# Words that name how many people they are ("a trio", "a trio of singers", "newlyweds").
GROUP_NUMBERS = {"pair": 2, "couple": 2, "duo": 2, "twins": 2, "twin": 2, "newlyweds": 2, "newlywed": 2,
                 "trio": 3, "triplets": 3, "quartet": 4, "foursome": 4, "quintet": 5}
# Chinese kin words that name a group of people: "三兄妹" (three), "爷孙俩" (two), "两口子".
KIN_GROUPS_ZH = ("兄弟姐妹", "兄妹", "姐妹", "兄弟", "姐弟", "姊妹", "母女", "母子", "父子", "父女", "爷孙", "祖孙",
                 "奶孙", "婆孙", "夫妻", "夫妇", "师徒", "婆媳", "闺蜜", "哥们", "姐们", "娘儿", "爷儿", "娘", "爷",
                 "哥", "姐", "兄", "弟", "母女", "朋友", "同学", "闺蜜")


def group_count(head: str, count: int | None) -> int | None:
    """The count a noun stands for: "two couples" are four people, "a crowd" has no number."""
    if head in PAIR_NOUNS:
        return 2 * (count or 1)
    if head in GROUP_NUMBERS and head not in ("pair", "couple", "twin"):
        return GROUP_NUMBERS[head] * (count or 1)
    if head in VAGUE_GROUP_NOUNS:
        return None
    return count
