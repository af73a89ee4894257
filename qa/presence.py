"""Which of the shot plan's subjects the detections show: each expected class present at its
count and not vanishing, the classes the prompt rules out absent, and the subjects outside
COCO as an open-vocabulary detector sees them (or recorded as not checkable).

`ClipSample` groups a clip's detections by examined frame; qa/interaction.py builds on it
for the relations between subjects (approach, contact, hand-over, entering and leaving).
Durations are in clip frames: each examined frame stands for the frames up to the next one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clipmill.qa.types import Check, CheckKind, Detection

STAGE = "interaction"  # the verdict's stage for every detection check, relations included
# A box this close to a side of the frame (a share of its longer side) is at its edge.
EDGE_MARGIN = 0.02
# A track going out through a side moves toward it by at least this share of its usual width, or
# is cut down by it to at most this share of that width (while moving toward it).
WALK_OUT_SHIFT = 0.5
WALK_OUT_NARROWING = 0.7
# Things that leave a shot by themselves (people, animals, vehicles): fewer of them in view is not
# a vanish (they walk off, or pass behind each other). Others that drop in number for good did.
MOVE_BY_THEMSELVES = frozenset({"person", "bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra",
                                "giraffe", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat"})
# A steady run of fewer that lasts to the end and covers this share of the clip is a vanish.
VANISH_TRAILING_SHARE = 0.25


def open_vocabulary_checks(detections: list[Detection], frame_indices: list[int], names: list[str], *,
                           min_presence: float = 0.5, max_gap_frames: int = 8) -> list[Check]:
    """Presence and vanish checks of subjects outside COCO, from an open-vocabulary detector.

    No count check: such a detector's boxes for "sneakers" may be one pair or two shoes, so
    only whether the subject is there, and stays, is judged."""
    clip = ClipSample(detections, frame_indices, max_gap_frames)
    return [check for name in names for check in presence_checks(clip, name, min_presence, moved=None)]


def presence_checks(clip: ClipSample, label: str, min_presence: float, *, moved: str | None) -> list[Check]:
    """Is `label` there, and does it stay, in any number: the checks of a class whose count
    is not known."""
    return [c for c in class_checks(clip, label, 1, min_presence, moved=moved) if c.kind != CheckKind.COUNT]


def not_checkable_checks(names: list[str], why: str) -> list[Check]:
    """The record that these subjects were not checked (`why`): informational, never a pass in silence."""
    return [Check(STAGE, CheckKind.UNCHECKED, 0.0, None, True, f"{name}: not checkable by the detector ({why})",
                  subject=name)
            for name in names]


def forbidden_check(clip: ClipSample, label: str) -> Check:
    """A class the prompt rules out ("no people") fails the clip once it stays in view longer than
    a detector's blink (`max_gap_frames`); a stray one-frame false positive is forgiven.
    Value: the longest run of clip frames in which it was seen."""
    n = len(clip.frames)
    counts = clip.counts(label)
    seen_runs = [run for run in clip.runs([min(c, 1) for c in counts]) if run.count > 0]
    longest = max(seen_runs, key=lambda run: run.span, default=None)
    span = float(longest.span) if longest else 0.0
    seen = sum(c > 0 for c in counts)
    if longest is not None and clip.sustained(longest):
        start = clip.frames[longest.start]
        return Check(STAGE, CheckKind.FORBIDDEN, span, float(clip.max_gap_frames), False,
                     f"{label} is in view from frame {start} for {longest.span} frames ({seen} of {n} checked frames), "
                     f"but the prompt says there is no {label}", subject=label)
    if seen:
        return Check(STAGE, CheckKind.FORBIDDEN, span, float(clip.max_gap_frames), True,
                     f"no {label}, as the prompt says: seen only briefly ({seen} of {n} checked frames, at most "
                     f"{int(span)} frames <= {clip.max_gap_frames})", subject=label)
    return Check(STAGE, CheckKind.FORBIDDEN, 0.0, float(clip.max_gap_frames), True,
                 f"no {label}, as the prompt says: none in {n} checked frames", subject=label)


@dataclass(frozen=True)
class Run:
    start: int  # position in the examined frames
    stop: int
    count: int
    span: int  # clip frames covered
    trailing: bool


class ClipSample:
    """Detections grouped by examined frame."""

    def __init__(self, detections: list[Detection], frame_indices: list[int], max_gap_frames: int,
                 frame_size: tuple[int, int] | None = None,
                 camera_path: dict[int, tuple[float, float]] | None = None):
        self.frames = sorted(set(int(f) for f in frame_indices))
        self.max_gap_frames = max_gap_frames
        self.frame_size = frame_size  # (height, width), where known
        self.camera_path = camera_path  # qa.temporal.camera_path of the examined frames, where known
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

    def at_edge(self, det: Detection) -> str | None:
        """The side of the frame `det`'s box touches ("left", "right", "top", "bottom"), if any."""
        if self.frame_size is None:
            return None
        height, width = self.frame_size
        x1, y1, x2, y2 = det.box
        margin = EDGE_MARGIN * max(height, width)
        for side, distance in (("left", x1), ("right", width - x2), ("top", y1), ("bottom", height - y2)):
            if distance <= margin:
                return side
        return None

    def through_side(self, det: Detection) -> bool:
        """Is `det` cut by the left or right side of the frame, and narrower than half of it:
        something walking in or out (a close-up that fills the frame touches the sides too)."""
        if self.frame_size is None or self.at_edge(det) not in ("left", "right"):
            return False
        x1, _, x2, _ = det.box
        return x2 - x1 < 0.5 * self.frame_size[1]

    def walks_out(self, det: Detection) -> str | None:
        """The side `det` is going out through: it is cut by that side (`through_side`), and its
        track was seen for longer than a blink before, farther from it. Someone who only appears
        at the side, as a cut to other footage can show, is not seen going anywhere."""
        return self._crossing(det, going_out=True)

    def walks_in(self, det: Detection) -> str | None:
        """The side `det` is coming in through: `walks_out` with time reversed (its track is seen
        for longer than a blink after, farther from that side)."""
        return self._crossing(det, going_out=False)

    def _crossing(self, det: Detection, *, going_out: bool) -> str | None:
        if not self.through_side(det) or det.track_id is None:
            return None
        side = self.at_edge(det)
        track = [d for f in self.frames if (f < det.frame if going_out else f > det.frame) for d in self.by_frame[f]
                 if d.track_id == det.track_id and d.label == det.label]
        if not track:
            return None
        farthest = track[0] if going_out else track[-1]  # in time: where it came from (went to)
        if abs(det.frame - farthest.frame) <= self.max_gap_frames:  # seen for a blink only
            return None
        moved = (det.box[0] + det.box[2]) / 2 - (farthest.box[0] + farthest.box[2]) / 2
        toward = moved if side == "right" else -moved
        # Crossing shows as lying toward the side by a good part of its own width, or as being cut
        # narrower by it on the way; someone standing by the side only jitters.
        widths = sorted(d.box[2] - d.box[0] for d in track)
        typical = widths[len(widths) // 2]
        narrowed = det.box[2] - det.box[0] <= WALK_OUT_NARROWING * typical
        return side if toward >= WALK_OUT_SHIFT * typical or (toward > 0 and narrowed) else None

    def carried_out(self, det: Detection) -> str | None:
        """The side the camera has carried `det` out through by the clip's last examined frame:
        its box centre, moved as the picture moved since, lies beyond that side. A pan away from
        someone leaves them out of view without their going anywhere, and the motion blur of the
        pan hides them from the detector before they reach the side."""
        if self.frame_size is None or not self.camera_path or det.frame not in self.camera_path:
            return None
        (x_then, y_then), (x_now, y_now) = self.camera_path[det.frame], self.camera_path[self.frames[-1]]
        x = (det.box[0] + det.box[2]) / 2 + x_now - x_then
        y = (det.box[1] + det.box[3]) / 2 + y_now - y_then
        height, width = self.frame_size
        for side, beyond in (("left", x < 0), ("right", x > width), ("top", y < 0), ("bottom", y > height)):
            if beyond:
                return side
        return None

    def counts(self, label: str) -> list[int]:
        return [len(self.instances(f, label)) for f in self.frames]

    def runs(self, counts: list[int]) -> list[Run]:
        out, start = [], 0
        for i in range(1, len(counts) + 1):
            if i == len(counts) or counts[i] != counts[start]:
                end_frame = self.frames[i] if i < len(counts) else self.frames[-1] + self.stride
                out.append(Run(start, i, counts[start], end_frame - self.frames[start], i == len(counts)))
                start = i
        return out

    def sustained(self, run: Run) -> bool:
        return run.span > self.max_gap_frames


def class_checks(clip: ClipSample, label: str, expected: int, min_presence: float, *, moved: str | None,
                 or_more: bool = False) -> list[Check]:
    """Presence, count and vanish checks of `expected` x `label`; with `or_more`, `expected` is the
    fewest a correct clip shows, and more in view is no wrong count."""
    n = len(clip.frames)
    counts = clip.counts(label)
    seen = sum(c >= expected for c in counts)
    fraction = seen / n if n else 0.0
    what = label if expected == 1 else f"{expected} x {label}"
    if n == 0:
        return [Check(STAGE, CheckKind.PRESENCE, 0.0, min_presence, False, f"{what}: no frames were checked",
                      subject=label)]
    if moved:
        # Entering or leaving, it is out of view for part of the clip by design: the enter or
        # leave check judges that, but "two women walk in" filmed with one is still a wrong count.
        presence = Check(STAGE, CheckKind.PRESENCE, fraction, None, True,
                         f"{what} seen in {seen} of {n} checked frames; it {third_person(moved)}, "
                         f"so the {moved} check judges its presence", subject=label)
        return [presence] + ([_number_check(clip, label, expected, counts, min_presence, or_more)] if any(counts) else [])
    # Presence asks whether the subject is there at all; how many of it is the count check's
    # question, so "two women" filmed as one woman is a wrong count, not a missing subject.
    any_seen = sum(c >= 1 for c in counts)
    present = any_seen / n
    passed = present >= min_presence
    if not any(counts):
        reason = f"{label} never seen in {n} checked frames (0% < {min_presence:.0%})"
    else:
        reason = f"{label} seen in {any_seen} of {n} checked frames ({present:.0%} {'>=' if passed else '<'} {min_presence:.0%})"
    checks = [Check(STAGE, CheckKind.PRESENCE, present, min_presence, passed, reason, subject=label)]
    if any(counts):
        if passed:
            checks.append(_number_check(clip, label, expected, counts, min_presence, or_more))
        else:
            checks.append(_count_check(clip, label, expected, counts, or_more))
        checks.append(_vanish_check(clip, label, counts, expected))
    return checks


def _number_check(clip: ClipSample, label: str, expected: int, counts: list[int], min_presence: float,
                  or_more: bool = False) -> Check:
    """All `expected` of them seen together for longer than a blink, and (unless `or_more`) never more."""
    n = len(clip.frames)
    seen = sum(c >= expected for c in counts)
    together = [run for run in clip.runs([int(c >= expected) for c in counts]) if run.count]
    if expected > 1 and not any(clip.sustained(run) for run in together):
        # Detectors miss people behind each other and small things, so all of them need to
        # be seen together only once, for longer than a blink; a clip that never shows them
        # all is the wrong count.
        return Check(STAGE, CheckKind.COUNT, seen / n, min_presence, False,
                     f"{expected}{' or more' if or_more else ''} x {label} expected, but never all {expected} together for more than "
                     f"{clip.max_gap_frames} frames (at most {max(counts)} at once; all {expected} in "
                     f"{seen} of {n} checked frames)", subject=label)
    return _count_check(clip, label, expected, counts, or_more)


def third_person(kind: str) -> str:
    return {"enter": "enters", "leave": "leaves"}.get(kind, kind)


def _count_check(clip: ClipSample, label: str, expected: int, counts: list[int], or_more: bool = False) -> Check:
    """Flag more instances than expected, held for longer than a blink (unless `or_more`: then
    `expected` is only the fewest, and more is fine).

    Rising toward the expected count is an arrival and moves the level up; rising above it
    means clones or extras, which a detector rarely invents. A fall below the level is only
    noted: on real footage it is mostly the detector losing someone behind someone else or in
    motion blur (two basketball players, a dog at full run), so it is weak evidence; a fall to
    zero that lasts to the end is the vanish check's.
    """
    level = None
    problems: list[str] = []
    falls: list[str] = []
    for run in clip.runs(counts):
        if not clip.sustained(run):
            continue
        at = clip.frames[run.start]
        if level is None:
            if run.count == 0:
                continue
            if run.count > expected and not or_more:
                problems.append(f"{label} count is {run.count} from frame {at} where {expected} is expected")
            level = run.count
        elif run.count > level:
            if run.count > expected and not or_more:
                problems.append(f"{label} count rose from {level} to {run.count} at frame {at} ({expected} expected)")
            level = run.count
        elif run.count < level:
            if run.count == 0 and run.trailing:
                continue
            if run.count == 0:
                falls.append(f"{label} unseen from frame {at} for {run.span} frames (back at frame "
                             f"{clip.frames[run.stop]})")
            else:
                falls.append(f"fewer seen from frame {at} ({level} to {run.count})" + _lost_tracks(clip, label, run))
            level = run.count
    if level is None:
        return Check(STAGE, CheckKind.COUNT, 0.0, 0.0, True,
                     f"{label} never held a count for more than {clip.max_gap_frames} frames; nothing to compare",
                     subject=label)
    if problems:
        reason = problems[0] + (f" (and {len(problems) - 1} more count changes)" if len(problems) > 1 else "")
        return Check(STAGE, CheckKind.COUNT, float(len(problems)), 0.0, False, reason, subject=label)
    if falls:
        return Check(STAGE, CheckKind.COUNT, 0.0, 0.0, True,
                     ("" if or_more else f"never more {label} than expected; ") + f"{'; '.join(falls[:2])} "
                     "(noted only: detectors lose people behind each other)", subject=label)
    return Check(STAGE, CheckKind.COUNT, 0.0, 0.0, True, f"{label} count holds steady at {level}", subject=label)


def _lost_tracks(clip: ClipSample, label: str, run: Run) -> str:
    """" (person #3 last seen at frame 48)" for the tracks that end where a count falls."""
    if run.start == 0:
        return ""
    before = {d.track_id for d in clip.instances(clip.frames[run.start - 1], label)}
    during = {d.track_id for f in clip.frames[run.start:run.stop] for d in clip.instances(f, label)}
    lost = sorted(t for t in before - during if t is not None)
    if not lost:
        return ""
    return " (" + ", ".join(f"{label} #{t}" for t in lost) + f" last seen at frame {clip.frames[run.start - 1]})"


def _some_gone_for_good(clip: ClipSample, label: str, counts: list[int], expected: int) -> Check | None:
    """Bottles or cups that cannot walk off: all `expected` of them were seen together, and the
    clip ends on a run of frames with fewer of them for a good part of its length
    (VANISH_TRAILING_SHARE), none of the lost ones going out through a side. A detector missing
    one of them now and then makes short runs of fewer, never one long trailing run; within the
    run, how many are seen may blink (one frame of none among frames of one)."""
    all_seen = any(run.count and clip.sustained(run) for run in clip.runs([int(c >= expected) for c in counts]))
    last = clip.runs([int(c < expected) for c in counts])[-1]
    if expected < 2 or not all_seen or not last.count or last.start == 0:
        return None
    if last.span < max(clip.max_gap_frames, VANISH_TRAILING_SHARE * (clip.frames[-1] + clip.stride)):
        return None
    before = clip.instances(clip.frames[last.start - 1], label)
    if any(clip.walks_out(d) or clip.carried_out(d) for d in before):
        return None
    left = max(counts[last.start:])
    return Check(STAGE, CheckKind.VANISH, float(last.span), float(clip.max_gap_frames), False,
                 f"{expected - left} of the {expected} x {label} vanished at frame {clip.frames[last.start]} (at most "
                 f"{left} in view for the last {last.span} frames){_lost_tracks(clip, label, last)}", subject=label)


def _vanish_check(clip: ClipSample, label: str, counts: list[int], expected: int = 1) -> Check:
    """Value: clip frames from the last sighting's end to the clip's end (or, for things that
    cannot walk off, from when some of them went)."""
    last = clip.runs(counts)[-1]
    if last.count and label not in MOVE_BY_THEMSELVES:
        gone = _some_gone_for_good(clip, label, counts, expected)
        if gone is not None:
            return gone
    last_seen = clip.frames[max(i for i, c in enumerate(counts) if c > 0)]
    absent_for = last.span if last.count == 0 else 0
    edges = {side for d in clip.instances(last_seen, label) if (side := clip.walks_out(d)) is not None}
    if absent_for > clip.max_gap_frames and edges:
        # Last seen going out through a side: it walked (or ran) out of the shot. A vanish is a
        # subject that stops being there in view, as generated clips and cuts make them.
        return Check(STAGE, CheckKind.VANISH, float(absent_for), float(clip.max_gap_frames), True,
                     f"{label} leaves the shot at the {sorted(edges)[0]} edge (last seen there at frame {last_seen}); "
                     "walking out of view is not vanishing", subject=label)
    panned = {side for d in clip.instances(last_seen, label) if (side := clip.carried_out(d)) is not None}
    if absent_for > clip.max_gap_frames and panned:
        return Check(STAGE, CheckKind.VANISH, float(absent_for), float(clip.max_gap_frames), True,
                     f"{label} last seen at frame {last_seen}, then the camera moved it out of view past the "
                     f"{sorted(panned)[0]} edge; panning away is not vanishing", subject=label)
    if absent_for > clip.max_gap_frames:
        gone_at = clip.frames[last.start]
        reason = (
            f"{label} vanished at frame {gone_at} (last seen at frame {last_seen}, "
            f"absent from the remaining {last.stop - last.start} checked frames)"
        )
        return Check(STAGE, CheckKind.VANISH, float(absent_for), float(clip.max_gap_frames), False, reason,
                     subject=label)
    return Check(STAGE, CheckKind.VANISH, float(absent_for), float(clip.max_gap_frames), True,
                 f"{label} stays in view (last seen at frame {last_seen})", subject=label)


# -- interactions ---------------------------------------------------------------------
