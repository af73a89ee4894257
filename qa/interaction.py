"""Judge detections against the shot plan: subjects present, counts stable, nothing
vanishing, and the planned interaction actually happening.

Detections come from a stride sample of the clip (`frame_indices`), so durations are
measured in clip frames: each examined frame stands for the frames up to the next
examined one. Track ids are used when the detector supplies them (to count distinct
instances and to tell two people of one class apart); without them everything is
worked out from per-frame counts and boxes.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from qa.types import Check, Detection, Expectations

STAGE = "interaction"


def interaction_checks(
    detections: list[Detection],
    frame_indices: list[int],
    expectations: Expectations,
    *,
    min_presence: float = 0.5,
    max_gap_frames: int = 8,
    min_approach: float = 0.25,
    max_contact_gap: float = 0.05,
) -> list[Check]:
    """Checks of the clip's content against `expectations`.

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
    if not expectations.classes and not expectations.forbidden:
        return []
    clip = _Sample(detections, frame_indices, max_gap_frames)
    forbidden = [_forbidden_check(clip, label) for label in expectations.forbidden]
    if not expectations.classes:
        return forbidden

    checks: list[Check] = []
    movers: set[str] = set()
    kind = expectations.interaction
    if kind is not None:
        interaction_check, movers = _interaction_check(clip, expectations, min_approach, max_contact_gap)
        checks.append(interaction_check)

    per_class: list[Check] = []
    for label, expected in expectations.classes.items():
        per_class.extend(_class_checks(clip, label, expected, min_presence, moved=kind if label in movers else None))
    return per_class + checks + forbidden


def open_vocabulary_checks(detections: list[Detection], frame_indices: list[int], names: list[str], *,
                           min_presence: float = 0.5, max_gap_frames: int = 8) -> list[Check]:
    """Presence and vanish checks of subjects outside COCO, from an open-vocabulary detector.

    No count check: such a detector's boxes for "sneakers" may be one pair or two shoes, so
    only whether the subject is there, and stays, is judged."""
    clip = _Sample(detections, frame_indices, max_gap_frames)
    checks: list[Check] = []
    for name in names:
        found = _class_checks(clip, name, 1, min_presence, moved=None)
        checks += [c for c in found if not c.metric.startswith("count:")]
    return checks


def not_checkable_checks(names: list[str], why: str) -> list[Check]:
    """The record that these subjects were not checked (`why`): informational, never a pass in silence."""
    return [Check(STAGE, f"unchecked:{name}", 0.0, None, True, f"{name}: not checkable by the detector ({why})")
            for name in names]


def _forbidden_check(clip: _Sample, label: str) -> Check:
    """A class the prompt rules out ("no people") fails the clip once it stays in view longer than
    a detector's blink (`max_gap_frames`); a stray one-frame false positive is forgiven.
    Value: the longest run of clip frames in which it was seen."""
    metric = f"forbidden:{label}"
    n = len(clip.frames)
    counts = clip.counts(label)
    seen_runs = [run for run in clip.runs([min(c, 1) for c in counts]) if run.count > 0]
    longest = max(seen_runs, key=lambda run: run.span, default=None)
    span = float(longest.span) if longest else 0.0
    seen = sum(c > 0 for c in counts)
    if longest is not None and clip.sustained(longest):
        start = clip.frames[longest.start]
        return Check(STAGE, metric, span, float(clip.max_gap_frames), False,
                     f"{label} is in view from frame {start} for {longest.span} frames ({seen} of {n} checked frames), "
                     f"but the prompt says there is no {label}")
    if seen:
        return Check(STAGE, metric, span, float(clip.max_gap_frames), True,
                     f"no {label}, as the prompt says: seen only briefly ({seen} of {n} checked frames, at most "
                     f"{int(span)} frames <= {clip.max_gap_frames})")
    return Check(STAGE, metric, 0.0, float(clip.max_gap_frames), True,
                 f"no {label}, as the prompt says: none in {n} checked frames")


@dataclass(frozen=True)
class _Run:
    start: int  # position in the examined frames
    stop: int
    count: int
    span: int  # clip frames covered
    trailing: bool


class _Sample:
    """Detections grouped by examined frame."""

    def __init__(self, detections: list[Detection], frame_indices: list[int], max_gap_frames: int):
        self.frames = sorted(set(int(f) for f in frame_indices))
        self.max_gap_frames = max_gap_frames
        steps = np.diff(self.frames)
        self.stride = int(np.median(steps)) if steps.size else 1
        self.by_frame: dict[int, list[Detection]] = {f: [] for f in self.frames}
        for det in detections:
            if det.frame not in self.by_frame:
                raise ValueError(f"detection of {det.label} at frame {det.frame} is not among the examined frames")
            self.by_frame[det.frame].append(det)
        span = self.frames[-1] - self.frames[0] if self.frames else 0
        self.early = [f for f in self.frames if f <= self.frames[0] + span / 3]
        self.late = [f for f in self.frames if f >= self.frames[-1] - span / 3]

    def instances(self, frame: int, label: str) -> list[Detection]:
        """Detections of `label` at `frame`, one per track id when ids are present."""
        best: dict[object, Detection] = {}
        for i, det in enumerate(self.by_frame[frame]):
            if det.label != label:
                continue
            key = ("track", det.track_id) if det.track_id is not None else ("box", i)
            if key not in best or det.confidence > best[key].confidence:
                best[key] = det
        return list(best.values())

    def counts(self, label: str) -> list[int]:
        return [len(self.instances(f, label)) for f in self.frames]

    def runs(self, counts: list[int]) -> list[_Run]:
        out, start = [], 0
        for i in range(1, len(counts) + 1):
            if i == len(counts) or counts[i] != counts[start]:
                end_frame = self.frames[i] if i < len(counts) else self.frames[-1] + self.stride
                out.append(_Run(start, i, counts[start], end_frame - self.frames[start], i == len(counts)))
                start = i
        return out

    def sustained(self, run: _Run) -> bool:
        return run.span > self.max_gap_frames


def _class_checks(clip: _Sample, label: str, expected: int, min_presence: float, *, moved: str | None) -> list[Check]:
    n = len(clip.frames)
    counts = clip.counts(label)
    seen = sum(c >= expected for c in counts)
    fraction = seen / n if n else 0.0
    what = label if expected == 1 else f"{expected} x {label}"
    if n == 0:
        return [Check(STAGE, f"presence:{label}", 0.0, min_presence, False, f"{what}: no frames were checked")]
    if moved:
        return [
            Check(STAGE, f"presence:{label}", fraction, None, True,
                  f"{what} seen in {seen} of {n} checked frames; it {_third_person(moved)}, "
                  f"so the {moved} check judges its presence")
        ]
    passed = fraction >= min_presence
    if not any(counts):
        reason = f"{label} never seen in {n} checked frames (0% < {min_presence:.0%})"
    else:
        reason = f"{what} seen in {seen} of {n} checked frames ({fraction:.0%} {'>=' if passed else '<'} {min_presence:.0%})"
    checks = [Check(STAGE, f"presence:{label}", fraction, min_presence, passed, reason)]
    if any(counts):
        checks.append(_count_check(clip, label, expected, counts))
        checks.append(_vanish_check(clip, label, counts))
    return checks


def _third_person(kind: str) -> str:
    return {"enter": "enters", "leave": "leaves"}.get(kind, kind)


def _count_check(clip: _Sample, label: str, expected: int, counts: list[int]) -> Check:
    """Flag sustained count changes once a count is established.

    Rising toward the expected count is an arrival and moves the level up; rising
    above it means clones; falling below the level means instances merged or
    disappeared. A fall to zero that lasts to the end is left to the vanish check.
    """
    metric = f"count:{label}"
    level = None
    problems: list[str] = []
    for run in clip.runs(counts):
        if not clip.sustained(run):
            continue
        at = clip.frames[run.start]
        if level is None:
            if run.count == 0:
                continue
            if run.count > expected:
                problems.append(f"{label} count is {run.count} from frame {at} where {expected} is expected")
            level = run.count
        elif run.count > level:
            if run.count > expected:
                problems.append(f"{label} count rose from {level} to {run.count} at frame {at} ({expected} expected)")
            level = run.count
        elif run.count < level:
            if run.count == 0 and run.trailing:
                continue
            if run.count == 0:
                problems.append(f"{label} vanished at frame {at} for {run.span} frames "
                                f"(back at frame {clip.frames[run.stop]})")
            else:
                problems.append(f"{label} count fell from {level} to {run.count} at frame {at}"
                                + _lost_tracks(clip, label, run))
            level = run.count
    if level is None:
        return Check(STAGE, metric, 0.0, 0.0, True,
                     f"{label} never held a count for more than {clip.max_gap_frames} frames; nothing to compare")
    if problems:
        reason = problems[0] + (f" (and {len(problems) - 1} more count changes)" if len(problems) > 1 else "")
        return Check(STAGE, metric, float(len(problems)), 0.0, False, reason)
    return Check(STAGE, metric, 0.0, 0.0, True, f"{label} count holds steady at {level}")


def _lost_tracks(clip: _Sample, label: str, run: _Run) -> str:
    """" (person #3 last seen at frame 48)" for the tracks that end where a count falls."""
    if run.start == 0:
        return ""
    before = {d.track_id for d in clip.instances(clip.frames[run.start - 1], label)}
    during = {d.track_id for f in clip.frames[run.start:run.stop] for d in clip.instances(f, label)}
    lost = sorted(t for t in before - during if t is not None)
    if not lost:
        return ""
    return " (" + ", ".join(f"{label} #{t}" for t in lost) + f" last seen at frame {clip.frames[run.start - 1]})"


def _vanish_check(clip: _Sample, label: str, counts: list[int]) -> Check:
    """Value: clip frames from the last sighting's end to the clip's end."""
    metric = f"vanish:{label}"
    last = clip.runs(counts)[-1]
    last_seen = clip.frames[max(i for i, c in enumerate(counts) if c > 0)]
    absent_for = last.span if last.count == 0 else 0
    if absent_for > clip.max_gap_frames:
        gone_at = clip.frames[last.start]
        reason = (
            f"{label} vanished at frame {gone_at} (last seen at frame {last_seen}, "
            f"absent from the remaining {last.stop - last.start} checked frames)"
        )
        return Check(STAGE, metric, float(absent_for), float(clip.max_gap_frames), False, reason)
    return Check(STAGE, metric, float(absent_for), float(clip.max_gap_frames), True,
                 f"{label} stays in view (last seen at frame {last_seen})")


# -- interactions ---------------------------------------------------------------------


def _interaction_check(clip: _Sample, exp: Expectations, min_approach: float, max_contact_gap: float):
    kind = exp.interaction
    metric = f"interaction:{kind}"
    if kind in ("enter", "leave"):
        candidates = list(exp.subjects) or list(exp.classes)
        return _enter_or_leave(clip, kind, candidates)
    if len(exp.subjects) < 2:
        return _not_checked(metric, f"{kind} not checked: the shot plan names fewer than two subjects"), set()
    a, b = exp.subjects[0], exp.subjects[1]
    if kind == "approach":
        return _approach(clip, a, b, min_approach), set()
    if kind == "contact":
        return _contact(clip, a, b, max_contact_gap), set()
    if kind == "handover":
        if len(exp.subjects) < 3:
            return _not_checked(metric, "handover not checked: the shot plan names no object to hand over"), set()
        return _handover(clip, a, b, exp.subjects[2]), set()
    return _not_checked(metric, f"unknown interaction {kind!r} not checked"), set()


def _not_checked(metric: str, reason: str) -> Check:
    return Check(STAGE, metric, 0.0, None, True, reason)


def _centre(box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _diag(box) -> float:
    return max(math.hypot(box[2] - box[0], box[3] - box[1]), 1e-6)


def _pairs(clip: _Sample, frame: int, a: str, b: str):
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


def _closest(clip: _Sample, frames: list[int], a: str, b: str, measure) -> list[tuple[int, float]]:
    out = []
    for f in frames:
        values = [measure(p, q) for p, q in _pairs(clip, f, a, b)]
        if values:
            out.append((f, min(values)))
    return out


def _approach(clip: _Sample, a: str, b: str, min_approach: float) -> Check:
    metric = "interaction:approach"
    early = _closest(clip, clip.early, a, b, _centre_distance)
    late = _closest(clip, clip.late, a, b, _centre_distance)
    if not early or not late:
        third = "first" if not early else "last"
        return Check(STAGE, metric, 0.0, min_approach, False,
                     f"{a} and {b} never appear together in the {third} third, so no approach can be seen")
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
    return Check(STAGE, metric, shrink, min_approach, passed, reason)


def _contact(clip: _Sample, a: str, b: str, max_gap: float) -> Check:
    metric = "interaction:contact"
    gaps = _closest(clip, clip.frames, a, b, _box_gap)
    if not gaps:
        return Check(STAGE, metric, math.inf, max_gap, False, f"{a} and {b} never appear together, so they cannot touch")
    frame, gap = min(gaps, key=lambda fg: (fg[1], fg[0]))
    if gap <= max_gap:
        first_touch = next(f for f, g in gaps if g <= max_gap)
        return Check(STAGE, metric, gap, max_gap, True, f"{a} and {b} touch at frame {first_touch}")
    return Check(STAGE, metric, gap, max_gap, False,
                 f"{a} and {b} never touch: closest gap {gap:.2f} box sizes at frame {frame} (> {max_gap:.2f})")


def _holder(clip: _Sample, frame: int, a: str, b: str, obj: str):
    """(label, track id) of the subject nearest the most confident `obj`, or None."""
    objects = clip.instances(frame, obj)
    holders = {id(d): d for d in clip.instances(frame, a) + clip.instances(frame, b)}.values()
    if not objects or not holders:
        return None
    item = max(objects, key=lambda d: d.confidence)
    nearest = min(holders, key=lambda h: _centre_distance(item, h))
    return nearest.label, nearest.track_id


def _handover(clip: _Sample, a: str, b: str, obj: str) -> Check:
    metric = "interaction:handover"
    early = [h for h in (_holder(clip, f, a, b, obj) for f in clip.early) if h]
    late = [h for h in (_holder(clip, f, a, b, obj) for f in clip.late) if h]
    if not early or not late:
        third = "first" if not early else "last"
        return Check(STAGE, metric, 0.0, 0.5, False, f"{obj} is not seen with {a} or {b} in the {third} third")
    if a == b:
        if any(track is None for _, track in early + late):
            return _not_checked(metric, f"handover between two {a}s not checked: it needs track ids to tell them apart")
        giver = Counter(early).most_common(1)[0][0]
        taker = Counter(h for h in late if h != giver).most_common(1)
        if not taker:
            return Check(STAGE, metric, 0.0, 0.5, False,
                         f"{obj} stays with {a} #{giver[1]}: it is never nearest another {a} in the last third")
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
    return Check(STAGE, metric, value, 0.5, passed, f"{verdict}: {detail}")


def _enter_or_leave(clip: _Sample, kind: str, candidates: list[str]):
    metric = f"interaction:{kind}"
    # "enter": absent from the first third, then present; "leave" is the same in reverse.
    before, after = (clip.early, clip.late) if kind == "enter" else (clip.late, clip.early)
    notes = []
    best = 0.0
    for label in candidates:
        seen_before = sum(bool(clip.instances(f, label)) for f in before)
        seen_after = sum(bool(clip.instances(f, label)) for f in after)
        share_after = seen_after / len(after) if after else 0.0
        if seen_before == 0 and share_after >= 0.5:
            present = [f for f in clip.frames if clip.instances(f, label)]
            moment = present[0] if kind == "enter" else present[-1] + clip.stride
            what = "enters at" if kind == "enter" else "leaves by"
            reason = (
                f"{label} {what} frame {moment}: in view in {seen_after} of {len(after)} checked frames of the "
                f"{'last' if kind == 'enter' else 'first'} third, in none of the "
                f"{'first' if kind == 'enter' else 'last'} third"
            )
            return Check(STAGE, metric, share_after, 0.5, True, reason), {label}
        best = max(best, share_after if seen_before == 0 else 0.0)
        if seen_before:
            where = "already in view in" if kind == "enter" else "still in view in"
            third = "first" if kind == "enter" else "last"
            notes.append(f"{label} is {where} {seen_before} of {len(before)} checked frames of the {third} third")
        else:
            third = "last" if kind == "enter" else "first"
            notes.append(f"{label} is in view in only {seen_after} of {len(after)} checked frames of the {third} third")
    reason = f"nothing {_third_person(kind)}: " + "; ".join(notes) if notes else f"no subject to {kind}"
    return Check(STAGE, metric, best, 0.5, False, reason), set()
