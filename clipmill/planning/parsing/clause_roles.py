"""What each clause is in the shot: an action (a subject does something), a state (a subject
somewhere, no verb), a camera direction, a look (light, style, finish), a labelled sentence
("Setting: ...") or another detail. Nothing is dropped: each role has its place in the prompt."""
from __future__ import annotations

import re

from clipmill.planning.language import Language
from clipmill.planning.lexicon import ADJECTIVES_EN, VERB_CHARS_ZH, VERB_FORMS_EN
from clipmill.planning.lexicon.shot_words import (
    CAMERA_AS_OBJECT_EN,
    CAMERA_AS_OBJECT_ZH,
    CAMERA_EN,
    CAMERA_LABELS,
    CAMERA_ZH,
    LOOK_EN,
    LOOK_LABELS,
    LOOK_ZH,
    NEGATIVE_LABELS,
)
from clipmill.planning.parsing.clauses import has_verb, starts_with_verb_en, without_nouns_zh
from clipmill.planning.parsing.records import Clause, Mention

_ADVERB_ZH = (r"(?:[几一两三四五六七八九十\d]+(?:分钟|秒|秒钟|小时|天)(?:后|之后)|片刻后|不久后|[\u4e00-\u9fff]{1,4}地|缓缓|慢慢|轻轻|快速|迅速|突然|忽然|立刻|马上|偷偷|悄悄|默默|静静|再|又|也|还|就|便|"
              r"一起|互相|纷纷|陆续|开始|先|正在|正|微|大|轻|猛|狂)?")
_CAMERA_SUBJECT = {"en": re.compile(r"^(?:the\s+|a\s+)?(?:\w+\s+)?camera\b", re.I),
                   "zh": re.compile(r"^(?:镜头|摄像机|相机|机位)")}
_FRAMING_EN = re.compile(r"\b(?:shot|close-?up|closeup|footage|view|macro|time-?lapse|slow[- ]motion|pov)s?$", re.I)
_GROUP_OF_EN = re.compile(r"^(?:(?:a|an|the)\s+)?(?:\w+\s+)?(?:group|crowd|bunch|herd|flock|pack|team|family|gang|"
                          r"pair|couple|line|row|troop|swarm|school|litter)\s+of\s+", re.I)
# "A vintage film camera sits on a desk": the camera is the product, not the shot
_CAMERA_AS_THING = {"en": re.compile(r"\bcameras?\s+(?:sits?|sitting|rests?|resting|lies|lying|stands?|standing|is\s+"
                                     r"(?:on|placed|set)|on\s+(?:a|the)|placed)\b", re.I),
                    "zh": re.compile(r"(?:相机|摄像机)(?:放|摆|立)在")}


def clause_role(clause: Clause, language: Language, inside: list[Mention], previous_role: str) -> str:
    """One of "label", "camera", "look", "negative", "action", "state", "detail", "skip"."""
    if clause.label == "framing":  # "Product shot:", "特写：", "Opening hook:" (the words after it are the shot)
        if (CAMERA_EN if language == "en" else CAMERA_ZH).search(clause.text):
            return "camera"
        return "look" if (LOOK_EN if language == "en" else LOOK_ZH).search(clause.text) else "skip"
    if clause.label:
        return "look" if clause.label in LOOK_LABELS else "camera" if clause.label in CAMERA_LABELS else \
            "negative" if clause.label in NEGATIVE_LABELS else "label"
    text = clause.text
    film_camera = not _CAMERA_AS_THING[language].search(text)  # "Dynamic handheld camera" films the shot
    subjects = [m for m in inside if not m.negated and not (film_camera and m.head in ("camera", "film camera", "相机"))]
    subject_first = bool(subjects) and opens_with(clause, subjects[0], language)
    camera = (CAMERA_EN if language == "en" else CAMERA_ZH).search(text)
    camera_object = (CAMERA_AS_OBJECT_EN if language == "en" else CAMERA_AS_OBJECT_ZH).search(text)
    found = _FRAMING_EN.search(text) if language == "en" else None
    # "Aerial drone shot", "close-up" (not "A model walks in slow motion")
    framing = found is not None and (not subject_first or not has_verb(text[: found.start()], language))
    if camera and (_CAMERA_SUBJECT[language].search(text) or framing) \
            and not _CAMERA_AS_THING[language].search(text):
        return "camera"  # "The camera orbits ...", "Aerial drone shot", "close-up"
    verb_first = starts_with_verb(text, language)
    if not subject_first:
        if camera and not camera_object:
            return "camera"
        if (LOOK_EN if language == "en" else LOOK_ZH).search(text) and not subjects \
                and (not verb_first or _describing_first(text, language)) and not _finite_verb_en(text, language):
            return "look"
        if previous_role == "camera" and verb_first:
            return "camera"  # "..., then pushes in to a close-up"
    if has_verb(text, language) or verb_first or clause.sequence and not subject_first:
        return "action"  # what follows "then", "然后" is a step, whatever its verb
    if subjects:
        return "state"
    if camera and not camera_object:
        return "camera"
    if (LOOK_EN if language == "en" else LOOK_ZH).search(text):
        return "look"
    return "detail"


def _finite_verb_en(text: str, language: Language) -> bool:
    """"only his shadow moves": a noun phrase and its verb make an action, whatever light words it has."""
    if language != "en":
        return False
    words = text.lower().split()
    return any(w.endswith("s") and not w.endswith("ss") and w in VERB_FORMS_EN and k >= 2
               and words[k - 2] in ("a", "an", "the", "his", "her", "its", "their", "my", "your", "our")
               for k, w in enumerate(words))


def _describing_first(text: str, language: Language) -> bool:
    """"clean reflections", "soft light": the verb-looking first word describes the look."""
    first = text.split()[0].lower() if language == "en" and text.split() else ""
    return first in ADJECTIVES_EN


def opens_with(clause: Clause, mention: Mention, language: Language) -> bool:
    """The mention is the clause's grammatical subject: nothing but a few describing words
    stand before it (no preposition: "扑到床上" has no subject 床)."""
    gap = clause.text[: max(0, mention.start - clause.start)]
    gap = re.sub(r"^(?:画面|镜头|视频)(?:中|里)(?:只有|有)?", "", gap)  # "画面中只有一个人": the person is the subject
    if language == "en":
        gap = _GROUP_OF_EN.sub("", gap)  # "A crowd of commuters gets off": the commuters are the subject
        return len(gap.split()) <= 2 and not re.search(
            r"\b(?:on|in|at|to|into|onto|from|with|by|over|under|of|for|toward|towards|across|through|behind|beside|"
            r"near|around|like|past|about|against|without)\b", gap, re.I)
    return len(gap) <= 4 and not re.search(r"[在到把被给向从对朝往跟和与同于上里让叫]", gap) and not has_verb(gap, "zh")


def starts_with_verb(text: str, language: Language) -> bool:
    if language == "en":
        return starts_with_verb_en(text)
    masked = without_nouns_zh(text)
    if re.match(r"(?:对着|对|向|朝|往|把|将|从|跟|用|冲着|给|在|到)", masked):
        return True  # "对着镜头喷两下": a phrase before the verb, and no subject
    if re.match(r"[\u4e00-\u9fff]{1,2}得", masked):
        return True  # "辣得直吐舌头": a predicate first, its subject carried
    if VERB_CHARS_ZH.match(masked) or re.match(r"[上下](?:车|楼|山|船|飞机|台)|[\u4e00-\u9fff](?:了|着)", masked):
        return True  # "点了一杯奶茶": a verb by its aspect marker
    found = re.match(_ADVERB_ZH, masked)
    rest = masked[found.end() if found else 0 :]
    return bool(rest) and bool(VERB_CHARS_ZH.match(rest))
