"""Judge detections against the shot plan: subjects present, counts stable, nothing
vanishing and nothing the prompt rules out (qa/presence.py), and the planned interaction
(approach, contact, hand-over, entering or leaving) actually happening (here).

Detections come from a stride sample of the clip (`frame_indices`), so durations are
measured in clip frames: each examined frame stands for the frames up to the next
examined one. Track ids are used when the detector supplies them (to count distinct
instances and to tell two people of one class apart); without them everything is
worked out from per-frame counts and boxes.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np

from clipmill.qa.presence import STAGE, ClipSample, class_checks, forbidden_check, presence_checks, third_person
from clipmill.qa.types import Check, CheckKind, Detection, Expectations


def interaction_checks(
    detections: list[Detection],
    frame_indices: list[int],
    expectations: Expectations,
    *,
    min_presence: float = 0.5,
    max_gap_frames: int = 8,
    min_approach: float = 0.25,
    max_contact_gap: float = 0.05,
    frame_size: tuple[int, int] | None = None,
    camera_path: dict[int, tuple[float, float]] | None = None,
) -> list[Check]:
    """Checks of the clip's content against `expectations`.

    frame_size: (height, width) of the frames; with it, a subject last seen at the frame's edge
        has walked out of the shot, which the vanish check does not count as vanishing.
    camera_path: `qa.temporal.camera_path` of `frame_indices`: with it (and frame_size), a
        subject the camera panned away from is not counted as vanishing either.

    min_presence: fraction of examined frames in which each expected class must be
        seen at its expected count.
    max_gap_frames: a count change or absence lasting at most this many clip frames
        is forgiven (detectors miss objects for a moment; people pass behind things).
    min_approach: for "approach", the fraction by which the subjects' distance (in
        box sizes) must shrink from the first to the last third of the clip.
    max_contact_gap: for "contact", the largest gap between the boxes, in box sizes,
        that still counts as touching.

    Metrics are "presence:<class>", "count:<class>", "vanish:<class>",
    "interaction:<kind>" and "forbidden:<class>" (a class the prompt says is not there, seen
    for longer than `max_gap_frames`). No expected or forbidden classes, no checks.
    """
    if not expectations.classes and not expectations.at_least and not expectations.forbidden:
        return []
    clip = ClipSample(detections, frame_indices, max_gap_frames, frame_size, camera_path)
    forbidden = [forbidden_check(clip, label) for label in expectations.forbidden]
    if not expectations.classes and not expectations.at_least:
        return forbidden

    checks: list[Check] = []
    movers: set[str] = set()
    kind = expectations.interaction
    if kind is not None:
        interaction_check, movers = _interaction_check(clip, expectations, min_approach, max_contact_gap)
        checks.append(interaction_check)

    per_class: list[Check] = []
    for label, expected in expectations.classes.items():
        per_class.extend(class_checks(clip, label, expected, min_presence, moved=kind if label in movers else None))
    for label, fewest in expectations.at_least.items():
        moved = kind if label in movers else None
        if fewest == 1:
            per_class.extend(presence_checks(clip, label, min_presence, moved=moved))
        else:
            per_class.extend(class_checks(clip, label, fewest, min_presence, moved=moved, or_more=True))
    return per_class + checks + forbidden


def _interaction_check(clip: ClipSample, exp: Expectations, min_approach: float, max_contact_gap: float):
    kind = exp.interaction
    if kind in ("enter", "leave"):
        candidates = list(exp.subjects) or list(exp.classes) + list(exp.at_least)
        return _enter_or_leave(clip, kind, candidates)
    if len(exp.subjects) < 2:
        return _not_checked(kind, f"{kind} not checked: the shot plan names fewer than two subjects"), set()
    a, b = exp.subjects[0], exp.subjects[1]
    if kind == "approach":
        return _approach(clip, a, b, min_approach), set()
    if kind == "contact":
        return _contact(clip, a, b, max_contact_gap), set()
    if kind == "handover":
        if len(exp.subjects) < 3:
            return _not_checked(kind, "handover not checked: the shot plan names no object to hand over"), set()
        return _handover(clip, a, b, exp.subjects[2]), set()
    return _not_checked(kind, f"unknown interaction {kind!r} not checked"), set()


def _not_checked(interaction: str, reason: str) -> Check:
    return Check(STAGE, CheckKind.INTERACTION, 0.0, None, True, reason, subject=interaction)


def _centre(box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _diag(box) -> float:
    return max(math.hypot(box[2] - box[0], box[3] - box[1]), 1e-6)


def _pairs(clip: ClipSample, frame: int, a: str, b: str):
    first, second = clip.instances(frame, a), clip.instances(frame, b)
    return [(p, q) for p in first for q in second if p is not q]


def _centre_distance(p: Detection, q: Detection) -> float:
    """Distance between box centres in box sizes (mean diagonal), so it means the
    same whether the subjects are near the camera or far from it."""
    (px, py), (qx, qy) = _centre(p.box), _centre(q.box)
    return math.hypot(px - qx, py - qy) / ((_diag(p.box) + _diag(q.box)) / 2)


def _box_gap(p: Detection, q: Detection) -> float:
    """Gap between the boxes in box sizes; 0 when they touch or overlap."""
    dx = max(0.0, max(p.box[0], q.box[0]) - min(p.box[2], q.box[2]))
    dy = max(0.0, max(p.box[1], q.box[1]) - min(p.box[3], q.box[3]))
    return math.hypot(dx, dy) / ((_diag(p.box) + _diag(q.box)) / 2)


def _closest(clip: ClipSample, frames: list[int], a: str, b: str, measure) -> list[tuple[int, float]]:
    out = []
    for f in frames:
        values = [measure(p, q) for p, q in _pairs(clip, f, a, b)]
        if values:
            out.append((f, min(values)))
    return out


def _approach(clip: ClipSample, a: str, b: str, min_approach: float) -> Check:
    early = _closest(clip, clip.early, a, b, _centre_distance)
    late = _closest(clip, clip.late, a, b, _centre_distance)
    if not early or not late:
        third = "first" if not early else "last"
        return Check(STAGE, CheckKind.INTERACTION, 0.0, min_approach, False,
                     f"{a} and {b} never appear together in the {third} third, so no approach can be seen",
                     subject="approach")
    start = float(np.mean([d for _, d in early]))
    end = float(np.mean([d for _, d in late]))
    shrink = (start - end) / start if start > 0 else 0.0
    passed = shrink >= min_approach
    if passed:
        reason = f"{a} and {b} approach: distance shrinks from {start:.2f} to {end:.2f} box sizes ({shrink:.0%} >= {min_approach:.0%})"
    elif shrink < 0:
        reason = f"{a} and {b} move apart: distance grows from {start:.2f} to {end:.2f} box sizes"
    else:
        reason = f"{a} and {b} barely approach: distance shrinks from {start:.2f} to {end:.2f} box sizes ({shrink:.0%} < {min_approach:.0%})"
    return Check(STAGE, CheckKind.INTERACTION, shrink, min_approach, passed, reason, subject="approach")


def _contact(clip: ClipSample, a: str, b: str, max_gap: float) -> Check:
    gaps = _closest(clip, clip.frames, a, b, _box_gap)
    if not gaps:
        return Check(STAGE, CheckKind.INTERACTION, math.inf, max_gap, False,
                     f"{a} and {b} never appear together, so they cannot touch", subject="contact")
    frame, gap = min(gaps, key=lambda fg: (fg[1], fg[0]))
    if gap <= max_gap:
        first_touch = next(f for f, g in gaps if g <= max_gap)
        return Check(STAGE, CheckKind.INTERACTION, gap, max_gap, True, f"{a} and {b} touch at frame {first_touch}",
                     subject="contact")
    return Check(STAGE, CheckKind.INTERACTION, gap, max_gap, False,
                 f"{a} and {b} never touch: closest gap {gap:.2f} box sizes at frame {frame} (> {max_gap:.2f})",
                 subject="contact")


def _holder(clip: ClipSample, frame: int, a: str, b: str, obj: str):
    """(label, track id) of the subject nearest the most confident `obj`, or None."""
    objects = clip.instances(frame, obj)
    holders = {id(d): d for d in clip.instances(frame, a) + clip.instances(frame, b)}.values()
    if not objects or not holders:
        return None
    item = max(objects, key=lambda d: d.confidence)
    nearest = min(holders, key=lambda h: _centre_distance(item, h))
    return nearest.label, nearest.track_id


def _handover(clip: ClipSample, a: str, b: str, obj: str) -> Check:
    early = [h for h in (_holder(clip, f, a, b, obj) for f in clip.early) if h]
    late = [h for h in (_holder(clip, f, a, b, obj) for f in clip.late) if h]
    if not early or not late:
        third = "first" if not early else "last"
        return Check(STAGE, CheckKind.INTERACTION, 0.0, 0.5, False,
                     f"{obj} is not seen with {a} or {b} in the {third} third", subject="handover")
    if a == b:
        if any(track is None for _, track in early + late):
            return _not_checked("handover",
                                f"handover between two {a}s not checked: it needs track ids to tell them apart")
        giver = Counter(early).most_common(1)[0][0]
        taker = Counter(h for h in late if h != giver).most_common(1)
        if not taker:
            return Check(STAGE, CheckKind.INTERACTION, 0.0, 0.5, False,
                         f"{obj} stays with {a} #{giver[1]}: it is never nearest another {a} in the last third",
                         subject="handover")
        taker = taker[0][0]
        early_share = early.count(giver) / len(early)
        late_share = late.count(taker) / len(late)
        names = (f"{a} #{giver[1]}", f"{a} #{taker[1]}")
    else:
        early_share = sum(label == a for label, _ in early) / len(early)
        late_share = sum(label == b for label, _ in late) / len(late)
        names = (a, b)
    value = min(early_share, late_share)
    passed = early_share > 0.5 and late_share > 0.5
    detail = (
        f"nearest {names[0]} in {round(early_share * len(early))} of {len(early)} early frames, "
        f"nearest {names[1]} in {round(late_share * len(late))} of {len(late)} late frames"
    )
    verdict = f"{obj} passes from {names[0]} to {names[1]}" if passed else f"no handover of {obj} from {names[0]} to {names[1]}"
    return Check(STAGE, CheckKind.INTERACTION, value, 0.5, passed, f"{verdict}: {detail}", subject="handover")


def _enter_or_leave(clip: ClipSample, kind: str, candidates: list[str]):
    """"enter": out of view at the opening, then in view for most of the last third; "leave" the
    same in reverse. Only the opening (or closing) frames must be empty, not the whole first
    third: someone who walks in a quarter of the way through has entered. Absence is read
    where it is asked for and presence leniently, because a detector misses far more often
    than it invents."""
    ordered = clip.frames if kind == "enter" else clip.frames[::-1]
    edge = ordered[:max(2, round(len(ordered) * _EDGE_SHARE))]  # the opening (enter) or closing (leave) frames
    edge_name = "opening" if kind == "enter" else "closing"
    after = clip.late if kind == "enter" else clip.early
    notes = []
    best = 0.0
    for label in candidates:
        # Half out through a side of the frame at the opening (closing) frames, it is in the act
        # of coming in (going out): only someone clear of the sides is already (still) there. So
        # is someone whose track comes in (goes out) through a side within those frames: a clip
        # may end a step after the subject crossed the room to the door.
        crossing = _crossing_tracks(clip, label, kind)
        seen_edge = sum(any(not clip.through_side(d) and d.track_id not in crossing for d in clip.instances(f, label))
                        for f in edge)
        seen_after = sum(bool(clip.instances(f, label)) for f in after)
        share_after = seen_after / len(after) if after else 0.0
        if seen_edge == 0 and share_after >= 0.5:
            present = [f for f in clip.frames if clip.instances(f, label)]
            moment = present[0] if kind == "enter" else present[-1] + clip.stride
            what = "enters at" if kind == "enter" else "leaves by"
            reason = (
                f"{label} {what} frame {moment}: in view in {seen_after} of {len(after)} checked frames of the "
                f"{'last' if kind == 'enter' else 'first'} third, in none of the {len(edge)} {edge_name} ones"
            )
            return Check(STAGE, CheckKind.INTERACTION, share_after, 0.5, True, reason, subject=kind), {label}
        best = max(best, share_after if seen_edge == 0 else 0.0)
        if seen_edge:
            where = "already in view in" if kind == "enter" else "still in view in"
            notes.append(f"{label} is {where} {seen_edge} of the {len(edge)} {edge_name} checked frames")
        else:
            third = "last" if kind == "enter" else "first"
            notes.append(f"{label} is in view in only {seen_after} of {len(after)} checked frames of the {third} third")
    reason = f"nothing {third_person(kind)}: " + "; ".join(notes) if notes else f"no subject to {kind}"
    return Check(STAGE, CheckKind.INTERACTION, best, 0.5, False, reason, subject=kind), set()


def _crossing_tracks(clip: ClipSample, label: str, kind: str) -> set[int]:
    """Tracks of `label` first seen walking in through a side ("enter") or last seen walking out
    through one ("leave")."""
    first: dict[int, Detection] = {}
    last: dict[int, Detection] = {}
    for f in clip.frames:
        for d in clip.instances(f, label):
            if d.track_id is not None:
                first.setdefault(d.track_id, d)
                last[d.track_id] = d
    if kind == "enter":
        return {t for t, d in first.items() if clip.walks_in(d)}
    return {t for t, d in last.items() if clip.walks_out(d)}


# The share of checked frames at the opening (enter) or close (leave) that must show no one.
_EDGE_SHARE = 0.15
