"""Counting: how many of each COCO class a prompt asks for, and which mentions introduce them."""
from __future__ import annotations

from clipmill.planning.parsing import Mention


def count_entities(mentions: list[Mention]) -> tuple[dict[str, int], list[Mention], list[Mention]]:
    """Class counts, the mentions that introduce an entity, and those whose number was unstated.

    A word seen before refers back ("a man ... the man"); a definite new word for a class
    already present does too ("a dog ... the puppy"), except for people, where "the woman"
    after "a man" is somebody new. An unstated number ("dogs") counts as 2.
    """
    counts_by_head: dict[str, int] = {}
    introducing: list[Mention] = []
    unstated: list[Mention] = []
    classes_seen: set[str] = set()
    for mention in mentions:
        if mention.pronoun:
            continue
        if mention.head in counts_by_head:
            _refer_back(mention, counts_by_head)
            continue
        if _refers_to_class_seen(mention, classes_seen):
            continue
        stated = mention.count
        if stated is None:
            unstated.append(mention)
            stated = 2
        counts_by_head[mention.head] = stated
        introducing.append(mention)
        if mention.coco:
            classes_seen.add(mention.coco)
    classes: dict[str, int] = {}
    for mention in introducing:
        if mention.coco:
            classes[mention.coco] = classes.get(mention.coco, 0) + counts_by_head[mention.head]
    return classes, introducing, unstated


def _refer_back(mention: Mention, counts_by_head: dict[str, int]) -> None:
    """A word seen before: "another dog" after one dog makes two; "three dogs" raises the count."""
    head = mention.head
    if mention.another and counts_by_head[head] < 2:
        counts_by_head[head] += 1
    elif mention.count is not None:
        counts_by_head[head] = max(counts_by_head[head], mention.count)


def _refers_to_class_seen(mention: Mention, classes_seen: set[str]) -> bool:
    generic_person = mention.head in ("person", "people", "人", "人们") and mention.definite
    return mention.coco in classes_seen and (mention.definite and mention.coco != "person" or generic_person)
