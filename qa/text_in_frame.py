"""Text in the picture: mutating pseudo-text, burned-in captions, watermarks, garbled text.

An OCR adapter (models/ocr.py) reads a few frames; this module only judges its readings.
Text in a frame is not a defect in itself: a licence plate or a product label belongs to the
scene. These are:

- **mutating text**, above all: printed text in a real scene reads the same in every frame,
  while a generator redraws its pseudo-letters each frame. The readings of one region
  (boxes overlapping by half the smaller box, lines of similar height) are compared across
  frames: a share of substituted characters above `max_text_change` fails. Characters missing
  at either end (a sign half hidden, a line read short) do not count as changes, nor does a
  reading found elsewhere in the other frame (a pan brings the next sign where this one was).
- **captions**: a line of text of caption size, horizontally centred, in the bottom or top
  band of the picture: burned-in subtitles in a clip that should have none.
- **watermarks**: a small line in a corner, on screen in most of the examined frames.
- **garbled text**: Latin words no language spells (a run of 4 consonants, no vowel at all).

Text the prompt asks for (`allowed_text_from_prompt`) is exempt from the last three.
Codes with digits (plates, prices) are never garbled.

Defaults were chosen on sam2_01_dog.mp4 (drawn captions, a CJK caption, a watermark, garbled
and mutating text) and on sam2_cars.jpg panned as a clip (a real licence plate), checked
against the other shared clips and photos, where the reader finds no text.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from clipmill.qa.types import Check, CheckKind

STAGE = "text"


@dataclass(frozen=True)
class TextBox:
    """One line of text read in one frame. `box` is (x1, y1, x2, y2) in the frame's pixels."""

    frame: int
    text: str
    confidence: float
    box: tuple[float, float, float, float]


# ---------------------------------------------------------------- text the prompt asks for

_QUOTED = re.compile(r'"([^"]{1,80})"|“([^”]{1,80})”|「([^」]{1,80})」|『([^』]{1,80})』|‘([^’]{1,80})’|《([^》]{1,80})》'
                     r"|(?:(?<=\s)|^)'([^']{1,80})'(?=[\s.,;:!?)]|$)")
_SAYS = re.compile(r"\b(?:says|saying|reads|reading|spells|spelling|labell?ed|titled|branded|named|called|"
                   r"printed(?: with)?|with the (?:words?|text|logo|brand))\s+"
                   r"([A-Za-z0-9][\w&'\-]*(?:\s+[A-Za-z0-9][\w&'\-]*){0,3})", re.IGNORECASE)
_SAYS_ZH = re.compile(r"(?:写着|印着|印有|标有|字样为?)[:：]?\s*([\u4e00-\u9fffA-Za-z0-9]{1,12})")
_STOP = {"a", "an", "the", "and", "in", "on", "at", "with", "while", "as", "of", "to"}


def allowed_text_from_prompt(prompt: str) -> list[str]:
    """The text a prompt asks to see: quoted strings ("" “” 「」 『』 《》 ''), and what follows
    "says"/"reads"/"labelled"/"写着"/"印有".

    >>> allowed_text_from_prompt('a cafe sign that says OPEN, a mug printed “Morning Brew”')
    ['Morning Brew', 'OPEN']
    """
    found: list[str] = []
    for match in _QUOTED.finditer(prompt):
        found.append(next(g for g in match.groups() if g is not None).strip())
    for match in _SAYS.finditer(prompt):
        words = match.group(1).split()
        while words and words[-1].lower() in _STOP:
            words.pop()
        cut = next((i for i, w in enumerate(words) if w.lower() in _STOP), len(words))
        if words[:cut]:
            found.append(" ".join(words[:cut]).strip("'\""))
    for match in _SAYS_ZH.finditer(prompt):
        found.append(match.group(1))
    unique: list[str] = []
    for text in found:
        if text and _normalize(text) and text not in unique:
            unique.append(text)
    return unique


def _normalize(text: str) -> str:
    """Case-folded letters and digits only (NFKC: full-width forms become plain ones)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def _is_allowed(text: str, allowed: Sequence[str], max_change: float) -> bool:
    reading = _normalize(text)
    for wanted in allowed:
        target = _normalize(wanted)
        if not target or not reading:
            continue
        if target in reading or reading in target:
            return True
        if change_rate(reading, target) <= max_change:
            return True
    return False


# ---------------------------------------------------------------- measures

def _levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def change_rate(a: str, b: str) -> float:
    """Share of characters that differ between two readings, ignoring a missing head or tail.

    (edit distance - length difference) / shorter length, on normalized text: 0 for the
    same text or one reading cut short, 1 for unrelated strings.
    """
    a, b = _normalize(a), _normalize(b)
    if not a or not b:
        return 0.0
    # Best alignment of the shorter string inside the longer one, so truncation is free.
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    best = _levenshtein(short, long_) - (len(long_) - len(short))
    for start in range(len(long_) - len(short) + 1):
        window = long_[start:start + len(short)]
        best = min(best, _levenshtein(short, window))
    return max(0, best) / len(short)


_VOWELS = set("aeiouyàáâäèéêëìíîïòóôöùúûü")


def garbled_share(text: str) -> float:
    """Share of the Latin letters in words that no language spells (0 when none are Latin).

    A word is garbled when it has 4 or more letters and no vowel (acronyms of up to 5 capitals
    aside), or a run of 4 or more consonant sounds (sch, ch, th, ng, sz... count as one). Words
    with digits (plates, prices, ``P075359``) are codes, not words.
    """
    letters = garbled = 0
    for word in re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", text)):
        latin = [ch for ch in word if ch.isascii() and ch.isalpha()]
        if not latin or len(latin) != sum(ch.isalpha() for ch in word):
            continue  # CJK and other scripts are judged by mutation, not spelling
        if any(ch.isdigit() for ch in word):
            letters += len(latin)
            continue
        lower = word.lower()
        letters += len(lower)
        # Consonant digraphs sound as one (Schwarz, strength, Angst are words).
        sounds = lower.replace("sch", "S").replace("tch", "T")
        for digraph, one in (("ch", "C"), ("sh", "S"), ("th", "T"), ("ph", "F"), ("gh", "G"), ("ck", "K"), ("ng", "N"),
                             ("qu", "Q"), ("sz", "S"), ("cz", "C"), ("rz", "R"), ("dz", "D"), ("ll", "L")):
            sounds = sounds.replace(digraph, one)
        run = longest = 0
        for ch in sounds:
            run = 0 if ch in _VOWELS else run + 1
            longest = max(longest, run)
        acronym = word.isupper() and len(word) <= 5
        if not acronym and ((len(lower) >= 4 and not any(ch in _VOWELS for ch in lower)) or longest >= 4):
            garbled += len(lower)
    return garbled / letters if letters else 0.0


# ---------------------------------------------------------------- the checks

def text_frame_indices(n_frames: int, count: int = 4) -> list[int]:
    """`count` evenly spaced frames from first to last: which frames to hand the OCR reader.

    Reading costs ~0.2 s a 640x360 frame and ~0.3-0.7 s a 1280x720 one on 2 CPU cores;
    mutating text shows between any two of them, a watermark in all of them.
    """
    if n_frames <= 0:
        return []
    count = max(1, min(count, n_frames))
    if count == 1:
        return [0]
    return sorted({round(i * (n_frames - 1) / (count - 1)) for i in range(count)})


WATERMARK_MIN_PRESENCE = 0.5


def watermark_frames_needed(examined: int, min_presence: float = WATERMARK_MIN_PRESENCE) -> float:
    """In how many of `examined` frames a watermark must be read: `min_presence` of them, and 2."""
    return max(2, min_presence * examined) if examined > 1 else 1


def read_corners_while_a_watermark_can_show(reader, frames, indices: Sequence[int], whole_frame_boxes: Sequence[TextBox],
                                            min_presence: float = WATERMARK_MIN_PRESENCE) -> list[TextBox]:
    """The reader's corner readings (`read_corners`) of `indices`, in order, stopping once no text
    can be a watermark any more.

    A frame where neither the whole-frame reading (`whole_frame_boxes`) nor the corners found any
    text holds no watermark; once so many frames are text-free that fewer than
    `watermark_frames_needed` are left, no text is on screen in enough of them, and the remaining
    corners need not be read. The watermark verdict is the one reading every corner gives; a clip
    without text reads the corners of 3 of its 4 frames. Corners are most of OCR's cost: eight
    detections of enlarged crops a frame, against one of the whole frame."""
    needed = watermark_frames_needed(len(indices), min_presence)
    with_text = {b.frame for b in whole_frame_boxes}
    found: list[TextBox] = []
    text_free = 0
    for i in indices:
        in_corners = reader.read_corners(frames, [i])
        found += in_corners
        text_free += not in_corners and i not in with_text
        if len(indices) - text_free < needed:
            break
    return found


def text_checks(
    boxes: Sequence[TextBox],
    examined_frames: Sequence[int],
    *,
    frame_size: tuple[int, int],
    allowed_text: Sequence[str] = (),
    corner_boxes: Sequence[TextBox] = (),
    min_confidence: float = 0.6,
    min_chars: int = 2,
    max_text_change: float = 0.34,
    min_region_overlap: float = 0.5,
    caption_min_height: float = 0.03,
    caption_max_center_offset: float = 0.2,
    caption_band: float = 0.3,
    caption_min_width: float = 0.15,
    watermark_max_height: float = 0.08,
    watermark_corner: float = 0.25,
    watermark_side_margin: float = 0.06,
    watermark_max_width: float = 0.5,
    watermark_min_presence: float = WATERMARK_MIN_PRESENCE,
    max_garbled_share: float = 0.5,
    garbled_min_confidence: float = 0.8,
) -> list[Check]:
    """Four checks, in the order text_change, text_caption, text_watermark, text_garbled.

    Args:
        boxes: what the reader found in `examined_frames` (models.ocr.TextReader.read).
        examined_frames: the indices the reader looked at, text or not.
        frame_size: (height, width) of the frames, for positions and sizes.
        allowed_text: text the prompt asks for (`allowed_text_from_prompt`).
        corner_boxes: what the reader found in the corners of `examined_frames`, read enlarged
            and contrast-stretched (models.ocr.TextReader.read_corners): faint watermarks that
            reading the whole frame misses. They count for the watermark check only; the
            stretching can make a texture read as a letter or two, which no other check should
            see.
        min_confidence: readings below this confidence are ignored (a texture read as "O").
        min_chars: readings with fewer letters or digits are ignored.
        max_text_change: the largest share of changed characters between two readings of
            one region (`change_rate`); OCR misreads one in 7 of a real plate at worst,
            generated text is redrawn wholesale (> 0.5).
        min_region_overlap: two boxes are one region when their intersection covers this
            share of the smaller box.
        caption_min_height: a caption's line is at least this share of the frame height.
        caption_max_center_offset: its centre is at most this share of the width off centre.
        caption_band: it lies in the bottom band of this height share (or the top half of it).
        caption_min_width: and spans at least this share of the width (a licence plate at
            the bottom of the picture does not).
        watermark_max_height: a watermark's line is at most this share of the frame height.
        watermark_corner: it lies within this share of the width and of the height from a corner,
            or, for a long handle ("@TikTok 抖音号 83021" spans a third of a 640-pixel frame),
            within that share of the height and starts or ends within `watermark_side_margin`
            of the width from a side, no wider than `watermark_max_width` (a caption is centred).
        watermark_min_presence: it is read in at least this share of the examined frames
            (and in 2 of them), always in the same place and as the same text (within
            `max_text_change`: a mark does not change; textures misread as letters do).
        max_garbled_share: a reading fails when more of its Latin letters are in garbled words.
        garbled_min_confidence: spelling is judged only on readings this confident: a real
            word half read ("Strngth") comes with a lower confidence than drawn pseudo-text.
    """
    height, width = frame_size
    examined = sorted(set(int(i) for i in examined_frames))
    def legible(found: Sequence[TextBox]) -> list[TextBox]:
        return [b for b in found if b.confidence >= min_confidence and len(_normalize(b.text)) >= min_chars]

    readings = legible(boxes)
    foreign = [b for b in readings if not _is_allowed(b.text, allowed_text, max_text_change)]
    in_corners = [b for b in legible(corner_boxes) if not _is_allowed(b.text, allowed_text, max_text_change)]
    return [
        _change_check(readings, max_text_change, min_region_overlap, len(examined)),
        _caption_check(foreign, height, width, caption_min_height, caption_max_center_offset, caption_band,
                       caption_min_width),
        _watermark_check(foreign + in_corners, examined, height, width, watermark_max_height, watermark_corner,
                         watermark_side_margin, watermark_max_width, watermark_min_presence, min_region_overlap,
                         max_text_change),
        _garbled_check([b for b in foreign if b.confidence >= garbled_min_confidence], max_garbled_share),
    ]


def overlap(a: tuple, b: tuple) -> float:
    """Intersection over the smaller box's area."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / smaller if smaller > 0 else 0.0


def _similar_height(a: tuple, b: tuple) -> bool:
    """Lines of one region are about as tall in both frames (a caption over a sign is not one region)."""
    ha, hb = a[3] - a[1], b[3] - b[1]
    return ha > 0 and hb > 0 and 2 / 3 <= ha / hb <= 3 / 2


def _seen_in(text: str, others: list[TextBox], max_change: float) -> bool:
    return any(change_rate(text, other.text) <= max_change for other in others)


def _change_check(readings: list[TextBox], max_change: float, min_overlap: float, n_examined: int) -> Check:
    worst: tuple[float, TextBox, TextBox] | None = None
    changed: list[tuple[float, TextBox, TextBox]] = []
    by_frame: dict[int, list[TextBox]] = {}
    for r in readings:
        by_frame.setdefault(r.frame, []).append(r)
    for i, a in enumerate(readings):
        for b in readings[i + 1:]:
            if a.frame == b.frame or overlap(a.box, b.box) < min_overlap or not _similar_height(a.box, b.box):
                continue
            rate = change_rate(a.text, b.text)
            if rate > max_change and (_seen_in(a.text, by_frame[b.frame], max_change) or _seen_in(b.text, by_frame[a.frame], max_change)):
                continue  # the camera moved: another sign now stands where this one stood
            if worst is None or rate > worst[0]:
                worst = (rate, a, b)
            if rate > max_change:
                changed.append((rate, a, b))
    if worst is None:
        return Check(STAGE, CheckKind.TEXT_CHANGE, 0.0, max_change, True,
                     f"no region's text was read in two of the {n_examined} examined frames")
    rate, a, b = worst
    if not changed:
        return Check(STAGE, CheckKind.TEXT_CHANGE, rate, max_change, True,
                     f"text stays the same from frame to frame: at most {rate:.0%} of characters differ "
                     f"('{a.text}' frame {a.frame}, '{b.text}' frame {b.frame}; <= {max_change:.0%})")
    examples = "; ".join(f"'{x.text}' in frame {x.frame} became '{y.text}' in frame {y.frame}"
                         for _, x, y in sorted(changed, key=lambda c: -c[0])[:3])
    frames = sorted({x.frame for _, x, _ in changed} | {y.frame for _, _, y in changed})
    return Check(STAGE, CheckKind.TEXT_CHANGE, rate, max_change, False,
                 f"text changes from frame to frame (generated pseudo-text): {examples} "
                 f"({rate:.0%} of characters differ > {max_change:.0%}; frames {_frames(frames)})")


def _caption_check(foreign: list[TextBox], height: int, width: int, min_height: float,
                   max_offset: float, band: float, min_width: float) -> Check:
    captions = []
    for b in foreign:
        x1, y1, x2, y2 = b.box
        centred = abs((x1 + x2) / 2 - width / 2) <= max_offset * width
        tall = (y2 - y1) >= min_height * height and (x2 - x1) >= min_width * width
        in_band = y1 >= (1 - band) * height or y2 <= band / 2 * height
        if centred and tall and in_band:
            captions.append(b)
    if not captions:
        return Check(STAGE, CheckKind.TEXT_CAPTION, 0.0, 0.0, True, "no caption-like text (centred, caption-sized, at the bottom or top)")
    return Check(STAGE, CheckKind.TEXT_CAPTION, float(len(captions)), 0.0, False,
                 f"burned-in caption not asked for by the prompt: {_listing(captions)}")


def _watermark_check(foreign: list[TextBox], examined: list[int], height: int, width: int, max_height: float,
                     corner: float, side_margin: float, max_width: float, min_presence: float,
                     min_overlap: float, max_change: float) -> Check:
    in_corner = []
    for b in foreign:
        x1, y1, x2, y2 = b.box
        small = (y2 - y1) <= max_height * height
        within_corner = x2 <= corner * width or x1 >= (1 - corner) * width
        against_side = (x1 <= side_margin * width or x2 >= (1 - side_margin) * width) and x2 - x1 <= max_width * width
        near_side = within_corner or against_side
        near_edge = y2 <= corner * height or y1 >= (1 - corner) * height
        if small and near_side and near_edge:
            in_corner.append(b)
    marks: list[list[TextBox]] = []
    for b in in_corner:  # group the same text in the same place across frames
        for group in marks:
            if overlap(group[0].box, b.box) >= min_overlap and change_rate(group[0].text, b.text) <= max_change:
                group.append(b)
                break
        else:
            marks.append([b])
    needed = watermark_frames_needed(len(examined), min_presence)
    found = [g for g in marks if len({b.frame for b in g}) >= needed]
    value = max((len({b.frame for b in g}) / max(len(examined), 1) for g in marks), default=0.0)
    if not found:
        return Check(STAGE, CheckKind.TEXT_WATERMARK, value, min_presence, True,
                     "no watermark: no small text stays in a corner" if not marks else
                     f"corner text is not on screen throughout ({value:.0%} of examined frames < {min_presence:.0%}): "
                     f"{_listing([g[0] for g in marks])}")
    listed = "; ".join(f"'{g[0].text}' at x {g[0].box[0]:.0f}-{g[0].box[2]:.0f}, y {g[0].box[1]:.0f}-{g[0].box[3]:.0f} "
                       f"in frames {_frames(sorted({b.frame for b in g}))}" for g in found)
    return Check(STAGE, CheckKind.TEXT_WATERMARK, value, min_presence, False, f"watermark in a corner of the picture: {listed}")


def _garbled_check(foreign: list[TextBox], max_share: float) -> Check:
    scored = [(garbled_share(b.text), b) for b in foreign]
    bad = [b for share, b in scored if share > max_share]
    worst = max((share for share, _ in scored), default=0.0)
    if not bad:
        return Check(STAGE, CheckKind.TEXT_GARBLED, worst, max_share, True,
                     "no garbled text" if not scored else f"text reads as words: at most {worst:.0%} of letters in garbled words")
    return Check(STAGE, CheckKind.TEXT_GARBLED, worst, max_share, False,
                 f"garbled pseudo-text ({worst:.0%} of letters in words no language spells > {max_share:.0%}): {_listing(bad)}")


def _listing(boxes: list[TextBox], limit: int = 4) -> str:
    by_text: dict[str, list[int]] = {}
    for b in boxes:
        by_text.setdefault(b.text, []).append(b.frame)
    items = [f"'{text}' in frame{'s' if len(set(f)) > 1 else ''} {_frames(sorted(set(f)))}" for text, f in by_text.items()]
    return "; ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _frames(frames: list[int]) -> str:
    return ", ".join(str(f) for f in frames[:8]) + (", ..." if len(frames) > 8 else "")
